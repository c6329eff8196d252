// The records of the containers in the store, and their state as `hull ps` shows it. There is no
// daemon: a container is running while the process that ran it (whose pid and start time the record
// keeps, so a recycled pid is not mistaken for it) is alive; once it exits, the shim writes
// state.json with the exit code.
import { join } from "../sys/path";
import * as v from "valibot";
import { lazily } from "../sys/lazy-schema";
import { processStart, readOwnerFile } from "../store/owner";
import { pollUntil } from "../sys/poll-until";
import type { StorePaths } from "../store/paths";
import { SysError } from "../sys/error";
import { readDir, readFileText, readlink } from "../sys/libc";

/** A container's id, which also names its directory and its record's id field. */
const CONTAINER_ID = /^[a-f0-9]{64}$/;

/** A health check as a container's record keeps it: the command inside, and milliseconds. */
export const HealthConfigSchema = lazily(() =>
  v.object({
    test: v.array(v.string()),
    interval: v.number(),
    timeout: v.number(),
    retries: v.number(),
    startPeriod: v.number(),
  }),
);

export const ContainerRecordSchema = lazily(() =>
  v.object({
    id: v.pipe(v.string(), v.regex(CONTAINER_ID)),
    name: v.optional(v.string()),
    image: v.string(),
    imageId: v.optional(v.string()),
    command: v.array(v.string()),
    created: v.string(),
    rm: v.boolean(),
    pid: v.optional(v.number()),
    pidStart: v.optional(v.string()),
    /** named and anonymous volumes it mounts */
    volumes: v.optional(v.array(v.string())),
    anonymousVolumes: v.optional(v.array(v.string())),
    /** the image's StopSignal, which `hull stop` sends first */
    stopSignal: v.optional(v.string()),
    /** --stop-timeout: what hull stop waits before SIGKILL when -t is not given */
    stopTimeout: v.optional(v.number()),
    /** the health check (src/container/health.ts); absent: none */
    health: v.optional(HealthConfigSchema),
    /** what was mounted where: for --volumes-from and inspect's Mounts (absent in records of older hulls) */
    mounts: v.optional(
      v.array(
        v.object({
          type: v.picklist(["bind", "volume", "tmpfs"]),
          /** a host path (bind) or a volume's name */
          source: v.string(),
          target: v.string(),
          readonly: v.boolean(),
        }),
      ),
    ),
    /** docker's resource flags as given (`hull start` makes the cgroup again from them) */
    limits: v.optional(v.record(v.string(), v.string())),
    /** -p and -P: the host ports that lead to the container's */
    ports: v.optional(
      v.array(
        v.object({
          hostIp: v.string(),
          hostPort: v.number(),
          containerPort: v.number(),
          proto: v.picklist(["tcp", "udp"]),
        }),
      ),
    ),
    /** --cgroup-parent: the user's systemd slice the container's scope goes in */
    cgroupParent: v.optional(v.string()),
    /** the image's labels with run's --label over them */
    labels: v.optional(v.record(v.string(), v.string())),
    /** --userns as given ("" or absent: host) */
    userns: v.optional(v.string()),
    /** the user networks it is on, by network name (src/network/attach.ts) */
    networks: v.optional(
      v.record(
        v.string(),
        v.object({
          ip: v.string(),
          aliases: v.array(v.string()),
          ifname: v.pipe(v.string(), v.regex(/^eth\d{1,2}$/)),
          networkId: v.pipe(v.string(), v.regex(/^[a-f0-9]{64}$/)),
        }),
      ),
    ),
    /** its address on the default network's shared bridge (src/network/bridge.ts), leased */
    bridgeIp: v.optional(v.string()),
    /** it goes out through the shared namespace (hull0's, or its first user network's gateway), not
     * through a helper of its own */
    sharedOut: v.optional(v.boolean()),
    /** its host name, and the --add-host lines that end its /etc/hosts (rewritten as peers come and go) */
    hostname: v.optional(v.string()),
    hostsTail: v.optional(v.string()),
    /** --log-opt labels=/env=/env-regex=: the attributes `hull logs --details` shows */
    logAttrs: v.optional(v.record(v.string(), v.string())),
    /** --domainname, --group-add, --device and --sysctl as given, for inspect */
    domainname: v.optional(v.string()),
    groupAdd: v.optional(v.array(v.string())),
    devices: v.optional(v.array(v.object({ host: v.string(), container: v.string(), permissions: v.string() }))),
    sysctls: v.optional(v.record(v.string(), v.string())),
    /** --network as given, for inspect's NetworkMode ("container:ID" with the id for container:NAME) */
    networkMode: v.optional(v.string()),
    /** docker's HostConfig as given, for inspect: --restart, --privileged, --read-only, -P, --init, --log-opt */
    restart: v.optional(v.string()),
    privileged: v.optional(v.boolean()),
    ipc: v.optional(v.string()),
    readOnly: v.optional(v.boolean()),
    publishAll: v.optional(v.boolean()),
    init: v.optional(v.boolean()),
    logOpts: v.optional(v.record(v.string(), v.string())),
    annotations: v.optional(v.record(v.string(), v.string())),
    /** the image's EXPOSE, --expose and -p's container ports ("80/tcp"): inspect's ExposedPorts, ps's PORTS */
    exposed: v.optional(v.array(v.string())),
  }),
);
export type ContainerRecord = v.InferOutput<typeof ContainerRecordSchema>;

/** what the shim writes when a kept container ends; oomKilled: the kernel's OOM killer ended it */
const StateSchema = lazily(() =>
  v.object({ exitCode: v.number(), finishedAt: v.string(), oomKilled: v.optional(v.boolean()) }),
);

export type ContainerState =
  | { status: "running"; pid: number; paused?: boolean }
  | { status: "exited"; exitCode: number; finishedAt: string; oomKilled?: boolean; restarting?: boolean }
  | { status: "created" }
  | { status: "dead" };

export { processStart };

/** RUN_DIR/<name>.pid as the shim writes it: "pid starttime". */
export function pidFile(paths: StorePaths, id: string, name: string): { pid: number; start: string } | undefined {
  return readOwnerFile(join(containerDir(paths, id), name));
}

/**
 * Wait (up to 2 s) for the network helper of container ID's last run to end. It dies by its
 * parent-death signal a moment after the container's supervisor, and until then holds the published
 * ports: a `stop` that returned before would make the next `start` (or a script's `run -p` of the
 * same port) fail to bind them.
 */
export async function helperGone(paths: StorePaths, id: string): Promise<void> {
  const helper = pidFile(paths, id, "helper.pid");
  if (!helper) return;
  await pollUntil(() => processStart(helper.pid) !== helper.start, 2000);
}

/** When the container's latest run started (the shim writes init.pid then), or undefined before any. */
export function startedAt(paths: StorePaths, id: string): string | undefined {
  const { statSync } = require("node:fs") as typeof import("node:fs");
  try {
    return statSync(join(containerDir(paths, id), "init.pid")).mtime.toISOString();
  } catch {
    return undefined;
  }
}

const SavedMaps = lazily(() =>
  v.looseObject({
    uidMap: v.string(),
    gidMap: v.string(),
    uidMapProg: v.string(),
    gidMapProg: v.string(),
  }),
);

/** The id maps (host ids) container ID was run with, from its spec.json; KEY names it in the error. */
export function savedMaps(paths: StorePaths, id: string, key: string): v.InferOutput<typeof SavedMaps> {
  const r = v.safeParse(SavedMaps, JSON.parse(readFileText(join(containerDir(paths, id), "spec.json")) ?? "{}"));
  if (!r.success) throw new Error(`container ${key} has a damaged spec.json (no id maps)`);
  return r.output;
}

/** The container's pid 1 as the host sees it, while it lives. */
export function initPid(paths: StorePaths, id: string): number | undefined {
  const f = pidFile(paths, id, "init.pid");
  return f && processStart(f.pid) === f.start ? f.pid : undefined;
}

/**
 * The host pid of running container REC's pid 1. A `start` or `run -d` under way has its supervisor,
 * and so reads as running, some milliseconds before its command is exec'd: the caller waits for it
 * (up to 3 s), as docker's daemon makes an exec, a cp or a kill wait for a start under way.
 */
export async function startedInit(paths: StorePaths, rec: ContainerRecord, key: string, ms = 3000): Promise<number> {
  let pid = initPid(paths, rec.id);
  if (pid === undefined)
    await pollUntil(() => {
      pid = initPid(paths, rec.id);
      return pid !== undefined || containerState(paths, rec).status !== "running";
    }, ms);
  if (pid !== undefined) return pid;
  if (containerState(paths, rec).status !== "running") throw new Error(`container ${key} is not running`);
  throw new Error(`container ${key} has not started its command yet`);
}

export function containerDir(paths: StorePaths, id: string): string {
  return join(paths.containers, id);
}

/**
 * FN while holding the container's own lock (containers/<id>/lock): what checks a container's state
 * and then mounts its layers or starts it (start, cp into a stopped container, rm) runs one at a
 * time, so two of them never mount the same upper and work directories at once.
 */
export async function withContainerLock<T>(
  paths: StorePaths,
  id: string,
  fn: () => Promise<T>,
  /** what the user called it, for the error when it is gone */
  key = id.slice(0, 12),
): Promise<T> {
  // without making directories: a lock taken after `hull rm` moved the container away would bring
  // back an empty container directory
  const { withLock } = await import("../store/lock");
  const lock = join(containerDir(paths, id), "lock");
  try {
    return await withLock(lock, fn, false, false);
  } catch (e) {
    if (e instanceof SysError && e.code === "ENOENT" && e.syscall === "open" && e.path === lock)
      throw new Error(`no such container: ${key}`);
    throw e;
  }
}

export function containerState(paths: StorePaths, rec: ContainerRecord): ContainerState {
  const text = readFileText(join(containerDir(paths, rec.id), "state.json"));
  if (text !== undefined) {
    const r = v.safeParse(StateSchema, JSON.parse(text));
    if (r.success) {
      // a --restart container between two runs: its supervisor waits out the pause (docker's
      // "Restarting"); looked for only when it has a policy
      if (rec.restart !== undefined) {
        const sup = pidFile(paths, rec.id, "supervisor.pid");
        if (sup && processStart(sup.pid) === sup.start) return { status: "exited", ...r.output, restarting: true };
      }
      return { status: "exited", ...r.output };
    }
  }
  // a detached container (or a started one) is watched by its supervisor; a foreground one by the
  // process that ran it, whose pid the record keeps
  const sup = pidFile(paths, rec.id, "supervisor.pid");
  // looked for only in a running container: `hull ps` of 200 stopped ones made 200 opens fewer
  const paused = () => readFileText(join(containerDir(paths, rec.id), "paused")) !== undefined;
  if (sup)
    return processStart(sup.pid) === sup.start
      ? { status: "running", pid: sup.pid, paused: paused() }
      : { status: "dead" };
  if (rec.pid && rec.pidStart && processStart(rec.pid) === rec.pidStart)
    return { status: "running", pid: rec.pid, paused: paused() };
  if (!rec.pid) return { status: "created" };
  return { status: "dead" };
}

export function listContainers(paths: StorePaths): ContainerRecord[] {
  let ids: string[];
  try {
    ids = readDir(paths.containers) ?? [];
  } catch {
    return [];
  }
  const out: ContainerRecord[] = [];
  // only a container's id names a container: a stray file there (an editor's backup, a copy made by
  // hand) made every `hull ps` fail with "a part of the path is not a directory"
  for (const id of ids) {
    if (!CONTAINER_ID.test(id)) continue;
    let rec: ContainerRecord | undefined;
    try {
      rec = readRecord(paths, id);
    } catch (e) {
      if (e instanceof SysError && e.code === "ENOTDIR") continue;
      throw e;
    }
    if (rec) out.push(rec);
    else if (readFileText(join(paths.containers, id, "container.json")) !== undefined && !warned.has(id)) {
      // hidden from the list, but never silently: say which, and how to be rid of it
      warned.add(id);
      console.error(
        `hull: warning: container ${id.slice(0, 12)} has a damaged record: hull rm -f ${id.slice(0, 12)} removes it`,
      );
    }
  }
  return out;
}

const warned = new Set<string>();

/** The container's record is damaged: only `rm -f` (or `system check --repair`) can act on it. */
export class DamagedContainerError extends Error {
  constructor(readonly id: string) {
    super(`container ${id.slice(0, 12)} has a damaged record: hull rm -f ${id.slice(0, 12)} removes it`);
  }
}

/** KEY as a container directory whose record cannot be read: a full id, a name, a unique id prefix. */
function damagedContainer(paths: StorePaths, key: string): string | undefined {
  let ids: string[] = [];
  try {
    ids = (readDir(paths.containers) ?? []).filter((id) => CONTAINER_ID.test(id));
  } catch {
    return undefined;
  }
  const named = readlink(join(paths.root, "names", key));
  const candidates = ids.filter((id) => id === named || id.startsWith(key));
  const only = candidates.length === 1 ? (candidates[0] as string) : undefined;
  return only && !readRecord(paths, only) ? only : undefined;
}

function readRecord(paths: StorePaths, id: string): ContainerRecord | undefined {
  const text = readFileText(join(paths.containers, id, "container.json"));
  if (text === undefined) return undefined;
  try {
    const r = v.safeParse(ContainerRecordSchema, JSON.parse(text));
    return r.success ? r.output : undefined;
  } catch {
    return undefined;
  }
}

/** The name names no container: `rm -f` of it is no error, as in docker; elsewhere exit 1, docker's status. */
export class NoSuchContainerError extends Error {
  readonly exitCode = 1;
}

/** A container by full id, unique id prefix, or name. */
export function findContainer(paths: StorePaths, key: string): ContainerRecord {
  // the common cases without listing the store (which would load node:fs): a full id, a name
  if (CONTAINER_ID.test(key)) {
    const rec = readRecord(paths, key);
    if (rec) return rec;
  }
  const named = readlink(join(paths.root, "names", key));
  if (named && CONTAINER_ID.test(named)) {
    const rec = readRecord(paths, named);
    if (rec?.name === key) return rec;
  }
  const all = listContainers(paths);
  const byName = all.find((c) => c.name === key);
  if (byName) return byName;
  const matches = all.filter((c) => c.id.startsWith(key));
  if (matches.length === 1) return matches[0] as ContainerRecord;
  if (matches.length > 1) throw new Error(`container id prefix ${key} is ambiguous: give more digits`);
  const damaged = damagedContainer(paths, key);
  if (damaged) throw new DamagedContainerError(damaged);
  throw new NoSuchContainerError(`no such container: ${key}`);
}

const ADJECTIVES = [
  "brave",
  "calm",
  "eager",
  "fond",
  "gentle",
  "happy",
  "keen",
  "lucid",
  "merry",
  "nimble",
  "proud",
  "quiet",
  "sharp",
  "swift",
  "tender",
  "vivid",
  "witty",
  "zen",
];
const NAMES = [
  "babbage",
  "curie",
  "dijkstra",
  "euler",
  "feynman",
  "gauss",
  "hopper",
  "knuth",
  "lamport",
  "lovelace",
  "noether",
  "pike",
  "ritchie",
  "shannon",
  "thompson",
  "turing",
  "wirth",
  "yalow",
];

/** Docker-style adjective_name, not yet taken. */
export function generateName(taken: Set<string>): string {
  for (let i = 0; ; i++) {
    const r = crypto.getRandomValues(new Uint32Array(2));
    const base = `${ADJECTIVES[(r[0] as number) % ADJECTIVES.length]}_${NAMES[(r[1] as number) % NAMES.length]}`;
    const name = i < 20 ? base : `${base}${i}`;
    if (!taken.has(name)) return name;
  }
}
