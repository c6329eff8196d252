// An OCI bundle as the shim's setup message: the same core `hull run` drives, with the bundle's
// namespaces, maps, mounts, process and security in place of an image's and hull's defaults.
import { statSync } from "node:fs";
import { isAbsolute, resolve } from "../sys/path";
import * as v from "valibot";
import {
  ABI,
  CLONE_NEWIPC,
  CLONE_NEWNET,
  CLONE_NEWNS,
  CLONE_NEWPID,
  CLONE_NEWUTS,
  MS_BIND,
  MS_NODEV,
  MS_NOEXEC,
  MS_NOSUID,
  MS_RDONLY,
  MS_REC,
  MS_STRICTATIME,
} from "../runtime/abi";
import { CAPABILITIES, type Capability } from "../runtime/capabilities";
import type { HookSpec, ProcessSpec, ShimSpec } from "../runtime/message";
import { DEVICES, type Step, step } from "../runtime/plan";
import { findProgram } from "../runtime/programs";
import { accessible, R_OK, readFileText, W_OK } from "../sys/libc";
import { deviceNumbers } from "../sys/device-numbers";
import { RESOURCES } from "../runtime/ulimits";
import type { Limits } from "../runtime/cgroup";
import { jsonPath, type OciConfig, type OciIdMap, type OciMount, type OciProcess } from "./config";
import { OCI_VERSION } from "./state";

// mount(8)'s flag words; the others go to the file system as its data
const MS_SYNCHRONOUS = 16;
const MS_MANDLOCK = 64;
const MS_DIRSYNC = 128;
const MS_NOATIME = 1024;
const MS_NODIRATIME = 2048;
const MS_RELATIME = 1 << 21;
export const FLAG_WORDS: Record<string, { set?: number; clear?: number }> = {
  ro: { set: MS_RDONLY },
  rw: { clear: MS_RDONLY },
  nosuid: { set: MS_NOSUID },
  suid: { clear: MS_NOSUID },
  nodev: { set: MS_NODEV },
  dev: { clear: MS_NODEV },
  noexec: { set: MS_NOEXEC },
  exec: { clear: MS_NOEXEC },
  sync: { set: MS_SYNCHRONOUS },
  async: { clear: MS_SYNCHRONOUS },
  dirsync: { set: MS_DIRSYNC },
  mand: { set: MS_MANDLOCK },
  nomand: { clear: MS_MANDLOCK },
  noatime: { set: MS_NOATIME },
  atime: { clear: MS_NOATIME },
  nodiratime: { set: MS_NODIRATIME },
  diratime: { clear: MS_NODIRATIME },
  relatime: { set: MS_RELATIME },
  norelatime: { clear: MS_RELATIME },
  strictatime: { set: MS_STRICTATIME },
  nostrictatime: { clear: MS_STRICTATIME },
  bind: { set: MS_BIND },
  rbind: { set: MS_BIND | MS_REC },
};

const MS_UNBINDABLE = 1 << 17;
const MS_PRIVATE = 1 << 18;
const MS_SLAVE = 1 << 19;
const MS_SHARED = 1 << 20;
/** a mount's propagation (and the rootfs's): the flags of a mount(2) that changes it */
export const PROPAGATION: Record<string, number> = {
  private: MS_PRIVATE,
  rprivate: MS_PRIVATE | MS_REC,
  shared: MS_SHARED,
  rshared: MS_SHARED | MS_REC,
  slave: MS_SLAVE,
  rslave: MS_SLAVE | MS_REC,
  unbindable: MS_UNBINDABLE,
  runbindable: MS_UNBINDABLE | MS_REC,
};

export interface BundleRun {
  /** the bundle directory (absolute) and the state directory of the container */
  bundle: string;
  stateDir: string;
  detach: boolean;
  /** create: the FIFO the container waits on before its command */
  startFifo?: string;
  consoleSocket?: string;
  pidFile?: string;
  /** --systemd-cgroup: linux.cgroupsPath is "SLICE:PREFIX:NAME" */
  systemdCgroup?: boolean;
  id: string;
}

const where = (path: string, why: string): never => {
  throw new Error(`config.json: ${path}: ${why}`);
};

/** "0 1000 1 1 100000 65536" from a bundle's mappings; the single caller's own id needs no newuidmap */
function mapText(maps: OciIdMap[] | undefined, own: number): { map: string; single: boolean } {
  if (!maps || maps.length === 0) return { map: `0 ${own} 1`, single: true };
  const map = maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}`).join(" ");
  const single = maps.length === 1 && maps[0]?.hostID === own && maps[0]?.size === 1;
  return { map, single };
}

function capBits(names: string[] | undefined, path: string): bigint {
  let mask = 0n;
  (names ?? []).forEach((n, i) => {
    const at = CAPABILITIES.indexOf(n as Capability);
    if (at < 0) where(`${path}[${i}]`, `unknown capability ${JSON.stringify(n)} (see capabilities(7))`);
    mask |= 1n << BigInt(at);
  });
  return mask;
}

/**
 * One of the bundle's mounts as a step, or where in config.json it is wrong. OWNED: the namespaces
 * the container's user namespace owns (made with it, or any when it has none of its own).
 */
function mountSteps(m: OciMount, i: number, bundle: string, owned: Set<string>, ns: Set<string>): Step[] {
  let propagation = 0;
  for (const o of m.options ?? []) propagation = PROPAGATION[o] ?? propagation;
  const made = mountStep(m, i, bundle, owned, ns);
  // the kernel takes a propagation change only on its own, once the mount is there
  return propagation ? [made, step(ABI.HULL_STEP_PROPAGATION, propagation, "", m.destination)] : [made];
}

function mountStep(m: OciMount, i: number, bundle: string, owned: Set<string>, ns: Set<string>): Step {
  let flags = 0;
  let copyUp = false;
  const data: string[] = [];
  for (const o of m.options ?? []) {
    const word = FLAG_WORDS[o];
    if (word) {
      flags = (flags | (word.set ?? 0)) & ~(word.clear ?? 0);
      continue;
    }
    if (o === "tmpcopyup") copyUp = true;
    else if (PROPAGATION[o] === undefined) data.push(o);
  }
  const type = m.type ?? "";
  if (type === "bind") flags |= MS_BIND;
  const dst = m.destination;
  if (copyUp && type !== "tmpfs") where(`mounts[${i}].options`, "tmpcopyup is for a tmpfs");
  if (flags & MS_BIND) {
    // the kernel takes no data on a bind: a word hull does not know there would be dropped, and an
    // `rro` or a typo of `ro` leave the mount writable
    if (data.length > 0)
      where(
        `mounts[${i}].options`,
        `${data[0]}: not an option hull carries out on a bind mount (recursive rro, rnosuid... are not supported yet)`,
      );
    const src = m.source ?? where(`mounts[${i}].source`, "a bind mount needs a source");
    const abs = isAbsolute(src) ? src : resolve(bundle, src);
    return step(ABI.HULL_STEP_MOUNT, flags, abs, dst);
  }
  // what a user namespace may not mount without a namespace of its own, the host's is bound instead
  // (read-only), as rootless crun and podman do: sysfs needs the network namespace, mqueue the IPC one
  if (type === "sysfs" && !owned.has("network"))
    return step(ABI.HULL_STEP_MOUNT, MS_BIND | MS_REC | MS_RDONLY, "/sys", dst);
  if (type === "mqueue" && !owned.has("ipc"))
    return step(ABI.HULL_STEP_MOUNT, MS_BIND | MS_REC | (flags & MS_RDONLY), "/dev/mqueue", dst);
  if (type === "cgroup" || type === "cgroup2") {
    // cgroup v2 with a namespace of the container's own: its own view; else the host's, read-only
    // host.ts loaded only for a bundle that asks for a cgroup namespace
    const v2 = () =>
      (require("../runtime/host") as typeof import("../runtime/host")).fileSystemOf("/sys/fs/cgroup")?.type ===
      "cgroup2";
    if (ns.has("cgroup") && v2()) return step(ABI.HULL_STEP_MOUNT, flags, "cgroup2", dst, "cgroup2", data.join(","));
    return step(ABI.HULL_STEP_MOUNT, MS_BIND | MS_REC | MS_RDONLY, "/sys/fs/cgroup", dst);
  }
  if (!type) where(`mounts[${i}].type`, "a mount that is not a bind needs a type");
  return step(
    copyUp ? ABI.HULL_STEP_TMPCOPYUP : ABI.HULL_STEP_MOUNT,
    flags,
    m.source ?? type,
    dst,
    type,
    data.join(","),
  );
}

/** CAP_SYS_ADMIN in this process's user namespace: root of one (podman's), or real root. */
function mayAdminister(): boolean {
  const eff = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileText("/proc/self/status") ?? "")?.[1];
  return eff !== undefined && ((BigInt(`0x${eff}`) >> 21n) & 1n) === 1n;
}

/** setgroups(2) is allowed in this process's user namespace (`unshare -U` denies it for good). */
function setgroupsAllowed(): boolean {
  return (readFileText("/proc/self/setgroups") ?? "allow").trim() === "allow";
}

/** The bundle's linux.devices: the host's node of the same path, type and numbers, bound in. */
function deviceSteps(c: OciConfig): Step[] {
  return (c.linux?.devices ?? []).map((d, i) => {
    let st: ReturnType<typeof statSync> | undefined;
    try {
      st = statSync(d.path);
    } catch {}
    const kind = d.type === "b" ? st?.isBlockDevice() : d.type === "p" ? st?.isFIFO() : st?.isCharacterDevice();
    const { major, minor } = deviceNumbers(st?.rdev ?? 0);
    if (!st || !kind || (d.major !== undefined && major !== d.major) || (d.minor !== undefined && minor !== d.minor))
      where(
        `linux.devices[${i}]`,
        `${d.path}: a user namespace cannot make device nodes; hull binds the host's, and there is none of that type and number`,
      );
    if (!accessible(d.path, R_OK | W_OK))
      where(`linux.devices[${i}]`, `${d.path}: you cannot open it for reading and writing (ls -l ${d.path})`);
    return step(ABI.HULL_STEP_MOUNT, MS_BIND, d.path, d.path);
  });
}

/** /dev as runtime-spec says a runtime fills it: its default devices and links, when /dev is a tmpfs of the bundle's. */
function defaultDev(mounts: OciMount[]): Step[] {
  if (!mounts.some((m) => m.destination === "/dev" && m.type === "tmpfs")) return [];
  const taken = new Set(mounts.map((m) => m.destination));
  const out: Step[] = DEVICES.filter((d) => !taken.has(`/dev/${d}`)).map((d) =>
    step(ABI.HULL_STEP_MOUNT, MS_BIND, `/dev/${d}`, `/dev/${d}`),
  );
  const link = (target: string, dst: string) => {
    if (!taken.has(dst)) out.push(step(ABI.HULL_STEP_SYMLINK, 0, target, dst));
  };
  if (taken.has("/dev/pts")) link("pts/ptmx", "/dev/ptmx");
  link("/proc/self/fd", "/dev/fd");
  link("/proc/self/fd/0", "/dev/stdin");
  link("/proc/self/fd/1", "/dev/stdout");
  link("/proc/self/fd/2", "/dev/stderr");
  link("/proc/kcore", "/dev/core");
  return out;
}

async function seccompProgram(c: OciConfig, bounding: bigint): Promise<string | undefined> {
  const raw = c.linux?.seccomp;
  if (!raw) return undefined;
  for (const field of ["listenerPath", "listenerMetadata", "flags"] as const) {
    const value = (raw as Record<string, unknown>)[field];
    if (value !== undefined && value !== "" && !(Array.isArray(value) && value.length === 0))
      where(`linux.seccomp.${field}`, "not supported by hull (refused rather than ignored)");
  }
  const { compileSeccomp, SeccompProfileSchema } = await import("../runtime/seccomp");
  const r = v.safeParse(SeccompProfileSchema, raw);
  if (!r.success) where(`linux.seccomp.${jsonPath(r.issues[0])}`, r.issues[0].message);
  const { seccompArch } = await import("../runtime/security");
  const arch =
    seccompArch() ?? where("linux.seccomp", `seccomp is supported on x86_64 and arm64 only, not ${process.arch}`);
  const caps = new Set(CAPABILITIES.filter((_, i) => (bounding >> BigInt(i)) & 1n));
  return Buffer.from(compileSeccomp(r.output as never, { arch, caps })).toString("base64");
}

/**
 * An rlimit as the kernel takes it. JSON numbers are doubles: RLIM_INFINITY (2^64-1, "unlimited")
 * arrives as 2^64 and is taken as such; another number past 2^53 is not exact and is refused,
 * rather than wrapped to a small limit.
 */
function rlimitValue(n: number, path: string): bigint {
  if (n === 2 ** 64) return 0xffffffffffffffffn;
  if (n > Number.MAX_SAFE_INTEGER)
    return where(path, `${n} is past what JSON carries exactly: 18446744073709551615 is unlimited`);
  return BigInt(n);
}

/** What the process of a bundle (or of an exec into its container) is: ids, capabilities, limits, filter. */
export async function planProcess(
  p: OciProcess,
  c: OciConfig,
  at = "process",
): Promise<{ spec: ProcessSpec; flags: number }> {
  const ownUserns = (c.linux?.namespaces ?? []).some((n) => n.type === "user");
  // setgroups is allowed where the gid map comes from newgidmap, or where the caller is root of a
  // user namespace that allows it
  const mayGroups = ownUserns
    ? mayAdminister()
      ? setgroupsAllowed()
      : !mapText(c.linux?.gidMappings, process.getgid?.() ?? 0).single
    : setgroupsAllowed();
  const groups = p.user.additionalGids ?? [];
  if (groups.length > 0 && ownUserns && !mayGroups)
    where(
      `${at}.user.additionalGids`,
      "supplementary groups need a gid map through newgidmap (linux.gidMappings), and setgroups allowed",
    );
  const caps = p.capabilities;
  const bounding = capBits(caps?.bounding, `${at}.capabilities.bounding`);
  const sets = [
    bounding,
    capBits(caps?.effective, `${at}.capabilities.effective`),
    capBits(caps?.permitted, `${at}.capabilities.permitted`),
    capBits(caps?.inheritable, `${at}.capabilities.inheritable`),
    capBits(caps?.ambient, `${at}.capabilities.ambient`),
  ];
  if ((p.rlimits ?? []).length > 16) where(`${at}.rlimits`, "more than 16 (Linux has 16 kinds)");
  if (groups.length > 64) where(`${at}.user.additionalGids`, "more than 64, hull's limit");
  const rlimits = (p.rlimits ?? []).map((r, i) => {
    // RLIMIT_NOFILE is --ulimit's nofile
    const n =
      RESOURCES[r.type.replace(/^RLIMIT_/, "").toLowerCase()] ??
      where(`${at}.rlimits[${i}].type`, `${r.type} is not a Linux rlimit`);
    const soft = rlimitValue(r.soft, `${at}.rlimits[${i}].soft`);
    const hard = rlimitValue(r.hard, `${at}.rlimits[${i}].hard`);
    if (soft > hard) where(`${at}.rlimits[${i}]`, "the soft limit is above the hard one");
    return `${n} ${soft} ${hard}`;
  });
  let flags = 0;
  if (mayGroups) flags |= ABI.HULL_FLAG_SETGROUPS;
  if (p.noNewPrivileges) flags |= ABI.HULL_FLAG_NO_NEW_PRIVS;
  return {
    spec: {
      argv: p.args,
      env: p.env ?? [],
      cwd: p.cwd,
      uid: p.user.uid,
      gid: p.user.gid,
      groups,
      capSets: sets.map(String),
      seccomp: await seccompProgram(c, bounding),
      rlimits,
      oomScoreAdj: p.oomScoreAdj,
      umask: p.user.umask,
    },
    flags,
  };
}

/** linux.resources as hull run's limits (the same units as docker's flags), or undefined for none. */
export function bundleLimits(c: OciConfig): Limits | undefined {
  const r = c.linux?.resources;
  // a negative memory value is no limit (runc's reading); -1 swap is unlimited swap
  const bytes = (n: number | undefined) => (n !== undefined && n >= 0 ? n : undefined);
  const l: Limits = {
    memory: bytes(r?.memory?.limit),
    memoryReservation: bytes(r?.memory?.reservation),
    memorySwap: r?.memory?.swap,
    cpuQuota: r?.cpu?.quota !== undefined && r.cpu.quota > 0 ? r.cpu.quota : undefined,
    cpuPeriod: r?.cpu?.period,
    cpuShares: r?.cpu?.shares,
    cpusetCpus: r?.cpu?.cpus || undefined,
    cpusetMems: r?.cpu?.mems || undefined,
    pidsLimit: r?.pids?.limit,
    blkioWeight: r?.blockIO?.weight,
    unified: r?.unified && Object.keys(r.unified).length > 0 ? r.unified : undefined,
  };
  for (const k of Object.keys(l) as (keyof Limits)[]) if (l[k] === undefined) delete l[k];
  // a period alone limits nothing (runc writes it only with a quota)
  if (l.cpuPeriod !== undefined && l.cpuQuota === undefined) delete l.cpuPeriod;
  return Object.keys(l).length > 0 ? l : undefined;
}

/**
 * The container's cgroup with the bundle's limits written, in the subtree delegated to the user
 * (hull moves into a scope of its own first, and the container stays in it when hull is gone), or
 * undefined for a bundle without limits. With --systemd-cgroup, cgroupsPath's slice is the parent.
 */
async function placeBundle(c: OciConfig, systemd: boolean): Promise<string | undefined> {
  const limits = bundleLimits(c);
  if (!limits) return undefined;
  const { checkCgroupParent, placeContainer } = await import("../runtime/cgroup");
  const path = c.linux?.cgroupsPath ?? "";
  const slice = systemd && path.includes(":") ? path.split(":")[0] : undefined;
  try {
    return placeContainer(limits, slice ? checkCgroupParent(slice) : undefined);
  } catch (e) {
    return where("linux.resources", (e as Error).message);
  }
}

const HOOK_KINDS = [
  ["prestart", ABI.HULL_HOOK_PRESTART],
  ["createRuntime", ABI.HULL_HOOK_CREATE_RUNTIME],
  ["createContainer", ABI.HULL_HOOK_CREATE_CONTAINER],
  ["startContainer", ABI.HULL_HOOK_START_CONTAINER],
  ["poststart", ABI.HULL_HOOK_POSTSTART],
  ["poststop", ABI.HULL_HOOK_POSTSTOP],
] as const;

/**
 * The bundle's hooks for the shim (ffi/hooks.c), and the state they read on stdin: runtime-spec's,
 * with "{status}" and "{pid}" for the shim to fill in, first (before any string of the bundle's).
 */
export function bundleHooks(c: OciConfig, id: string, bundle: string): HookSpec | undefined {
  const hooks: HookSpec["hooks"] = [];
  for (const [name, kind] of HOOK_KINDS)
    for (const h of c.hooks?.[name] ?? [])
      hooks.push({
        kind,
        timeout: h.timeout ?? 0,
        path: h.path,
        args: h.args?.length ? h.args : [h.path],
        env: h.env ?? [],
      });
  if (hooks.length === 0) return undefined;
  const rest = JSON.stringify({ ociVersion: OCI_VERSION, id, bundle, annotations: c.annotations ?? {} });
  return { state: `{"status":"{status}","pid":{pid},${rest.slice(1)}`, hooks };
}

/** The shim's message for the bundle's container. */
export async function planBundle(c: OciConfig, run: BundleRun): Promise<ShimSpec> {
  // runtime-spec lets create go without a process (start then fails): the container waits with
  // one that never runs
  if (!c.process && !run.startFifo) where("process", "a container needs a process to run");
  const p = c.process ?? { args: ["/"], cwd: "/", user: { uid: 0, gid: 0 } };
  const rootfs = resolve(run.bundle, c.root.path);
  try {
    if (!statSync(rootfs).isDirectory()) where("root.path", `${rootfs} is not a directory`);
  } catch (e) {
    if ((e as Error).message.startsWith("config.json")) throw e;
    where("root.path", `${rootfs}: no such directory`);
  }
  const namespaces = c.linux?.namespaces ?? [];
  const ns = new Set<string>(namespaces.map((n) => n.type));
  // joined by path: entered before the clone, and not made again
  const joined = new Set<string>(namespaces.filter((n) => n.path).map((n) => n.type));
  const joins = namespaces.filter((n) => n.path).map((n) => `${n.type === "network" ? "net" : n.type} ${n.path}`);
  // without a user namespace of its own, the container has the caller's: only for a caller that is
  // root there already (podman runs its runtime inside its own user namespace)
  const ownUserns = ns.has("user");
  const admin = mayAdminister();
  if (!ownUserns && !admin)
    where(
      "linux.namespaces",
      'hull runs rootless and needs a user namespace: add {"type": "user"} (hull oci spec --rootless has one)',
    );
  // what the container's user namespace owns: a namespace made with it, or every one when the
  // container has the caller's
  const owned = new Set([...ns].filter((t) => !ownUserns || !joined.has(t)));
  if (!ns.has("mount")) where("linux.namespaces", 'a container needs a mount namespace: add {"type": "mount"}');
  if (!ns.has("pid")) where("linux.namespaces", 'hull runs a container as pid 1 of its own: add {"type": "pid"}');
  if (c.hostname && !ns.has("uts")) where("hostname", 'a hostname needs a UTS namespace: add {"type": "uts"}');
  const made = (t: string) => ns.has(t) && !joined.has(t);
  const nsFlags =
    CLONE_NEWNS |
    CLONE_NEWPID |
    (made("uts") ? CLONE_NEWUTS : 0) |
    (made("ipc") ? CLONE_NEWIPC : 0) |
    (made("network") ? CLONE_NEWNET : 0);

  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  const u = mapText(c.linux?.uidMappings, uid);
  const g = mapText(c.linux?.gidMappings, gid);
  const needProg = (name: string) =>
    findProgram(name) ||
    where(
      `linux.${name === "newuidmap" ? "uid" : "gid"}Mappings`,
      `maps beyond your own id need ${name} (Debian: uidmap)`,
    );
  // root of a user namespace already (podman's) writes any map into it itself
  const privileged = ownUserns && admin;
  const uidMapProg = u.single || !ownUserns || privileged ? "" : needProg("newuidmap");
  const gidMapProg = g.single || !ownUserns || privileged ? "" : needProg("newgidmap");
  const proc = await planProcess(p, c);

  const mounts = c.mounts ?? [];
  const steps: Step[] = [
    ...mounts.flatMap((m, i) => mountSteps(m, i, run.bundle, owned, ns)),
    ...defaultDev(mounts),
    ...deviceSteps(c),
    ...Object.entries(c.linux?.sysctl ?? {}).map(([key, value]) => {
      if (!/^[a-z0-9_]+(\.[a-z0-9_-]+)+$/.test(key)) where(`linux.sysctl.${key}`, "not a sysctl name");
      return step(ABI.HULL_STEP_SYSCTL, 0, key.replaceAll(".", "/"), key, "", value);
    }),
    ...(c.linux?.maskedPaths ?? []).map((d) => step(ABI.HULL_STEP_MASK, 0, "", d)),
    ...(c.linux?.readonlyPaths ?? []).map((d) => step(ABI.HULL_STEP_READONLY, 0, "", d)),
  ];

  // the shim's own limits (ffi/shim.h), said here with the field rather than as a bad message there
  if (steps.length > 256) where("mounts", `${steps.length} mounts and paths to mask, over hull's 256`);
  let flags = proc.flags;
  if (p.terminal) flags |= ABI.HULL_FLAG_TTY | (run.detach ? 0 : ABI.HULL_FLAG_STDIN);
  if (!run.detach && !p.terminal) flags |= ABI.HULL_FLAG_STDIN;
  if (c.root.readonly) flags |= ABI.HULL_FLAG_READONLY;
  if (owned.has("network")) flags |= ABI.HULL_FLAG_NET_LO;
  if (!ownUserns) flags |= ABI.HULL_FLAG_NO_USERNS;
  if (privileged) flags |= ABI.HULL_FLAG_MAPS_PRIVILEGED;
  if (ns.has("cgroup")) flags |= ABI.HULL_FLAG_CGROUPNS;
  const cgroup = await placeBundle(c, run.systemdCgroup ?? false);
  // detached: no supervisor; the container is the caller's subreaper's, its stdio the caller's
  if (run.detach) flags |= ABI.HULL_FLAG_ORPHAN | ABI.HULL_FLAG_STDIN;

  return {
    ...proc.spec,
    hostname: c.hostname ?? "",
    domainname: c.domainname,
    nsFlags,
    uidMap: u.map,
    gidMap: g.map,
    uidMapProg,
    gidMapProg,
    rootfs,
    overlay: "",
    fuseProg: "",
    overlayMode: 0,
    // run without -d: the state directory goes with the container, as runc's does
    cleanup: run.detach ? [] : [run.stateDir],
    stateFile: `${run.stateDir}/exit.json`,
    runDir: run.stateDir,
    startFifo: run.startFifo,
    joinNs: joins,
    cgroup,
    hooks: bundleHooks(c, run.id, run.bundle),
    rootfsPropagation: c.linux?.rootfsPropagation ? PROPAGATION[c.linux.rootfsPropagation] : undefined,
    pidFile: run.pidFile,
    consoleSocket: run.consoleSocket,
    flags,
    steps,
  };
}
