// Encodes the setup message of ffi/abi.h: a 12-byte header, then records [u16 type][u16 0][u32 len][data].
import { traceOrigin } from "../sys/trace";
import { ABI } from "./abi";
import type { HelperCommand } from "../network/mode";
import type { Step } from "./plan";

/** The process the shim starts: command, environment, working directory, ids. */
export interface ProcessSpec {
  argv: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  groups: number[];
  /** the capability bounding set (a decimal u64; absent: Docker's default) and the seccomp program
   * (base64 struct sock_filter[]; absent: none), from runtime/security.ts */
  capMask?: string;
  /** an OCI bundle's five sets instead (bounding, effective, permitted, inheritable, ambient), decimal u64s */
  capSets?: string[];
  seccomp?: string;
  /** --ulimit, as "resource soft hard" (decimal: JSON has no 64-bit integers), and --oom-score-adj:
   * for exec as for the container's first process */
  rlimits?: string[];
  oomScoreAdj?: number;
  /** an OCI bundle's process.user.umask */
  umask?: number;
  /** hull oci --log (and --log-format json): the shim's errors go there too */
  errorLog?: { path: string; json: boolean };
}

export interface ShimSpec extends IdMaps, ProcessSpec {
  hostname: string;
  /** --domainname (absent: the kernel's "(none)") */
  domainname?: string;
  nsFlags: number;
  rootfs: string;
  /** overlay options without the mount point ("lowerdir=..,upperdir=..,workdir=.."), or "" to bind rootfs */
  overlay: string;
  fuseProg: string;
  overlayMode: number;
  /** paths the shim removes, in order, once the container is gone (empty: keep everything) */
  cleanup: string[];
  /** where the shim records a kept container's exit code ("" for none) */
  stateFile?: string;
  /** the container's directory: pid files, and the log of a detached container */
  runDir?: string;
  /** printed by `run -d` once the container started */
  id?: string;
  /** --restart: HULL_RESTART_*, and the most restarts for on-failure (0: no limit) */
  restart?: number;
  restartMax?: number;
  /** the hull process the shim dies with (a build's RUN): absent for a container that outlives hull */
  dieWith?: number;
  /** the container's cgroup v2 directory, with its limits written (src/runtime/cgroup.ts) */
  cgroup?: string;
  /** the network helper (src/network/mode.ts); a spec.json of an older hull has its argv and pid file */
  netHelper?: HelperCommand | string[];
  netPidfile?: string;
  /** user networks: the holder of their shared namespace and the links to make (src/network/attach.ts) */
  userNets?: UserNets;
  /** the shared namespace's own helper (src/network/bridge.ts), for HULL_FLAG_NET_SHARED */
  holderHelper?: string[];
  /** the health check's prober (`hull __health ID --root DIR`) and the ms between two probes */
  healthArgv?: string[];
  healthInterval?: number;
  /** what brings the peers' /etc/hosts up to date as the container ends or restarts (`hull __peers --root DIR`) */
  peersArgv?: string[];
  /** the event journal, and the container's events' "from" (a JSON string) and attributes (JSON members) */
  eventsFile?: string;
  /** --log-opt max-size (bytes) and max-file */
  logMax?: number;
  logFiles?: number;
  eventFrom?: string;
  eventAttrs?: string;
  /** --network container:NAME: that container's pid 1, whose user and network namespaces it joins,
   * and its start time (a recycled pid is refused) */
  joinPid?: number;
  joinStart?: string;
  /** hull oci create: the FIFO the created container waits on, and where its pty's master goes */
  startFifo?: string;
  consoleSocket?: string;
  /** namespaces joined by path before the container's are made: "net PATH", "ipc PATH", "uts PATH" */
  joinNs?: string[];
  /** hull oci --pid-file */
  pidFile?: string;
  /** an OCI bundle's linux.rootfsPropagation, as mount flags */
  rootfsPropagation?: number;
  /** an OCI bundle's hooks, and the state they read ("{status}" and "{pid}" filled in by the shim) */
  hooks?: HookSpec;
  flags: number;
  steps: Step[];
}

/**
 * What the shim needs for user-defined networks: the store's networks directory (the holder's lock
 * and pid file), the holder's maps in host ids, the container's maps in the holder's ids, and
 * "BRIDGE GATEWAY/PREFIX VETH IFNAME ADDRESS/PREFIX" per network (ffi/netns.c).
 */
export interface UserNets {
  dir: string;
  holderUidMap: string;
  holderGidMap: string;
  nestUidMap: string;
  nestGidMap: string;
  attach: string[];
  /** the links file, read again before every run (src/network/attach.ts writeLinks) */
  file?: string;
}

const enc = new TextEncoder();

/** Collects records and frames them with the header. */
export class MessageWriter {
  private parts: Uint8Array[] = [];
  private total = 12;

  rec(type: number, data: Uint8Array): void {
    const head = new Uint8Array(8);
    const dv = new DataView(head.buffer);
    dv.setUint16(0, type, true);
    dv.setUint32(4, data.length, true);
    this.parts.push(head, data);
    this.total += 8 + data.length;
  }

  str(type: number, value: string): void {
    if (value.includes("\0")) throw new Error(`NUL byte in ${JSON.stringify(value)}`);
    this.rec(type, enc.encode(`${value}\0`));
  }

  u32(type: number, value: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, value >>> 0, true);
    this.rec(type, b);
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.total);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, ABI.HULL_ABI_MAGIC, true);
    dv.setUint32(4, ABI.HULL_ABI_VERSION, true);
    dv.setUint32(8, this.total, true);
    let off = 12;
    for (const p of this.parts) {
      out.set(p, off);
      off += p.length;
    }
    return out;
  }
}

export interface IdMaps {
  uidMap: string;
  gidMap: string;
  uidMapProg: string;
  gidMapProg: string;
}

function writeMaps(w: MessageWriter, m: IdMaps): void {
  w.str(ABI.HULL_REC_UIDMAP, m.uidMap);
  w.str(ABI.HULL_REC_GIDMAP, m.gidMap);
  if (m.uidMapProg) w.str(ABI.HULL_REC_UIDMAP_PROG, m.uidMapProg);
  if (m.gidMapProg) w.str(ABI.HULL_REC_GIDMAP_PROG, m.gidMapProg);
}

/**
 * The message of `hull-shim exec`: a command to run as root in a user namespace with these maps;
 * with MOUNT, in a private mount namespace where OVERLAY (lowerdir=..,upperdir=..,workdir=..) is
 * mounted at ROOTFS first.
 */
export function encodeExecMessage(
  argv: string[],
  env: string[],
  maps: IdMaps,
  mount?: { rootfs: string; overlay: string; fuseProg: string; mode?: number },
  targetPid?: number,
  /** `remove`: the store's networks directory, whose live holder's user namespace serves if there is one */
  holderDir?: string,
): Uint8Array {
  const w = new MessageWriter();
  for (const a of argv) w.str(ABI.HULL_REC_ARG, a);
  if (holderDir) w.str(ABI.HULL_REC_HOLDER_DIR, holderDir);
  for (const e of env) w.str(ABI.HULL_REC_ENV, e);
  writeMaps(w, maps);
  if (targetPid) w.u32(ABI.HULL_REC_TARGET_PID, targetPid);
  // a helper never outlives the hull process that needs it
  w.u32(ABI.HULL_REC_DIE_WITH, process.pid);
  if (mount) {
    w.str(ABI.HULL_REC_ROOTFS, mount.rootfs);
    w.str(ABI.HULL_REC_OVERLAY, mount.overlay);
    if (mount.fuseProg) w.str(ABI.HULL_REC_FUSE_PROG, mount.fuseProg);
    if (mount.mode !== undefined) w.u32(ABI.HULL_REC_OVERLAY_MODE, mount.mode);
  }
  return w.finish();
}

export interface HookSpec {
  state: string;
  hooks: { kind: number; timeout: number; path: string; args: string[]; env: string[] }[];
}

/** The hooks' records (ffi/hooks.c): for a container's message, and for `hull-shim hooks` alone. */
export function writeHooks(w: MessageWriter, h: HookSpec): void {
  w.str(ABI.HULL_REC_HOOK_STATE, h.state);
  for (const k of h.hooks) {
    const strs = [k.path, ...k.args, ...k.env];
    if (strs.some((s) => s.includes("\0"))) throw new Error(`NUL byte in the hook ${JSON.stringify(k.path)}`);
    const text = enc.encode(strs.map((s) => `${s}\0`).join(""));
    const b = new Uint8Array(16 + text.length);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, k.kind, true);
    dv.setUint32(4, k.timeout, true);
    dv.setUint32(8, k.args.length, true);
    dv.setUint32(12, k.env.length, true);
    b.set(text, 16);
    w.rec(ABI.HULL_REC_HOOK, b);
  }
}

/** The message of `hull-shim hooks`: the hooks alone. */
export function encodeHooksMessage(h: HookSpec): Uint8Array {
  const w = new MessageWriter();
  writeHooks(w, h);
  return w.finish();
}

export interface EnterSpec extends ProcessSpec {
  flags: number;
  /** the container's pid 1, as the host sees it */
  targetPid: number;
  /** hull oci exec: where the pty's master goes, and where the process's pid is written */
  consoleSocket?: string;
  pidFile?: string;
}

function writeProcess(w: MessageWriter, p: ProcessSpec): void {
  const origin = traceOrigin();
  if (origin !== undefined) w.str(ABI.HULL_REC_TRACE_ORIGIN, String(origin));
  for (const a of p.argv) w.str(ABI.HULL_REC_ARG, a);
  for (const e of p.env) w.str(ABI.HULL_REC_ENV, e);
  w.str(ABI.HULL_REC_CWD, p.cwd);
  w.u32(ABI.HULL_REC_UID, p.uid);
  w.u32(ABI.HULL_REC_GID, p.gid);
  for (const g of p.groups) w.u32(ABI.HULL_REC_GROUP, g);
  for (const r of p.rlimits ?? []) {
    const [resource, soft, hard] = r.split(" ");
    const b = new DataView(new ArrayBuffer(20));
    b.setUint32(0, Number(resource), true);
    b.setBigUint64(4, BigInt(soft as string), true);
    b.setBigUint64(12, BigInt(hard as string), true);
    w.rec(ABI.HULL_REC_RLIMIT, new Uint8Array(b.buffer));
  }
  if (p.oomScoreAdj !== undefined) w.u32(ABI.HULL_REC_OOM_SCORE_ADJ, p.oomScoreAdj >>> 0);
  if (p.umask !== undefined) w.u32(ABI.HULL_REC_UMASK, p.umask);
  if (p.errorLog) {
    w.str(ABI.HULL_REC_ERROR_LOG, p.errorLog.path);
    if (p.errorLog.json) w.u32(ABI.HULL_REC_ERROR_LOG_JSON, 1);
  }
  if (p.capSets !== undefined) {
    const b = new DataView(new ArrayBuffer(40));
    for (const [i, s] of p.capSets.entries()) b.setBigUint64(i * 8, BigInt(s), true);
    w.rec(ABI.HULL_REC_CAP_SETS, new Uint8Array(b.buffer));
  } else if (p.capMask !== undefined) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(p.capMask), true);
    w.rec(ABI.HULL_REC_CAPS, b);
  }
  if (p.seccomp) {
    const prog = Buffer.from(p.seccomp, "base64");
    if (prog.length === 0 || prog.length % 8 !== 0)
      throw new Error("a seccomp program is a whole number of 8-byte instructions");
    w.rec(ABI.HULL_REC_SECCOMP, prog);
  }
}

/** The message of `hull-shim enter` (hull exec). */
export function encodeEnterMessage(s: EnterSpec): Uint8Array {
  const w = new MessageWriter();
  writeProcess(w, s);
  w.u32(ABI.HULL_REC_FLAGS, s.flags);
  w.u32(ABI.HULL_REC_TARGET_PID, s.targetPid);
  if (s.consoleSocket) w.str(ABI.HULL_REC_CONSOLE_SOCKET, s.consoleSocket);
  if (s.pidFile) w.str(ABI.HULL_REC_PID_FILE, s.pidFile);
  return w.finish();
}

/** The message of `hull-shim attach`: the container's directory (its attach.sock), how to attach. */
export function encodeAttachMessage(s: {
  runDir: string;
  flags: number;
  detachKeys: string;
  targetPid: number;
}): Uint8Array {
  const w = new MessageWriter();
  w.str(ABI.HULL_REC_RUN_DIR, s.runDir);
  w.u32(ABI.HULL_REC_FLAGS, s.flags);
  w.str(ABI.HULL_REC_DETACH_KEYS, s.detachKeys);
  w.u32(ABI.HULL_REC_TARGET_PID, s.targetPid);
  return w.finish();
}

function writeUserNets(w: MessageWriter, n: UserNets): void {
  w.str(ABI.HULL_REC_HOLDER_DIR, n.dir);
  w.str(ABI.HULL_REC_HOLDER_UIDMAP, n.holderUidMap);
  w.str(ABI.HULL_REC_HOLDER_GIDMAP, n.holderGidMap);
  w.str(ABI.HULL_REC_NEST_UIDMAP, n.nestUidMap);
  w.str(ABI.HULL_REC_NEST_GIDMAP, n.nestGidMap);
  for (const a of n.attach) w.str(ABI.HULL_REC_NET_ATTACH, a);
  if (n.file) w.str(ABI.HULL_REC_NET_ATTACH_FILE, n.file);
}

/**
 * The message of `hull-shim net` (network connect and disconnect of a running container): the links
 * to make and delete for the container whose pid 1 is TARGET_PID; MAPS: the map programs.
 */
export function encodeNetMessage(targetPid: number, nets: UserNets, detach: string[], maps: IdMaps): Uint8Array {
  const w = new MessageWriter();
  writeMaps(w, maps);
  writeUserNets(w, nets);
  for (const d of detach) w.str(ABI.HULL_REC_NET_DETACH, d);
  // 0: links deleted by name, of a container that may be gone
  if (targetPid) w.u32(ABI.HULL_REC_TARGET_PID, targetPid);
  w.u32(ABI.HULL_REC_DIE_WITH, process.pid);
  return w.finish();
}

export function encodeMessage(s: ShimSpec): Uint8Array {
  const w = new MessageWriter();
  const str = w.str.bind(w);
  const u32 = w.u32.bind(w);
  writeProcess(w, s);
  str(ABI.HULL_REC_HOSTNAME, s.hostname);
  if (s.domainname) str(ABI.HULL_REC_DOMAINNAME, s.domainname);
  u32(ABI.HULL_REC_NSFLAGS, s.nsFlags);
  writeMaps(w, s);
  str(ABI.HULL_REC_ROOTFS, s.rootfs);
  if (s.overlay) str(ABI.HULL_REC_OVERLAY, s.overlay);
  if (s.fuseProg) str(ABI.HULL_REC_FUSE_PROG, s.fuseProg);
  u32(ABI.HULL_REC_OVERLAY_MODE, s.overlayMode);
  for (const c of s.cleanup) str(ABI.HULL_REC_CLEANUP, c);
  if (s.stateFile) str(ABI.HULL_REC_STATE_FILE, s.stateFile);
  if (s.runDir) str(ABI.HULL_REC_RUN_DIR, s.runDir);
  if (s.id) str(ABI.HULL_REC_ID, s.id);
  if (s.restart) u32(ABI.HULL_REC_RESTART, s.restart);
  if (s.restartMax) u32(ABI.HULL_REC_RESTART_MAX, s.restartMax);
  if (s.dieWith) u32(ABI.HULL_REC_DIE_WITH, s.dieWith);
  if (s.cgroup) str(ABI.HULL_REC_CGROUP, s.cgroup);
  if (s.netHelper) {
    const h: HelperCommand = Array.isArray(s.netHelper) ? { argv: s.netHelper, pidfile: s.netPidfile } : s.netHelper;
    for (const a of h.argv) w.str(ABI.HULL_REC_NET_HELPER, a);
    if (h.pidfile) w.str(ABI.HULL_REC_NET_PIDFILE, h.pidfile);
    if (h.readyFd) w.u32(ABI.HULL_REC_NET_READY_FD, 3);
    if (h.apiSocket) w.str(ABI.HULL_REC_NET_API, h.apiSocket);
    for (const r of h.apiRequests ?? []) w.str(ABI.HULL_REC_NET_API_REQ, r);
  }
  if (s.userNets) writeUserNets(w, s.userNets);
  for (const a of s.holderHelper ?? []) str(ABI.HULL_REC_HOLDER_HELPER, a);
  if (s.logMax) str(ABI.HULL_REC_LOG_MAX, String(s.logMax));
  if (s.logFiles) u32(ABI.HULL_REC_LOG_FILES, s.logFiles);
  if (s.eventsFile) {
    str(ABI.HULL_REC_EVENTS_FILE, s.eventsFile);
    str(ABI.HULL_REC_EVENT_FROM, s.eventFrom ?? '""');
    str(ABI.HULL_REC_EVENT_ATTRS, s.eventAttrs ?? "");
  }
  if (s.healthArgv && s.healthInterval) {
    for (const a of s.healthArgv) str(ABI.HULL_REC_HEALTH_ARGV, a);
    u32(ABI.HULL_REC_HEALTH_INTERVAL, s.healthInterval);
  }
  for (const a of s.peersArgv ?? []) str(ABI.HULL_REC_PEERS_ARGV, a);
  if (s.joinPid) u32(ABI.HULL_REC_JOIN_PID, s.joinPid);
  if (s.startFifo) str(ABI.HULL_REC_START_FIFO, s.startFifo);
  if (s.consoleSocket) str(ABI.HULL_REC_CONSOLE_SOCKET, s.consoleSocket);
  for (const j of s.joinNs ?? []) str(ABI.HULL_REC_JOIN_NS, j);
  if (s.pidFile) str(ABI.HULL_REC_PID_FILE, s.pidFile);
  if (s.rootfsPropagation) u32(ABI.HULL_REC_ROOTFS_PROPAGATION, s.rootfsPropagation);
  if (s.hooks) writeHooks(w, s.hooks);
  if (s.joinStart) str(ABI.HULL_REC_JOIN_START, s.joinStart);
  u32(ABI.HULL_REC_FLAGS, s.flags);
  for (const st of s.steps) {
    const strs = enc.encode(`${st.src}\0${st.dst}\0${st.fstype}\0${st.data}\0`);
    const b = new Uint8Array(8 + strs.length);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, st.op, true);
    dv.setUint32(4, st.flags >>> 0, true);
    b.set(strs, 8);
    w.rec(ABI.HULL_REC_STEP, b);
  }
  return w.finish();
}
