// ps, rm, container prune, container inspect over the store's container records.
import { networksDir } from "../network/holder-userns";
import { BRIDGE_GATEWAY, BRIDGE_PREFIX, DEFAULT_MODE } from "../network/bridge";
import { join } from "../sys/path";
import * as v from "valibot";
import { lazily } from "../sys/lazy-schema";
import { ABI } from "../runtime/abi";
import { readHealth } from "./health";
import { containerAttrs, emitEvent } from "../store/events";
import { removeTreeIn } from "../image/layers";
import { parseLimits } from "../runtime/cgroup";
import type { StorePaths } from "../store/paths";
import { accessible, F_OK, readFileText, removeOwnTree } from "../sys/libc";
import { pollUntil } from "../sys/poll-until";
import { writeFileAtomic } from "../store/atomic";
import { releaseName, reserveName } from "./names";
import { removeVolume, volumeData } from "./volumes";
import {
  type ContainerRecord,
  type ContainerState,
  containerDir,
  containerState,
  DamagedContainerError,
  findContainer,
  helperGone,
  initPid,
  listContainers,
  pidFile,
  processStart,
  startedAt,
  withContainerLock,
} from "./records";
import { tmpEntry } from "../store/tmp";

export interface ContainerView {
  record: ContainerRecord;
  state: ContainerState;
}

export function containers(paths: StorePaths, all: boolean): ContainerView[] {
  return views(paths, listContainers(paths), all);
}

function views(paths: StorePaths, records: ContainerRecord[], all: boolean): ContainerView[] {
  return records
    .map((record) => ({ record, state: containerState(paths, record) }))
    .filter((c) => all || c.state.status === "running")
    .sort((a, b) => (a.record.created < b.record.created ? 1 : a.record.created > b.record.created ? -1 : 0));
}

/**
 * --rm containers whose hull died before anything of the container ran to clean up (a kill -9 while
 * it started): garbage, removed as `rm -f -v` would, by the next `hull ps`. The containers left, as
 * `containers(paths, true)` gives them (each record read once: `hull ps` of 200 read them twice).
 */
export async function sweepDeadRemovals(paths: StorePaths): Promise<ContainerView[]> {
  const all = views(paths, listContainers(paths), true);
  const dead = all.filter((c) => c.record.rm && c.state.status === "dead");
  for (const c of dead) await removeContainer(paths, c.record.id, true, true).catch(() => {});
  return dead.length === 0 ? all : containers(paths, true);
}

async function waitGone(paths: StorePaths, rec: ContainerRecord): Promise<void> {
  if (await pollUntil(() => containerState(paths, rec).status !== "running", 1250)) return;
  throw new Error(`container ${rec.id.slice(0, 12)} did not stop`);
}

/** `hull rm [-f] CONTAINER`: a running one only with -f, which kills it first. */
export async function removeContainer(
  paths: StorePaths,
  key: string,
  force: boolean,
  volumes = false,
): Promise<string> {
  let found: ContainerRecord;
  try {
    found = findContainer(paths, key);
  } catch (e) {
    if (!(e instanceof DamagedContainerError) || !force) throw e;
    await removeDamaged(paths, e.id);
    return key;
  }
  // a start or a copy into it that is under way finishes first
  return withContainerLock(paths, found.id, () => removeLocked(paths, key, force, volumes), key);
}

async function removeLocked(paths: StorePaths, key: string, force: boolean, volumes: boolean): Promise<string> {
  const rec = findContainer(paths, key);
  const state = containerState(paths, rec);
  if (state.status === "exited" && state.restarting) {
    // docker's rule; with -f its supervisor ends first, and with it the helper holding its ports
    if (!force) throw new Error(`container ${key} is restarting: stop it first, or use rm -f`);
    const { stopContainer } = await import("./lifecycle");
    await stopContainer(paths, rec.id, 0);
  }
  // a supervisor still there for a container that exited goes too
  const sup = pidFile(paths, rec.id, "supervisor.pid");
  if (state.status !== "running" && sup && processStart(sup.pid) === sup.start) {
    try {
      process.kill(sup.pid, "SIGKILL");
    } catch {}
  }
  if (state.status === "running") {
    if (!force) throw new Error(`container ${key} is running: stop it first, or use rm -f`);
    // killing hull's own process: its user-namespace stage then kills the container and, for a
    // --rm container, removes it
    const init = pidFile(paths, rec.id, "init.pid");
    process.kill(state.pid, "SIGKILL");
    await waitGone(paths, rec);
    await helperGone(paths, rec.id);
    // and its pid 1, which ends only once the kernel has ended every other process of its pid
    // namespace: none is left to change the layer while it is removed
    if (init) await pollUntil(() => processStart(init.pid) !== init.start, 2000);
  }
  const dir = containerDir(paths, rec.id);
  if (accessible(dir, F_OK)) await discardContainerDir(paths, rec.id);
  releaseName(paths, rec.name, rec.id);
  // A container that exited had its links deleted by its supervisor as it ended (ffi/netns.c); one
  // killed outright (rm -f, or its supervisor killed) has them still, until the kernel's late
  // teardown of its namespace: deleted here (a shim of its own, ~30 ms, so only then).
  const linksLeft = state.status !== "exited";
  if (rec.bridgeIp) {
    // the same for its address on the shared bridge
    if (linksLeft) {
      const { vethName } = await import("../network/veth");
      const { deleteLinks } = await import("../network/manage");
      await deleteLinks(paths, [vethName(rec.id, "hull0")]).catch(() => {});
    }
    (await import("../network/bridge")).releaseAddress(paths, rec.bridgeIp);
  }
  if (rec.networks && Object.keys(rec.networks).length > 0) {
    // its links go now (a container joined to its namespace would keep them, address and all, and
    // the kernel deletes them seconds after a kill); then its address is free, and no peer names it
    const { withNetworksLock } = await import("../network/records");
    const { refreshHosts, vethName } = await import("../network/attach");
    const { deleteLinks } = await import("../network/manage");
    const endpoints = Object.values(rec.networks);
    if (linksLeft)
      await deleteLinks(
        paths,
        endpoints.map((e) => vethName(rec.id, e.networkId)),
      ).catch(() => {});
    const nets = Object.keys(rec.networks);
    await withNetworksLock(paths, () => refreshHosts(paths, nets));
  }
  // -v: the container's anonymous volumes go with it; named ones always stay
  if (volumes) for (const vol of rec.anonymousVolumes ?? []) await removeVolume(paths, vol).catch(() => {});
  // an --rm container killed here was removed, and its destroy said, by its own shim
  if (!(state.status === "running" && rec.rm)) emitEvent(paths, "container", "destroy", rec.id, containerAttrs(rec));
  return key;
}

export async function pruneContainers(
  paths: StorePaths,
  allows: (rec: ContainerRecord) => boolean = () => true,
): Promise<string[]> {
  const out: string[] = [];
  for (const c of containers(paths, true)) {
    // a restarting one is not stopped (docker's prune leaves it too)
    if (c.state.status === "running" || (c.state.status === "exited" && c.state.restarting) || !allows(c.record))
      continue;
    await removeContainer(paths, c.record.id, false);
    out.push(c.record.id);
  }
  return out;
}

/** A container's limits under docker's HostConfig names (0: none, as docker shows it). */
function hostConfigLimits(flags: Record<string, string>): Record<string, number | string> {
  const l = parseLimits(flags);
  return {
    Memory: l.memory ?? 0,
    MemorySwap: l.memorySwap ?? 0,
    MemoryReservation: l.memoryReservation ?? 0,
    NanoCpus: flags.cpus !== undefined ? Math.round(Number(flags.cpus) * 1e9) : 0,
    CpuQuota: flags.cpus === undefined ? (l.cpuQuota ?? 0) : 0,
    CpuPeriod: flags.cpus === undefined ? (l.cpuPeriod ?? 0) : 0,
    CpuShares: l.cpuShares ?? 0,
    CpusetCpus: l.cpusetCpus ?? "",
    CpusetMems: l.cpusetMems ?? "",
    PidsLimit: l.pidsLimit ?? 0,
    BlkioWeight: l.blkioWeight ?? 0,
  };
}

const SavedProcess = lazily(() =>
  v.looseObject({
    env: v.array(v.string()),
    cwd: v.string(),
    uid: v.number(),
    gid: v.number(),
    flags: v.number(),
  }),
);

/** What container ID runs, as its spec.json keeps it (undefined for a record without one). */
function savedProcess(paths: StorePaths, id: string): v.InferOutput<typeof SavedProcess> | undefined {
  const text = readFileText(join(containerDir(paths, id), "spec.json"));
  if (!text) return undefined;
  const r = v.safeParse(SavedProcess, JSON.parse(text));
  return r.success ? r.output : undefined;
}

function readNetworkSubnetPrefix(paths: StorePaths, name: string): string {
  const { readNetwork } = require("../network/records") as typeof import("../network/records");
  return readNetwork(paths, name)?.subnet.split("/")[1] ?? "0";
}

function readNetworkGateway(paths: StorePaths, name: string): string | undefined {
  const { readNetwork } = require("../network/records") as typeof import("../network/records");
  return readNetwork(paths, name)?.gateway;
}

/** docker's HostConfig.Binds: `-v`'s binds and named volumes as SOURCE:TARGET[:ro]; null for none. */
function bindsOf(rec: ContainerRecord): string[] | null {
  const binds = (rec.mounts ?? [])
    .filter((m) => m.type !== "tmpfs")
    .map((m) => `${m.source}:${m.target}${m.readonly ? ":ro" : ""}`);
  return binds.length > 0 ? binds : null;
}

/** On the default network: no --network, or one of its names, and on no user network. */
function onDefaultNetwork(rec: ContainerRecord): boolean {
  const mode = rec.networkMode ?? "bridge";
  return DEFAULT_MODE.test(mode) && Object.keys(rec.networks ?? {}).length === 0;
}

/** The default network's entry in NetworkSettings.Networks (an address only on the shared bridge). */
function defaultNetworkEntry(rec: ContainerRecord, up: boolean): Record<string, unknown> {
  const { builtinId } = require("../network/manage") as typeof import("../network/manage");
  const ip = up ? (rec.bridgeIp ?? "") : "";
  return {
    NetworkID: builtinId("bridge"),
    Aliases: null,
    IPAddress: ip,
    IPPrefixLen: ip ? BRIDGE_PREFIX : 0,
    Gateway: ip ? BRIDGE_GATEWAY : "",
    EndpointID: up ? rec.id : "",
  };
}

export function inspectContainer(paths: StorePaths, key: string): Record<string, unknown> {
  const rec = findContainer(paths, key);
  const state = containerState(paths, rec);
  const spec = savedProcess(paths, rec.id);
  return {
    Id: rec.id,
    // docker's: with a leading slash (scripts strip it, or compare with it)
    Name: rec.name ? `/${rec.name}` : "",
    Created: rec.created,
    Path: rec.command[0] ?? "",
    Args: rec.command.slice(1),
    Image: rec.imageId ?? "",
    Config: {
      Hostname: rec.hostname ?? "",
      Domainname: rec.domainname ?? "",
      User: spec && (spec.uid !== 0 || spec.gid !== 0) ? `${spec.uid}:${spec.gid}` : "",
      Tty: spec ? (spec.flags & ABI.HULL_FLAG_TTY) !== 0 : false,
      OpenStdin: spec ? (spec.flags & ABI.HULL_FLAG_STDIN) !== 0 : false,
      Env: spec?.env ?? [],
      Cmd: rec.command,
      Image: rec.image,
      WorkingDir: spec?.cwd ?? "",
      Labels: rec.labels ?? {},
      StopSignal: rec.stopSignal ?? "SIGTERM",
      ...(rec.health
        ? {
            Healthcheck: {
              Test: ["CMD", ...rec.health.test],
              Interval: rec.health.interval * 1e6,
              Timeout: rec.health.timeout * 1e6,
              StartPeriod: rec.health.startPeriod * 1e6,
              Retries: rec.health.retries,
            },
          }
        : {}),
      ...(rec.stopTimeout !== undefined ? { StopTimeout: rec.stopTimeout } : {}),
      // a Go map: its keys in string order, as docker's json prints them
      ExposedPorts: rec.exposed?.length ? Object.fromEntries([...rec.exposed].sort().map((k) => [k, {}])) : null,
    },
    Platform: "linux",
    Driver: "overlay",
    LogPath: rec.rm ? "" : join(containerDir(paths, rec.id), "container.log"),
    HostConfig: {
      AutoRemove: rec.rm,
      UsernsMode: rec.userns ?? "",
      NetworkMode: rec.networkMode ?? "bridge",
      CgroupParent: rec.cgroupParent ?? "",
      GroupAdd: rec.groupAdd ?? null,
      Devices: (rec.devices ?? []).map((d) => ({
        PathOnHost: d.host,
        PathInContainer: d.container,
        CgroupPermissions: d.permissions,
      })),
      Sysctls: rec.sysctls ?? {},
      ...hostConfigLimits(rec.limits ?? {}),
      // docker's: -v's binds and named volumes as given, null for none
      Binds: bindsOf(rec),
      PortBindings: Object.fromEntries(
        Object.entries(Object.groupBy(rec.ports ?? [], (p) => `${p.containerPort}/${p.proto}`)).map(([k, ps]) => [
          k,
          (ps ?? []).map((p) => ({ HostIp: p.hostIp, HostPort: String(p.hostPort) })),
        ]),
      ),
      PublishAllPorts: rec.publishAll === true,
      RestartPolicy: {
        Name: (rec.restart ?? "no").split(":")[0],
        MaximumRetryCount: Number(rec.restart?.split(":")[1] ?? 0),
      },
      LogConfig: { Type: "json-file", Config: rec.logOpts ?? {} },
      Privileged: rec.privileged === true,
      IpcMode: rec.ipc ?? "private",
      ReadonlyRootfs: rec.readOnly === true,
      Init: rec.init === true ? true : null,
      ...(rec.annotations ? { Annotations: rec.annotations } : {}),
    },
    RestartCount: Number(readFileText(join(containerDir(paths, rec.id), "restarts")) ?? 0),
    State: {
      Status: state.status === "exited" && state.restarting ? "restarting" : state.status,
      Running: state.status === "running",
      Paused: state.status === "running" && state.paused === true,
      Restarting: state.status === "exited" && state.restarting === true,
      Dead: state.status === "dead",
      Error: "",
      // docker's Pid: the container's first process as the host numbers it, not hull's supervisor
      Pid: state.status === "running" ? (initPid(paths, rec.id) ?? state.pid) : 0,
      ExitCode: state.status === "exited" ? state.exitCode : 0,
      StartedAt: startedAt(paths, rec.id) ?? "",
      FinishedAt: state.status === "exited" ? state.finishedAt : "",
      OOMKilled: state.status === "exited" && state.oomKilled === true,
      // docker's: only for a container with a health check
      ...(rec.health ? { Health: readHealth(paths, rec.id) ?? { Status: "starting", FailingStreak: 0, Log: [] } } : {}),
    },
    Mounts: (rec.mounts ?? []).map((m) => ({
      Type: m.type,
      ...(m.type === "volume" ? { Name: m.source } : {}),
      Source: m.type === "volume" ? volumeData(paths, m.source) : m.source,
      Destination: m.target,
      Mode: "",
      RW: !m.readonly,
      Propagation: m.type === "bind" ? "rprivate" : "",
    })),
    // docker's: each published container port and the host addresses that lead to it
    NetworkSettings: {
      Ports: Object.fromEntries(
        (state.status === "running" ? (rec.ports ?? []) : []).map((p) => [
          `${p.containerPort}/${p.proto}`,
          [{ HostIp: p.hostIp || "0.0.0.0", HostPort: String(p.hostPort) }],
        ]),
      ),
      IPAddress: state.status === "running" ? (rec.bridgeIp ?? "") : "",
      IPPrefixLen: state.status === "running" && rec.bridgeIp ? BRIDGE_PREFIX : 0,
      Gateway: state.status === "running" && rec.bridgeIp ? BRIDGE_GATEWAY : "",
      // docker's per network: the address while it runs, the names peers reach it by; the default
      // network is "bridge", as docker names it
      Networks: Object.fromEntries([
        ...(onDefaultNetwork(rec) ? [["bridge", defaultNetworkEntry(rec, state.status === "running")]] : []),
        ...Object.entries(rec.networks ?? {}).map(([name, e]) => {
          const prefix = Number(readNetworkSubnetPrefix(paths, name));
          const up = state.status === "running";
          return [
            name,
            {
              NetworkID: e.networkId,
              Aliases: [...(rec.name ? [rec.name] : []), ...e.aliases, rec.id.slice(0, 12)],
              IPAddress: up ? e.ip : "",
              IPPrefixLen: up ? prefix : 0,
              Gateway: up ? (readNetworkGateway(paths, name) ?? "") : "",
              EndpointID: up ? rec.id : "",
            },
          ];
        }),
      ]),
    },
    GraphDriver: { Name: "overlay", Data: { UpperDir: join(containerDir(paths, rec.id), "upper") } },
  };
}

/** `hull rename OLD NEW`: the new name is taken first (atomically), then the record, then the old one let go. */
export async function renameContainer(paths: StorePaths, key: string, newName: string): Promise<void> {
  const found = findContainer(paths, key);
  await reserveName(paths, found.id, newName);
  const { withNetworksLock } = await import("../network/records");
  // under both locks, as connect and disconnect write the record; peers then know it by its new name
  await withContainerLock(paths, found.id, () =>
    withNetworksLock(paths, async () => {
      const rec = findContainer(paths, found.id);
      const dir = containerDir(paths, rec.id);
      writeFileAtomic(join(dir, "container.json"), `${JSON.stringify({ ...rec, name: newName }, null, 2)}\n`);
      releaseName(paths, rec.name, rec.id);
      emitEvent(paths, "container", "rename", rec.id, {
        ...containerAttrs({ ...rec, name: newName }),
        oldName: rec.name ?? "",
      });
      // its own /etc/hosts line names it too; not the host's file (--network host), nor the one of
      // the container whose network it joined
      const mode = rec.networkMode ?? "bridge";
      if (mode !== "host" && !mode.startsWith("container:")) {
        const { refreshHosts } = await import("../network/attach");
        refreshHosts(paths, Object.keys(rec.networks ?? {}), [rec.id]);
      }
    }),
  );
}

/**
 * Move the container's directory out of containers/ in one rename, then delete it: a removal killed
 * halfway leaves a temp entry the next command sweeps, never a container directory without its record.
 * Gone already (a --rm container's own cleanup got there first) is not an error.
 */
async function discardContainerDir(paths: StorePaths, id: string): Promise<void> {
  const { mkdirSync, renameSync } = await import("node:fs");
  mkdirSync(paths.tmp, { recursive: true });
  const doomed = tmpEntry(paths, "rm");
  try {
    renameSync(containerDir(paths, id), doomed);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
    throw e;
  }
  // most writable layers are the caller's files alone (the container's root is the caller on the
  // host): removed here, and a shim in the user namespace (~3 ms of a 10 ms `hull rm`) only for
  // what is left, files of other ids in directories that are not the caller's
  if (removeOwnTree(doomed)) return;
  // the holder's user namespace when it lives (a loop of run and rm): no newuidmap for the removal
  await removeTreeIn(networksDir(paths), doomed);
}

/** rm -f of a container whose record cannot be read: its directory, and any name that points at it. */
async function removeDamaged(paths: StorePaths, id: string): Promise<void> {
  await discardContainerDir(paths, id);
  const { readdirSync } = await import("node:fs");
  let names: string[] = [];
  try {
    names = readdirSync(join(paths.root, "names"));
  } catch {}
  for (const n of names) releaseName(paths, n, id);
}
