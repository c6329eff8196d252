// --userns: which host ids stand behind the container's. The default ("host", rootless podman's
// meaning) puts the caller at container root and the subordinate range at 1... keep-id swaps two
// ids of that map: the caller's uid U is U inside too, and the subordinate id that stood behind U
// stands behind root. Layers on disk were written under the default map, so seen through the swapped
// map root's files would show as U's and U's as root's; fuse-overlayfs's uidmapping swaps the two
// back in its view. Only the view moves: no file is chowned, and a stopped container's layers read
// the same under the default map as before (the store never holds a second, shifted copy).
import * as v from "valibot";
import { lazily } from "../sys/lazy-schema";
import type { IdMapping, IdRange } from "./idmap";

export type UsernsMode = { kind: "host" } | { kind: "keep-id"; uid?: number; gid?: number };

const KeepIdOption = lazily(() => v.pipe(v.string(), v.regex(/^(uid|gid)=\d{1,9}$/, "keep-id takes uid=N and gid=N")));

/** The value of --userns; refuses the modes hull cannot give, with the reason. */
export function parseUserns(text: string | undefined): UsernsMode {
  if (text === undefined || text === "" || text === "host") return { kind: "host" };
  if (text === "keep-id" || text.startsWith("keep-id:")) {
    const mode: UsernsMode = { kind: "keep-id" };
    const opts = text === "keep-id" ? [] : text.slice("keep-id:".length).split(",");
    for (const o of opts) {
      const r = v.safeParse(KeepIdOption, o);
      if (!r.success) throw new Error(`--userns=${text}: ${r.issues[0].message}, not ${o}`);
      const [key, value] = o.split("=") as ["uid" | "gid", string];
      mode[key] = Number(value);
    }
    return mode;
  }
  const why: Record<string, string> = {
    auto: "it needs a subordinate range per container, and an account has one range: use keep-id or host",
    nomap: "hull always maps the caller's id: use keep-id or host",
    private: "every hull container has a user namespace of its own already: drop the flag",
  };
  const word = text.split(":")[0] as string;
  if (why[word]) throw new Error(`--userns=${text} is not supported: ${why[word]}`);
  if (word === "ns" || word === "container")
    throw new Error(`--userns=${text} is not supported yet: joining another user namespace needs the OCI runtime work`);
  throw new Error(`--userns takes host or keep-id[:uid=N,gid=N], not ${text}`);
}

/** container ids -> host ids with INSIDE and 0 swapped, as newuidmap takes it after the pid */
function swappedMap(host: number, sub: IdRange, size: number, inside: number): string {
  const parts = [`0 ${sub.start + inside - 1} 1`];
  if (inside > 1) parts.push(`1 ${sub.start} ${inside - 1}`);
  parts.push(`${inside} ${host} 1`);
  if (size - 1 - inside > 0) parts.push(`${inside + 1} ${sub.start + inside} ${size - 1 - inside}`);
  return parts.join(" ");
}

/** fuse-overlayfs's view: ids 0 and INSIDE swapped, every other id as it is */
function swappedView(size: number, inside: number): string {
  const parts = [`0:${inside}:1`, `${inside}:0:1`];
  if (inside > 1) parts.push(`1:1:${inside - 1}`);
  if (size - 1 - inside > 0) parts.push(`${inside + 1}:${inside + 1}:${size - 1 - inside}`);
  return parts.join(":");
}

export interface KeepId {
  ids: IdMapping;
  /** options for fuse-overlayfs's -o that undo the swap for the image's files ("" when nothing moved) */
  fuseOptions: string;
  uid: number;
  gid: number;
}

/** The keep-id mapping of IDS: the caller's uid and gid (or MODE's) seen as themselves inside. */
export function keepIdMapping(ids: IdMapping, mode: { uid?: number; gid?: number }): KeepId {
  const uid = mode.uid ?? ids.hostUid;
  const gid = mode.gid ?? ids.hostGid;
  if (!ids.subUid || !ids.subGid)
    throw new Error(
      `--userns=keep-id needs subordinate ids (${ids.fallbackReason ?? "none"}): install uidmap and add a range to /etc/subuid and /etc/subgid (see hull doctor)`,
    );
  for (const [what, id] of [
    ["uid", uid],
    ["gid", gid],
  ] as const) {
    if (id >= ids.size)
      throw new Error(
        `--userns=keep-id: ${what} ${id} lies outside the container's ids (0-${ids.size - 1}); give keep-id:${what}=N with a smaller N`,
      );
  }
  if (uid === 0 && gid === 0) return { ids, fuseOptions: "", uid, gid };
  const options: string[] = [];
  const next = { ...ids };
  if (uid !== 0) {
    next.uidMap = swappedMap(ids.hostUid, ids.subUid, ids.size, uid);
    options.push(`uidmapping=${swappedView(ids.size, uid)}`);
  }
  if (gid !== 0) {
    next.gidMap = swappedMap(ids.hostGid, ids.subGid, ids.size, gid);
    options.push(`gidmapping=${swappedView(ids.size, gid)}`);
  }
  return { ids: next, fuseOptions: options.join(","), uid, gid };
}

/** OVERLAY without keep-id's id swap: the options to mount a container's layers under the default map. */
export function withoutIdSwap(overlay: string): string {
  return overlay
    .split(",")
    .filter((o) => !o.startsWith("uidmapping=") && !o.startsWith("gidmapping="))
    .join(",");
}
