// What this host offers hull, each with the command that fixes a missing piece. Used by `hull doctor`.
import { accessSync, chmodSync, constants, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "../sys/path";
import { accessible, W_OK } from "../sys/libc";
import { cgroupHost } from "./cgroup";
import { findRange, hostIdMapping, subIdFile } from "./idmap";
import { findProgram } from "./programs";
import { userName } from "./whoami";
import { CONTROL_CHARS } from "../sys/control-chars";
import { privateRuntimeDir, userRuntimeDir } from "./runtime-dir";
import { shimFd } from "./shim";

export interface Check {
  name: string;
  ok: boolean;
  /** required checks make `hull doctor` exit non-zero */
  required: boolean;
  detail: string;
  fix?: string;
}

/**
 * /proc, or HULL_TEST_PROC: a test's stand-in with the files the checks read (sys/..., self/mountinfo,
 * self/attr/current), so each host shape (AppArmor's restriction, a store on NFS) is reproduced
 * without the host having it.
 */
const proc = (p: string) => (process.env.HULL_TEST_PROC ? join(process.env.HULL_TEST_PROC, p.slice(6)) : p);

const read = (p: string): string | undefined => {
  try {
    return readFileSync(p.startsWith("/proc/") ? proc(p) : p, "utf8").trim();
  } catch {
    return undefined;
  }
};

/**
 * Ubuntu 23.10+'s restriction lifts for programs an AppArmor profile names with the userns rule; an
 * unconfined-mode profile keeps its label across hull's exec of its shim (from a memfd, which
 * attaches no profile of its own), so naming hull's own executable is enough.
 */
export function apparmorProfile(executable = process.execPath): string {
  // a path is text of the profile: a line break in it would add rules, and AppArmor reads * ? [ ] { }
  // ^ as globs even in quotes, so they are escaped (else the rule would name other programs too)
  if (CONTROL_CHARS.test(executable))
    throw new Error(
      `hull's path holds a control character (${JSON.stringify(executable)}): move it to a plain path first`,
    );
  const quoted = `"${executable.replace(/[\\*?[\]{}^",]/g, (c) => `\\${c}`)}"`;
  return `# hull's AppArmor profile: lets the hull at ${quoted} make user namespaces under
# kernel.apparmor_restrict_unprivileged_userns=1 (Ubuntu 23.10 and later), as the profiles Ubuntu
# ships for podman, bwrap and buildah do. It confines nothing else.
abi <abi/4.0>,
include <tunables/global>

profile hull ${quoted} flags=(unconfined) {
  userns,

  include if exists <local/hull>
}
`;
}

/** The two commands that install the profile for this executable. */
export const APPARMOR_FIX =
  "hull doctor --apparmor-profile | sudo tee /etc/apparmor.d/hull && sudo apparmor_parser -r /etc/apparmor.d/hull";

function userNamespaces(): Check {
  const max = Number(read("/proc/sys/user/max_user_namespaces") ?? "1");
  const clone = read("/proc/sys/kernel/unprivileged_userns_clone");
  const apparmor = read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns");
  if (max === 0) {
    return {
      name: "user namespaces",
      ok: false,
      required: true,
      detail: "user.max_user_namespaces is 0",
      fix: "sudo sysctl -w user.max_user_namespaces=15000",
    };
  }
  if (clone === "0") {
    return {
      name: "user namespaces",
      ok: false,
      required: true,
      detail: "kernel.unprivileged_userns_clone is 0",
      fix: "sudo sysctl -w kernel.unprivileged_userns_clone=1",
    };
  }
  if (apparmor === "1") {
    // the label this process runs under: "hull (unconfined)" once the profile is loaded
    const label = read("/proc/self/attr/apparmor/current") ?? read("/proc/self/attr/current") ?? "";
    if (/^hull(\s|$)/.test(label))
      return {
        name: "user namespaces",
        ok: true,
        required: true,
        detail: `AppArmor restricts unprivileged user namespaces, and hull runs under its profile (${label})`,
      };
    return {
      name: "user namespaces",
      ok: false,
      required: true,
      detail: `AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns=1) and no profile lets ${process.execPath} make them`,
      fix: `${APPARMOR_FIX} (or, for every program: sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0)`,
    };
  }
  return { name: "user namespaces", ok: true, required: true, detail: `allowed (max ${max})` };
}

async function subordinateIds(): Promise<Check[]> {
  const name = userName();
  const uid = process.getuid?.() ?? 0;
  const ur = findRange(read(subIdFile("subuid")) ?? "", name, uid);
  const gr = findRange(read(subIdFile("subgid")) ?? "", name, uid);
  const helpers = ["newuidmap", "newgidmap"].map((p) => findProgram(p));
  const ids = hostIdMapping();
  return [
    ur && gr
      ? {
          name: "subordinate ids",
          ok: true,
          required: false,
          detail: `uids ${ur.start}+${ur.count}, gids ${gr.start}+${gr.count}`,
        }
      : {
          name: "subordinate ids",
          ok: false,
          required: false,
          detail: `no entry for ${name} in /etc/subuid or /etc/subgid: containers get a single id (root)`,
          fix: `sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${name}`,
        },
    helpers.every(Boolean)
      ? { name: "newuidmap/newgidmap", ok: true, required: false, detail: helpers.join(", ") }
      : {
          name: "newuidmap/newgidmap",
          ok: false,
          required: false,
          detail: "not installed: single-id map only",
          fix: "sudo apt-get install uidmap",
        },
    {
      name: "container ids",
      ok: ids.size > 1,
      required: false,
      detail: ids.size > 1 ? `0-${ids.size - 1} mapped` : `only 0 mapped (${ids.fallbackReason})`,
    },
  ];
}

async function kernelOverlay(tmpRoot: string): Promise<Check> {
  mkdirSync(tmpRoot, { recursive: true });
  const dir = mkdtempSync(join(tmpRoot, "probe-"));
  try {
    const dirs = ["lower", "upper", "work", "merged"].map((d) => join(dir, d));
    for (const d of dirs) mkdirSync(d);
    const fd = await shimFd(false);
    const r = Bun.spawnSync([`/proc/${process.pid}/fd/${fd}`, "probe", "overlay", ...dirs]);
    const ok = r.exitCode === 0;
    return ok
      ? { name: "kernel overlay in userns", ok, required: false, detail: `works on ${tmpRoot}` }
      : {
          name: "kernel overlay in userns",
          ok,
          required: false,
          detail: `refused on ${tmpRoot} (exit ${r.exitCode}): hull falls back to fuse-overlayfs`,
          fix: "use a kernel >= 5.11 and a store on ext4/xfs/btrfs, or install fuse-overlayfs",
        };
  } finally {
    // the kernel leaves work/work with mode 000
    try {
      chmodSync(join(dir, "work", "work"), 0o700);
    } catch {}
    rmSync(dir, { recursive: true, force: true });
  }
}

function fuse(): Check {
  const prog = findProgram("fuse-overlayfs");
  let devOk = true;
  try {
    accessSync("/dev/fuse", constants.R_OK | constants.W_OK);
  } catch {
    devOk = false;
  }
  if (!prog)
    return {
      name: "fuse-overlayfs",
      ok: false,
      required: false,
      detail: "not installed (fallback overlay)",
      fix: "sudo apt-get install fuse-overlayfs",
    };
  if (!devOk)
    return {
      name: "fuse-overlayfs",
      ok: false,
      required: false,
      detail: `${prog}, but /dev/fuse is not usable`,
      fix: "sudo chmod 0666 /dev/fuse",
    };
  return { name: "fuse-overlayfs", ok: true, required: false, detail: `${prog}, /dev/fuse usable` };
}

function cgroups(): Check {
  const name = "cgroup v2 limits";
  const host = cgroupHost();
  if (!host.ok)
    return {
      name,
      ok: false,
      required: false,
      detail: `--memory/--cpus/--pids-limit unavailable: ${host.reason}`,
      fix: host.fix,
    };
  if (host.delegated)
    return {
      name,
      ok: true,
      required: false,
      detail: `${host.dir} is yours (${host.controllers.join(" ") || "no controllers"})`,
    };
  // the socket hull asks for a scope on (systemd-scope.ts); no program is needed
  const runtime = userRuntimeDir()?.dir ?? "";
  const manager = runtime !== "" && accessible(join(runtime, "systemd", "private"), W_OK);
  return manager
    ? {
        name,
        ok: true,
        required: false,
        detail: `a limited container runs in a delegated scope from your systemd (${host.dir} is not yours)`,
      }
    : {
        name,
        ok: false,
        required: false,
        detail: `${host.dir} is not delegated to you, and no systemd user manager is there to give a scope`,
        fix: "loginctl enable-linger $USER, and Delegate=cpu cpuset io memory pids for user@.service",
      };
}

function network(): Check {
  // as src/network/mode.ts finds them: on PATH, pasta first
  const pasta = findProgram("pasta", true);
  const slirp = findProgram("slirp4netns", true);
  if (pasta)
    return {
      name: "rootless networking",
      ok: true,
      required: false,
      detail: `pasta (${pasta}): the default network, -p, and the way out of user networks`,
    };
  if (slirp)
    return {
      name: "rootless networking",
      ok: true,
      required: false,
      detail: `slirp4netns (${slirp}), as there is no pasta: the default network and -p, slower, and without the clients' addresses`,
      fix: "sudo apt-get install passt (Fedora: sudo dnf install passt)",
    };
  return {
    name: "rootless networking",
    ok: false,
    required: false,
    detail:
      "neither pasta nor slirp4netns on PATH: containers get --network none by default, -p is refused, and containers on user networks reach only their peers",
    fix: "sudo apt-get install passt (Fedora: sudo dnf install passt)",
  };
}

function runtimeDirectory(): Check {
  const name = "runtime directory";
  try {
    const r = privateRuntimeDir();
    if (r.from === "XDG_RUNTIME_DIR") return { name, ok: true, required: false, detail: `${r.dir} (XDG_RUNTIME_DIR)` };
    return {
      name,
      // unset (a CI job, a container): the private fallback serves; set to another's: worth fixing
      ok: process.env.XDG_RUNTIME_DIR === undefined || process.env.XDG_RUNTIME_DIR === "",
      required: false,
      detail: `${r.dir}, as ${r.passedOver}`,
      fix: "log in as this user (ssh, or machinectl shell USER@), not su/sudo, to get a systemd session and its runtime directory",
    };
  } catch (e) {
    return { name, ok: false, required: false, detail: (e as Error).message };
  }
}

/** File systems the kernel's overlay cannot take as an upper directory, or that lose ownership. */
const NO_OVERLAY = new Set(["nfs", "nfs4", "cifs", "smb3", "9p", "fuse.sshfs", "ceph", "lustre", "gpfs", "afs"]);

/** The file system PATH is on, from mountinfo: the longest mount point above it. */
export function fileSystemOf(path: string): { type: string; mountPoint: string } | undefined {
  let best: { type: string; mountPoint: string } | undefined;
  for (const line of (read("/proc/self/mountinfo") ?? "").split("\n")) {
    const fields = line.split(" ");
    const dash = fields.indexOf("-");
    const mp = (fields[4] ?? "").replace(/\\(\d{3})/g, (_, o) => String.fromCharCode(Number.parseInt(o, 8)));
    const type = fields[dash + 1];
    if (dash < 0 || !type) continue;
    const under = mp === "/" || path === mp || path.startsWith(`${mp}/`);
    if (under && (!best || mp.length >= best.mountPoint.length)) best = { type, mountPoint: mp };
  }
  return best;
}

function storeFileSystem(storeRoot: string): Check {
  const name = "store file system";
  const fs = fileSystemOf(storeRoot);
  if (!fs) return { name, ok: false, required: false, detail: `cannot tell which file system ${storeRoot} is on` };
  if (NO_OVERLAY.has(fs.type))
    return {
      name,
      ok: false,
      required: false,
      detail: `${storeRoot} is on ${fs.type} (${fs.mountPoint}), where the kernel's overlay cannot write and file owners may not hold: only fuse-overlayfs can run containers there, slowly`,
      fix: "put the store on a local disk: hull --root DIR, HULL_ROOT, or storage.root in the config file (docs/config.md)",
    };
  return { name, ok: true, required: false, detail: `${storeRoot} is on ${fs.type}` };
}

export async function hostChecks(storeRoot: string, storeTmp: string): Promise<Check[]> {
  return [
    userNamespaces(),
    ...(await subordinateIds()),
    storeFileSystem(storeRoot),
    await kernelOverlay(storeTmp),
    fuse(),
    cgroups(),
    network(),
    runtimeDirectory(),
  ];
}
