// Docker's -u: "uid", "name", "uid:gid", "name:group", resolved against the image's /etc/passwd and
// /etc/group; supplementary groups come from /etc/group as well.
import { SysError } from "../sys/error";
import { readFileInRoot } from "../sys/libc";

export interface ResolvedUser {
  uid: number;
  gid: number;
  groups: number[];
  home: string;
}

/** The most of /etc/passwd or /etc/group hull will read: far above any real one. */
const MAX_ID_FILE = 4 * 1024 * 1024;

/**
 * PATH as the container will see it: from the topmost layer that has anything there. Each layer is
 * read as its own root (links in it resolve inside it, never on the host): an image is not trusted
 * to keep its /etc/passwd a file, nor its links pointing inside.
 */
function readIn(layers: string[], path: string): string {
  for (const dir of layers) {
    let text: string | undefined;
    try {
      text = readFileInRoot(dir, path, MAX_ID_FILE);
    } catch (e) {
      // something that is not a readable file, such as an overlay whiteout (a 0:0 device): it hides
      // the path in every lower layer
      if (e instanceof SysError) return "";
      throw e;
    }
    if (text !== undefined) return text;
  }
  return "";
}

const isId = (s: string) => /^\d+$/.test(s);

/** LAYERS: unpacked layer directories, topmost first. */
export function resolveUser(spec: string, layers: string[]): ResolvedUser {
  const [userPart = "", groupPart] = spec === "" ? ["0"] : spec.split(":");
  const passwd = readIn(layers, "etc/passwd")
    .split("\n")
    .map((l) => l.split(":"));
  const group = readIn(layers, "etc/group")
    .split("\n")
    .map((l) => l.split(":"));
  const entry = passwd.find((f) => f.length >= 7 && (f[0] === userPart || (isId(userPart) && f[2] === userPart)));
  let uid: number;
  if (isId(userPart)) uid = Number(userPart);
  else if (entry) uid = Number(entry[2]);
  else throw new Error(`unable to find user ${userPart}: no matching entries in the image's /etc/passwd`);
  let gid = entry ? Number(entry[3]) : 0;
  if (groupPart !== undefined) {
    if (isId(groupPart)) gid = Number(groupPart);
    else {
      const g = group.find((f) => f[0] === groupPart);
      if (!g) throw new Error(`unable to find group ${groupPart}: no matching entries in the image's /etc/group`);
      gid = Number(g[2]);
    }
  }
  const name = entry?.[0];
  const groups =
    groupPart === undefined && name
      ? group.filter((f) => (f[3] ?? "").split(",").includes(name)).map((f) => Number(f[2]))
      : [];
  const all = [...new Set([gid, ...groups])].filter((g) => Number.isInteger(g));
  return { uid, gid, groups: all, home: entry?.[5] || "/" };
}

/** docker's --group-add: group names (from the image's /etc/group) or numbers, as gids. */
export function resolveGroups(names: string[], layers: string[]): number[] {
  if (names.length === 0) return [];
  const group = readIn(layers, "etc/group")
    .split("\n")
    .map((l) => l.split(":"));
  return names.map((n) => {
    if (n === "keep-groups")
      throw new Error(
        "--group-add keep-groups is podman's with crun (your host groups, unmapped): give the groups the container needs by name or number",
      );
    if (isId(n)) {
      if (Number(n) > 4294967294) throw new Error(`--group-add ${n}: not a group id`);
      return Number(n);
    }
    const g = group.find((f) => f[0] === n && f.length >= 3 && isId(f[2] ?? ""));
    if (!g) throw new Error(`--group-add ${n}: no such group in the image's /etc/group (give its number)`);
    return Number(g[2]);
  });
}
