// What this host offers hull, each with the command that fixes a missing piece. Used by `hull doctor`.
import { accessSync, chmodSync, constants, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { accessible, W_OK } from "../sys/libc";
import { cgroupHost } from "./cgroup";
import { findRange, hostIdMapping } from "./idmap";
import { findProgram } from "./programs";
import { userName } from "./whoami";
import { shimFd } from "./shim";

export interface Check {
  name: string;
  ok: boolean;
  /** required checks make `hull doctor` exit non-zero */
  required: boolean;
  detail: string;
  fix?: string;
}

const read = (p: string): string | undefined => {
  try {
    return readFileSync(p, "utf8").trim();
  } catch {
    return undefined;
  }
};

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
    return {
      name: "user namespaces",
      ok: false,
      required: true,
      detail: "AppArmor restricts unprivileged user namespaces",
      fix: "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0 (or an AppArmor profile for hull)",
    };
  }
  return { name: "user namespaces", ok: true, required: true, detail: `allowed (max ${max})` };
}

async function subordinateIds(): Promise<Check[]> {
  const name = userName();
  const uid = process.getuid?.() ?? 0;
  const ur = findRange(read("/etc/subuid") ?? "", name, uid);
  const gr = findRange(read("/etc/subgid") ?? "", name, uid);
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
  const runtime = process.env.XDG_RUNTIME_DIR ?? "";
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

export async function hostChecks(storeTmp: string): Promise<Check[]> {
  return [userNamespaces(), ...(await subordinateIds()), await kernelOverlay(storeTmp), fuse(), cgroups(), network()];
}
