// Resource limits in the cgroup v2 subtree the system delegated to the user. Rootless, the kernel
// lets a user limit only inside a subtree whose files it owns: systemd gives one to a user service
// or scope started with Delegate=yes; a login shell's session-N.scope is root's. So a container with
// limits runs in a scope of its own: hull asks the user's systemd to move it into one (D-Bus, as
// podman does: systemd-scope.ts), unless it already runs alone in a delegated cgroup (a user
// service, `systemd-run --user --scope`). There, hull moves itself into a leaf (`supervisor`:
// the kernel lets a cgroup with processes in it hand no controller down) and makes the container's
// cgroup (`container`) beside it with the limits; the shim puts the container's first process in
// it before the command runs.
import { join } from "../sys/path";
import { deviceNumbers } from "../sys/device-numbers";
import { SysError } from "../sys/error";
import { accessible, close, mkdir, O_WRONLY, open, readFileText, W_OK, writeAll } from "../sys/libc";

const ROOT = "/sys/fs/cgroup";

/** What the user asked for, in docker's flags' units, already checked. */
export interface Limits {
  memory?: number;
  /** memory + swap, docker's --memory-swap; -1: unlimited swap */
  memorySwap?: number;
  memoryReservation?: number;
  /** --cpus, or --cpu-quota/--cpu-period */
  cpuQuota?: number;
  cpuPeriod?: number;
  cpuShares?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: number;
  blkioWeight?: number;
  /** io.max lines, "MAJ:MIN rbps=N wbps=N riops=N wiops=N", from --device-read-bps and friends */
  io?: string[];
  /** podman's --cgroup-conf: cgroup files by name, written last (memory.high has no docker flag) */
  unified?: Record<string, string>;
}

export type CgroupHost =
  | { ok: true; dir: string; controllers: string[]; delegated: boolean; alone: boolean }
  | { ok: false; reason: string; fix: string };

/** The cgroup v2 directory this process is in, and whether it may make limits there. */
export function cgroupHost(): CgroupHost {
  const mounts = readFileText("/proc/self/mountinfo") ?? "";
  const unified = mounts.split("\n").some((l) => {
    const [pre, post] = l.split(" - ");
    return pre?.split(" ")[4] === ROOT && post?.startsWith("cgroup2 ");
  });
  if (!unified) {
    return {
      ok: false,
      reason: "this host's cgroups are v1 (a hybrid or legacy layout), so no cgroup v2 subtree can be delegated to you",
      fix: "boot with systemd.unified_cgroup_hierarchy=1 (the default of Debian 11, Ubuntu 21.10, Fedora 31 and later)",
    };
  }
  const own = /^0::(\/.*)$/m.exec(readFileText("/proc/self/cgroup") ?? "")?.[1];
  if (own === undefined)
    return { ok: false, reason: "this process is in no cgroup v2 group", fix: "run hull under systemd's user manager" };
  const dir = join(ROOT, own);
  const controllers = (readFileText(join(dir, "cgroup.controllers")) ?? "").trim().split(/\s+/).filter(Boolean);
  const delegated =
    accessible(join(dir, "cgroup.procs"), W_OK) && accessible(join(dir, "cgroup.subtree_control"), W_OK);
  const procs = (readFileText(join(dir, "cgroup.procs")) ?? "").trim().split("\n").filter(Boolean);
  return { ok: true, dir, controllers, delegated, alone: procs.length === 1 && procs[0] === String(process.pid) };
}

/** The controller each limit needs. */
const NEEDS: Record<keyof Limits, string> = {
  memory: "memory",
  memorySwap: "memory",
  memoryReservation: "memory",
  cpuQuota: "cpu",
  cpuPeriod: "cpu",
  cpuShares: "cpu",
  cpusetCpus: "cpuset",
  cpusetMems: "cpuset",
  pidsLimit: "pids",
  blkioWeight: "io",
  io: "io",
  unified: "",
};

/** The cgroup files LIMITS write, with their values, as runc and crun convert docker's flags. */
export function limitFiles(l: Limits): Record<string, string> {
  const out: Record<string, string> = {};
  if (l.memory !== undefined) out["memory.max"] = String(l.memory);
  if (l.memorySwap !== undefined)
    out["memory.swap.max"] = l.memorySwap < 0 ? "max" : String(Math.max(0, l.memorySwap - (l.memory ?? 0)));
  if (l.memoryReservation !== undefined) out["memory.low"] = String(l.memoryReservation);
  if (l.cpuQuota !== undefined) out["cpu.max"] = `${l.cpuQuota} ${l.cpuPeriod ?? 100000}`;
  // docker's shares (2-262144, default 1024) onto cgroup v2's weight (1-10000, default 100)
  if (l.cpuShares !== undefined) out["cpu.weight"] = String(Math.round(1 + ((l.cpuShares - 2) * 9999) / 262142));
  if (l.cpusetCpus !== undefined) out["cpuset.cpus"] = l.cpusetCpus;
  if (l.cpusetMems !== undefined) out["cpuset.mems"] = l.cpusetMems;
  if (l.pidsLimit !== undefined) out["pids.max"] = l.pidsLimit <= 0 ? "max" : String(l.pidsLimit);
  // blkio weight (10-1000) onto io.weight (1-10000)
  if (l.blkioWeight !== undefined) out["io.weight"] = String(Math.round(1 + ((l.blkioWeight - 10) * 9999) / 990));
  // one line per device; the kernel reads one line a write (see writeLimit)
  if (l.io && l.io.length > 0) out["io.max"] = l.io.join("\n");
  Object.assign(out, l.unified);
  return out;
}

/** The controllers LIMITS need. */
export function neededControllers(l: Limits): string[] {
  const named = Object.keys(l.unified ?? {}).map((file) => file.split(".")[0] as string);
  return [...new Set([...Object.keys(l).map((k) => NEEDS[k as keyof Limits]), ...named])].filter(Boolean).sort();
}

/** the controllers a user may be delegated, whose files --cgroup-conf may name */
const CONF_CONTROLLERS = ["cpu", "cpuset", "io", "memory", "pids", "hugetlb", "rdma", "misc"];

/** --cgroup-conf KEY=VALUE lines: a controller's file (memory.high=268435456), never cgroup.* */
function cgroupConf(text: string | undefined): Record<string, string> | undefined {
  if (text === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const spec of text.split("\n")) {
    const eq = spec.indexOf("=");
    const [key, value] = [spec.slice(0, eq), spec.slice(eq + 1)];
    if (eq <= 0 || !/^[a-z]+\.[a-z0-9_.]+$/.test(key) || value === "")
      throw new Error(`--cgroup-conf takes FILE=VALUE (memory.high=256m), not ${spec}`);
    if (!CONF_CONTROLLERS.includes(key.split(".")[0] as string))
      throw new Error(
        `--cgroup-conf ${key}: only a controller's files (${CONF_CONTROLLERS.map((c) => `${c}.*`).join(", ")}) may be set`,
      );
    // memory files take docker's sizes too; the kernel checks the rest
    const size = key.startsWith("memory.") && value !== "max" ? parseSize(value) : undefined;
    out[key] = size !== undefined ? String(size) : value;
  }
  return out;
}

const SIZE = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)b?$/i;
const UNITS: Record<string, number> = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** Docker's sizes: 512, 64k, 256m, 1.5g (binary units); undefined for another text. */
export function parseSize(text: string): number | undefined {
  const m = SIZE.exec(text.trim());
  if (!m) return undefined;
  return Math.floor(Number(m[1]) * (UNITS[(m[2] as string).toLowerCase()] as number));
}

/** The fix to print when the host has cgroup v2 but hull may not write where it is. */
const DELEGATE_FIX =
  "run hull as a user with a systemd user manager (loginctl enable-linger $USER), or inside systemd-run --user --scope -p Delegate=yes";

/**
 * Move this process into a new scope of the user's systemd manager, delegated to the user, in SLICE
 * when given (systemd-scope.ts). DIR, where hull is now, is only for the error when no scope can be
 * had. After a kill -9 of hull, the scope goes with its last process (CollectMode).
 */
function moveToOwnScope(dir: string, slice?: string): void {
  const { userRuntimeDir } = require("./runtime-dir") as typeof import("./runtime-dir");
  const runtime = userRuntimeDir()?.dir ?? "";
  const socket = join(runtime, "systemd", "private");
  if (!runtime || !accessible(socket, W_OK))
    throw new Error(`resource limits need a cgroup v2 subtree delegated to you, and ${dir} is not: ${DELEGATE_FIX}`);
  const { moveIntoScope } = require("./systemd-scope") as typeof import("./systemd-scope");
  const tag = Buffer.from(crypto.getRandomValues(new Uint8Array(4))).toString("hex");
  moveIntoScope(socket, `hull-${process.pid}-${tag}.scope`, slice);
}

/** --cgroup-parent: a slice of the user's systemd manager, as rootless docker and podman take it. */
export function checkCgroupParent(parent: string): string {
  if (!/^[A-Za-z0-9:_.-]+\.slice$/.test(parent) || parent.startsWith("-") || parent.includes("--"))
    throw new Error(
      `--cgroup-parent takes a systemd slice (NAME.slice, a-b.slice nested in a.slice), as rootless docker and podman do, not ${parent}`,
    );
  return parent;
}

/**
 * The cgroup directory for a container with LIMITS, made with the limits written. When hull is not
 * alone in a delegated cgroup (or not in the slice PARENT names), it first moves into a scope of its
 * own; where that cannot be had, it throws with what is missing and the fix.
 */
export function placeContainer(limits: Limits, parent?: string): string {
  let host = cgroupHost();
  if (!host.ok) throw new Error(`resource limits need cgroup v2: ${host.reason}; ${host.fix}`);
  // systemd nests a-b.slice in a.slice: the slice hull runs in is the one above its scope
  if (!host.delegated || !host.alone || (parent !== undefined && host.dir.split("/").at(-2) !== parent)) {
    moveToOwnScope(host.dir, parent);
    host = cgroupHost();
    if (!host.ok || !host.delegated)
      throw new Error(`the scope systemd made for hull is not one hull may write: ${DELEGATE_FIX}`);
  }
  const missing = neededControllers(limits).filter((c) => !host.controllers.includes(c));
  if (missing.length > 0)
    throw new Error(
      `the ${missing.join(", ")} controller${missing.length > 1 ? "s are" : " is"} not delegated to you (${host.dir} has ${host.controllers.join(" ") || "none"}): add Delegate=cpu cpuset io memory pids to user@.service (systemctl edit user@.service)`,
    );
  // no processes where controllers are handed down: hull moves into a leaf of its own first
  mkdir(join(host.dir, "supervisor"), 0o755, true);
  writeCgroupFile(join(host.dir, "supervisor", "cgroup.procs"), String(process.pid));
  // every controller there is, not only those the limits need: stats reads memory and pids of a
  // container limited only in CPU, and update may add any limit later
  enableControllers(host.dir, host.controllers);
  const dir = join(host.dir, "container");
  mkdir(dir, 0o755, true);
  writeLimits(dir, limits);
  return dir;
}

/** docker's limit flags as given (strings), by Limits field. */
export type LimitFlags = Partial<Record<keyof Limits, string>>;

const FLAG_NAMES: Record<keyof Limits, string> = {
  memory: "--memory",
  memorySwap: "--memory-swap",
  memoryReservation: "--memory-reservation",
  cpuQuota: "--cpus",
  cpuPeriod: "--cpu-period",
  cpuShares: "--cpu-shares",
  cpusetCpus: "--cpuset-cpus",
  cpusetMems: "--cpuset-mems",
  pidsLimit: "--pids-limit",
  blkioWeight: "--blkio-weight",
  io: "--device-read-bps",
  unified: "--cgroup-conf",
};

/** --device-read-bps and friends, each "PATH:RATE" (newline-separated when given more than once) */
const IO_FLAGS = {
  deviceReadBps: ["--device-read-bps", "rbps"],
  deviceWriteBps: ["--device-write-bps", "wbps"],
  deviceReadIops: ["--device-read-iops", "riops"],
  deviceWriteIops: ["--device-write-iops", "wiops"],
} as const;

function ioLines(flags: Partial<Record<keyof typeof IO_FLAGS, string>>): string[] {
  const byDevice = new Map<string, string[]>();
  for (const [key, [flag, name]] of Object.entries(IO_FLAGS) as [keyof typeof IO_FLAGS, readonly [string, string]][]) {
    for (const spec of (flags[key] ?? "").split("\n").filter(Boolean)) {
      const colon = spec.lastIndexOf(":");
      const path = spec.slice(0, colon);
      const rateText = spec.slice(colon + 1);
      const rate = name.endsWith("bps") ? parseSize(rateText) : /^\d+$/.test(rateText) ? Number(rateText) : undefined;
      if (colon <= 0 || rate === undefined)
        throw new Error(
          `${flag} takes DEVICE:RATE (/dev/sda:1mb${name.endsWith("iops") ? ", or /dev/sda:100" : ""}), not ${spec}`,
        );
      let st: import("node:fs").Stats;
      try {
        st = (require("node:fs") as typeof import("node:fs")).statSync(path);
      } catch {
        throw new Error(`${flag} ${spec}: no such device ${path}`);
      }
      if (!st.isBlockDevice()) throw new Error(`${flag} ${spec}: ${path} is not a block device`);
      const { major, minor } = deviceNumbers(st.rdev);
      const dev = `${major}:${minor}`;
      byDevice.set(dev, [...(byDevice.get(dev) ?? []), `${name}=${rate}`]);
    }
  }
  return [...byDevice].map(([dev, keys]) => `${dev} ${keys.join(" ")}`);
}

/** FLAGS checked and converted as docker checks them; one error naming the flag otherwise. */
export function parseLimits(
  flags: LimitFlags & { cpus?: string; cpuQuota?: string; cgroupConf?: string } & Partial<
      Record<keyof typeof IO_FLAGS, string>
    >,
): Limits {
  const out: Limits = {};
  const io = ioLines(flags);
  if (io.length > 0) out.io = io;
  const unified = cgroupConf(flags.cgroupConf);
  if (unified) out.unified = unified;
  const size = (key: "memory" | "memorySwap" | "memoryReservation") => {
    const text = flags[key];
    if (text === undefined) return;
    if (key === "memorySwap" && text === "-1") {
      out.memorySwap = -1;
      return;
    }
    const n = parseSize(text);
    if (n === undefined) throw new Error(`${FLAG_NAMES[key]} takes a size (64m, 1g, 512k), not ${text}`);
    out[key] = n;
  };
  size("memory");
  size("memorySwap");
  size("memoryReservation");
  if (out.memory !== undefined && out.memory < 6 * 1024 * 1024)
    throw new Error("--memory must be at least 6m (docker's minimum)");
  if (out.memorySwap !== undefined && out.memorySwap >= 0) {
    if (out.memory === undefined) throw new Error("--memory-swap needs --memory (it is memory plus swap)");
    if (out.memorySwap < out.memory)
      throw new Error("--memory-swap must be at least --memory (it is memory plus swap)");
  }
  const int = (text: string | undefined, flag: string, min: number, max: number) => {
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!/^-?\d+$/.test(text) || n < min || n > max)
      throw new Error(`${flag} takes a whole number from ${min} to ${max}, not ${text}`);
    return n;
  };
  if (flags.cpus !== undefined) {
    const c = Number(flags.cpus);
    if (!/^\d+(\.\d+)?$/.test(flags.cpus) || c <= 0)
      throw new Error(`--cpus takes a number of CPUs above 0 (1.5), not ${flags.cpus}`);
    if (flags.cpuQuota !== undefined) throw new Error("--cpus and --cpu-quota conflict: give one");
    out.cpuQuota = Math.round(c * 100000);
    out.cpuPeriod = 100000;
  }
  const quota = int(flags.cpuQuota, "--cpu-quota", 1000, 1_000_000_000);
  if (quota !== undefined) out.cpuQuota = quota;
  const period = int(flags.cpuPeriod, "--cpu-period", 1000, 1_000_000);
  if (period !== undefined) {
    if (out.cpuQuota === undefined) throw new Error("--cpu-period needs --cpu-quota");
    if (flags.cpus === undefined) out.cpuPeriod = period;
  }
  const shares = int(flags.cpuShares, "--cpu-shares", 2, 262144);
  if (shares !== undefined) out.cpuShares = shares;
  for (const key of ["cpusetCpus", "cpusetMems"] as const) {
    const t = flags[key];
    if (t === undefined) continue;
    if (!/^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(t))
      throw new Error(`${FLAG_NAMES[key]} takes a list such as 0-3,5, not ${t}`);
    out[key] = t;
  }
  const pids = int(flags.pidsLimit, "--pids-limit", -1, 4_194_304);
  if (pids !== undefined) out.pidsLimit = pids;
  const weight = int(flags.blkioWeight, "--blkio-weight", 10, 1000);
  if (weight !== undefined) out.blkioWeight = weight;
  return out;
}

/** The cgroup directory of the process PID when it is a container's own (hull made it), else undefined. */
export function containerCgroup(pid: number): string | undefined {
  const own = /^0::(\/.*)$/m.exec(readFileText(`/proc/${pid}/cgroup`) ?? "")?.[1];
  return own?.endsWith("/container") ? join(ROOT, own) : undefined;
}

/** cgroup v2's freezer on DIR: every process stopped (or continued) at once, then waited for. */
export async function freeze(dir: string, frozen: boolean): Promise<void> {
  writeCgroupFile(join(dir, "cgroup.freeze"), frozen ? "1" : "0");
  const want = `frozen ${frozen ? 1 : 0}`;
  for (let i = 0; i < 500; i++) {
    if ((readFileText(join(dir, "cgroup.events")) ?? "").includes(want)) return;
    await Bun.sleep(2);
  }
  throw new Error(`the cgroup freezer did not ${frozen ? "freeze" : "thaw"} ${dir} within a second`);
}

/**
 * `hull exec` into a container with a cgroup of its own: this process moves into it (the command it
 * becomes, and its children, are then limited with the container). The kernel lets a process move
 * only within a subtree the user owns, and a login shell's scope is root's: then hull first moves
 * into a scope of its own, beside the container's, and from there into the container's cgroup.
 */
export function joinContainerCgroup(dir: string): void {
  for (let moved = false; ; moved = true) {
    try {
      writeKernelFile(join(dir, "cgroup.procs"), String(process.pid));
      return;
    } catch (e) {
      const code = (e as SysError).code;
      if (code === "ENOENT") throw new Error(`the container's cgroup ${dir} is gone: has it stopped?`);
      if ((code !== "EACCES" && code !== "EPERM") || moved) throw e;
      moveToOwnScope(dir);
    }
  }
}

/**
 * VALUE into the kernel's file FILE in one write(2), as the kernel reads a cgroup file; through libc,
 * not node:fs, which costs milliseconds to load on `hull run`'s path.
 */
function writeKernelFile(file: string, value: string): void {
  const fd = open(file, O_WRONLY);
  try {
    writeAll(fd, Buffer.from(value));
  } finally {
    close(fd);
  }
}

/** VALUE into the cgroup file FILE; the kernel's refusal as one line naming both. */
export function writeCgroupFile(file: string, value: string): void {
  try {
    writeKernelFile(file, value);
  } catch (e) {
    if (!(e instanceof SysError)) throw e;
    throw new Error(`cannot write ${value} to ${file}: ${e.code}`);
  }
}

/** LIMITS into the cgroup DIR: io.max a line a write, as the kernel reads it. */
export function writeLimits(dir: string, limits: Limits): void {
  for (const [file, value] of Object.entries(limitFiles(limits)))
    for (const line of value.split("\n")) writeCgroupFile(join(dir, file), line);
}

/** Hand CONTROLLERS down from DIR (which must hold no process) to its children, those not yet. */
export function enableControllers(dir: string, controllers: string[]): void {
  const enabled = (readFileText(join(dir, "cgroup.subtree_control")) ?? "").trim().split(/\s+/);
  const more = controllers.filter((c) => !enabled.includes(c));
  if (more.length > 0) writeCgroupFile(join(dir, "cgroup.subtree_control"), more.map((c) => `+${c}`).join(" "));
}
