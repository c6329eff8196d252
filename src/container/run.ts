// `hull run`: resolve image and options into a ShimSpec, lay out the container's directory, and exec
// the shim, which owns the container from there (see docs/architecture.md).
import { join, resolve } from "../sys/path";
import type { ImageConfig } from "../image/config";
import { type FoundImage, findImage, findOrSeed } from "../image/lookup";
import { ImageStore } from "../image/store";
import { writeFileAtomic, writeNewFile } from "../store/atomic";
import { storePaths, storeRoot } from "../store/paths";
import { ABI } from "../runtime/abi";
import { hostIdMapping } from "../runtime/idmap";
import { keepIdMapping, parseUserns } from "../runtime/userns-mode";
import { encodeMessage, type ShimSpec } from "../runtime/message";
import { type BindMount, namespaceFlags, planMounts } from "../runtime/plan";
import { execShim, readShimSoon } from "../runtime/shim";
import { selfCommand } from "../runtime/userns-exec";
import { peersCommand } from "../network/peers-command";
import { mark } from "../sys/trace";
import { emitEvent, emitEvents, eventLine, journalPath } from "../store/events";
import { findProgram } from "../runtime/programs";
import { resolveSecurity, type Security } from "../runtime/security";
import { accessible, F_OK, isatty, mkdir, R_OK, readFileText, readlink, W_OK } from "../sys/libc";
import { type MountSpec, parseMountFlag, parseTmpfsFlag, parseVolumeFlag } from "./binds";
import { ensureVolume } from "./volumes";
import { DNS_FORWARDER, nameFiles, writeEtcFiles } from "./etc-files";
import {
  type Helper,
  helperCommand,
  hostGateway,
  type NetworkMode,
  PASTA_INSTALL,
  parseNetwork,
} from "../network/mode";
import type { PortMapping } from "../network/publish";
import type { NetworkRecord } from "../network/records";
import { holderUserns } from "../network/holder-userns";
import { buildEnv, readEnvFile } from "./env";
import { overlayModeFromEnv, type RunOptions } from "./options";
import { labelMap, reservedKey } from "./labels";
import { visible } from "../sys/control-chars";
import { nameLink, releaseName, reserveName } from "./names";
import { type ContainerRecord, processStart } from "./records";
import { type ResolvedUser, resolveGroups, resolveUser } from "./user";
import type { DeviceMapping } from "./devices";
import type { Sysctl } from "./sysctls";

export class RunError extends Error {
  constructor(
    message: string,
    readonly exitCode = ABI.HULL_EXIT_SETUP,
    options?: { cause: unknown },
  ) {
    super(message, options);
  }

  /** E as a setup failure (exit 125), its message kept and E as the cause, for the words main.ts finds */
  static from(e: unknown): RunError {
    return new RunError((e as Error).message, ABI.HULL_EXIT_SETUP, { cause: e });
  }
}

interface Root {
  /** unpacked layers, topmost first, or the --rootfs directory */
  layers: string[];
  config: ImageConfig["config"];
  imageName: string;
  /** the image's id, which `hull rmi` checks before removing an image a container uses */
  imageId?: string;
  /** OS/ARCH[/VARIANT] of the image, as its config says */
  platform?: string;
  direct: boolean;
}

async function resolveRoot(o: RunOptions, paths: ReturnType<typeof storePaths>): Promise<Root> {
  if (o.rootfs) {
    const dir = resolve(o.rootfs);
    if (!accessible(`${dir}/.`, F_OK)) throw new RunError(`--rootfs ${dir}: no such directory`);
    return { layers: [dir], config: {}, imageName: dir, direct: true };
  }
  const name = o.image ?? "";
  const store = new ImageStore(paths);
  let found: FoundImage | undefined;
  try {
    // the registry client loads only when a pull is needed
    const say = o.quiet ? () => {} : (l: string) => console.error(visible(l));
    const pullNow = async () => (await import("../image/pull")).pull(store, name, { say });
    if (o.pull === "always") await pullNow();
    found = await findOrSeed(store, name);
    if (!found && o.pull === "missing") {
      await pullNow();
      found = findImage(store, name);
    }
  } catch (e) {
    throw RunError.from(e);
  }
  if (!found) throw new RunError(`image ${name} not found locally (--pull never): hull pull ${name}`);
  const layers = found.record.layers.map((l) => store.layerDir(l.diffId)).reverse();
  const c = found.config as { os?: string; architecture?: string; variant?: string };
  const platform = [c.os ?? "linux", c.architecture ?? "", ...(c.variant ? [c.variant] : [])].join("/");
  return {
    layers,
    config: found.config.config ?? {},
    imageName: name,
    imageId: found.record.id,
    direct: false,
    platform,
  };
}

/** linux/amd64 as docker spells platforms: x86_64 is amd64, aarch64 arm64, and no OS means linux */
function normalPlatform(p: string): string {
  const parts = p.toLowerCase().split("/");
  // one word: an OS (linux) stands for itself, an architecture (arm64) is linux's
  if (parts.length === 1 && parts[0] === "linux") return "linux";
  if (parts.length === 1) parts.unshift("linux");
  const arch = { x86_64: "amd64", "x86-64": "amd64", aarch64: "arm64" }[parts[1] as string] ?? parts[1];
  return [parts[0], arch, ...parts.slice(2)].join("/");
}

function commandLine(o: RunOptions, c: Root["config"]): string[] {
  const cmd = o.command.length > 0 ? o.command : o.entrypoint !== undefined ? [] : (c?.Cmd ?? []);
  const entry = o.entrypoint !== undefined ? (o.entrypoint ? [o.entrypoint] : []) : (c?.Entrypoint ?? []);
  const argv = [...entry, ...cmd];
  if (argv.length === 0) throw new RunError("no command specified: give one after the image name");
  return argv;
}

function newId(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex");
}

/** Options that cannot go together (run's first refusals, and hull script --check's). */
function flagConflicts(o: RunOptions): void {
  if (o.detach && o.attach.length > 0)
    throw new RunError("-a and -d conflict: a detached container is attached to nothing");
  if (o.restart !== "no" && o.rm)
    throw new RunError("--restart and --rm conflict: a container removed on exit cannot be restarted");
  if (o.restart !== "no" && !o.detach)
    throw new RunError("--restart needs -d: the supervisor of a detached container restarts it");
}

/**
 * What `hull run` would refuse in O before it makes anything, checked without making anything (hull
 * script --check): the values of the mounts, limits, ulimits, files, signals, sizes and network.
 */
export async function checkRunOptions(o: RunOptions): Promise<void> {
  flagConflicts(o);
  try {
    for (const s of o.volumes) parseVolumeFlag(s);
    for (const s of o.mounts) parseMountFlag(s);
    for (const s of o.tmpfs) parseTmpfsFlag(s);
    const { parseUlimit } = await import("../runtime/ulimits");
    for (const u of o.ulimits) parseUlimit(u);
    if (Object.keys(o.limits).length > 0) (await import("../runtime/cgroup")).parseLimits(o.limits);
    parseUserns(o.userns);
    for (const f of o.envFiles) readEnvFile(f);
    for (const f of o.labelFiles) if (readFileText(f) === undefined) throw new Error(`--label-file ${f}: no such file`);
    if (o.stopSignal !== undefined) await checkStopSignal(o.stopSignal);
    parseLogOpts(o.logOpts);
    if (o.shmSize !== undefined && !shmBytes(o.shmSize))
      throw new Error(`--shm-size takes a size such as 64m or 1g, not ${o.shmSize}`);
    await resolveSecurity(o);
    const net = parseNetwork(o.network, () => {});
    if (o.devices.length > 0) (await import("./devices")).checkedDevices(o.devices);
    if (o.sysctls.length > 0) (await import("./sysctls")).parseSysctls(o.sysctls, net.kind);
    const { healthConfig } = await import("./health");
    if (o.healthCmd !== undefined || o.noHealthcheck) healthConfig(o, undefined);
  } catch (e) {
    throw RunError.from(e);
  }
}

export interface LogOpts {
  max?: number;
  files?: number;
  /** labels=, env=, env-regex=: what `hull logs --details` shows before each line */
  labels?: string[];
  env?: string[];
  envRegex?: RegExp;
}

/** --stop-signal's value checked; the refusal names the flag (a script's header line is found by it) */
async function checkStopSignal(name: string): Promise<void> {
  try {
    (await import("./lifecycle")).signalNumber(name);
  } catch (e) {
    throw new RunError(`--stop-signal: ${(e as Error).message}`);
  }
}

/** --log-opt: docker's json-file options hull keeps; another is refused by name */
export function parseLogOpts(opts: string[]): LogOpts {
  const out: LogOpts = {};
  for (const opt of opts) {
    const eq = opt.indexOf("=");
    const key = eq < 0 ? opt : opt.slice(0, eq);
    const value = eq < 0 ? "" : opt.slice(eq + 1);
    if (key === "max-size") {
      const { parseSize } = require("../runtime/cgroup") as typeof import("../runtime/cgroup");
      const n = parseSize(value);
      if (n === undefined || n < 1024 || n > Number.MAX_SAFE_INTEGER)
        throw new RunError(`--log-opt max-size takes a size from 1k, such as 10m, not ${value}`);
      out.max = n;
    } else if (key === "max-file") {
      if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 100)
        throw new RunError(`--log-opt max-file takes a number from 1 to 100, not ${value}`);
      out.files = Number(value);
    } else if (key === "labels" || key === "env") {
      out[key] = value.split(",").filter(Boolean);
    } else if (key === "env-regex") {
      try {
        out.envRegex = new RegExp(value);
      } catch {
        throw new RunError(`--log-opt env-regex=${value}: not a regular expression`);
      }
    } else {
      throw new RunError(
        `--log-opt ${key} is not supported: hull's json-file log takes max-size, max-file, labels, env and env-regex`,
      );
    }
  }
  return out;
}

/** The labels and variables --log-opt labels=/env=/env-regex= name, as docker's log attributes. */
function logAttrs(log: LogOpts, labels: Record<string, string>, env: string[]): { logAttrs?: Record<string, string> } {
  const attrs: Record<string, string> = {};
  for (const k of log.labels ?? []) if (k in labels) attrs[k] = labels[k] as string;
  for (const e of env) {
    const eq = e.indexOf("=");
    const k = eq < 0 ? e : e.slice(0, eq);
    if (log.env?.includes(k) || log.envRegex?.test(k)) attrs[k] = eq < 0 ? "" : e.slice(eq + 1);
  }
  return Object.keys(attrs).length > 0 ? { logAttrs: attrs } : {};
}

/** --shm-size in bytes: 4 KiB to 2^53 (a size past that wraps in the kernel's tmpfs option) */
export function shmBytes(text: string): number | undefined {
  const { parseSize } = require("../runtime/cgroup") as typeof import("../runtime/cgroup");
  const n = parseSize(text);
  return n !== undefined && n >= 4096 && n <= Number.MAX_SAFE_INTEGER ? n : undefined;
}

/** `hull run`; with CREATE_ONLY (`hull create`), everything but the start: the id is returned. */
export async function runContainer(o: RunOptions): Promise<never>;
export async function runContainer(o: RunOptions, createOnly: true): Promise<string>;
export async function runContainer(o: RunOptions, createOnly = false): Promise<string> {
  flagConflicts(o);
  if (!createOnly) readShimSoon();
  if (o.tty && o.interactive && !o.detach && !isatty(0))
    throw new RunError("the input device is not a TTY: drop -t, or run from a terminal");
  const paths = storePaths(storeRoot(o.root));
  // limits first: a limit that cannot be had is refused before anything is made
  let cgroup: string | undefined;
  // --cgroups=disabled: the user's explicit choice to run without the limits (podman's), never a
  // silent default; the values are checked all the same
  const limited = (Object.keys(o.limits).length > 0 || o.cgroupParent !== undefined) && o.cgroups === "enabled";
  if (o.cgroupParent !== undefined && o.cgroups === "disabled")
    throw new RunError("--cgroup-parent and --cgroups=disabled conflict: a container without a cgroup has no parent");
  if (Object.keys(o.limits).length > 0 || o.cgroupParent !== undefined) {
    const cg = await import("../runtime/cgroup");
    try {
      const limits = cg.parseLimits(o.limits);
      if (o.cgroupParent !== undefined) cg.checkCgroupParent(o.cgroupParent);
      try {
        if (limited && createOnly) {
          const host = cg.cgroupHost();
          if (!host.ok) throw new Error(`resource limits need cgroup v2: ${host.reason}; ${host.fix}`);
        } else if (limited) cgroup = cg.placeContainer(limits, o.cgroupParent);
      } catch (e) {
        throw new Error(`${(e as Error).message} (or --cgroups=disabled, to run without the limits)`);
      }
    } catch (e) {
      throw RunError.from(e);
    }
  }
  let overlayMode = overlayModeFromEnv();
  let ids = hostIdMapping();
  let keepId: ReturnType<typeof keepIdMapping> | undefined;
  try {
    const userns = parseUserns(o.userns);
    if (userns.kind === "keep-id") keepId = keepIdMapping(ids, userns);
  } catch (e) {
    throw RunError.from(e);
  }

  let mounts: MountSpec[];
  try {
    mounts = [
      ...o.volumes.map((s) => parseVolumeFlag(s)),
      ...o.mounts.map((s) => parseMountFlag(s)),
      ...o.tmpfs.map((s) => parseTmpfsFlag(s)),
    ];
    if (o.volumesFrom.length > 0) {
      const { mountsFrom } = await import("./volumes-from");
      mounts.push(...mountsFrom(paths, o.volumesFrom, new Set(mounts.map((m) => m.target))));
    }
  } catch (e) {
    throw RunError.from(e);
  }
  for (const m of mounts) {
    if (m.kind !== "bind" || !m.create) continue;
    const { mkdirSync } = await import("node:fs");
    try {
      mkdirSync(m.source, { recursive: true });
    } catch (e) {
      throw new RunError(`-v ${m.source}: cannot create it (${(e as NodeJS.ErrnoException).code})`);
    }
  }
  let rlimits: string[] = [];
  // a dynamic import is a chunk to load and a turn of the event loop: only when there is a --ulimit
  if (o.ulimits.length > 0)
    try {
      const { parseUlimit } = await import("../runtime/ulimits");
      // the last of one resource wins, as docker's
      const byResource = new Map(o.ulimits.map((u) => parseUlimit(u)).map((r) => [r.resource, r]));
      rlimits = [...byResource.values()].map((r) => `${r.resource} ${r.soft} ${r.hard}`);
    } catch (e) {
      throw RunError.from(e);
    }
  const envFiles: string[] = [];
  for (const f of o.envFiles) {
    try {
      envFiles.push(...readEnvFile(f));
    } catch (e) {
      throw RunError.from(e);
    }
  }
  // --label-file: KEY=VALUE lines (blank ones and # comments skipped), before the --label flags
  const labels: string[] = [];
  for (const f of o.labelFiles) {
    let text: string | undefined;
    try {
      text = readFileText(f);
    } catch (e) {
      throw new RunError(
        `--label-file ${f}: cannot read it (${(e as { code?: string }).code ?? (e as Error).message})`,
      );
    }
    if (text === undefined) throw new RunError(`--label-file ${f}: no such file`);
    labels.push(
      ...text
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l !== "" && !l.startsWith("#")),
    );
  }
  labels.push(...o.labels);
  const reserved = labels.find(reservedKey);
  if (reserved !== undefined)
    throw new RunError(`--label ${reserved}: __proto__, constructor and prototype cannot be keys`);
  // lstat's view: a dangling link there would make the id's file fail later, past the checks
  if (o.cidfile !== undefined && (accessible(o.cidfile, F_OK) || readlink(o.cidfile) !== undefined))
    throw new RunError(`--cidfile ${o.cidfile}: the file exists (is another container running?): remove it first`);
  const log = parseLogOpts(o.logOpts);
  let devices: DeviceMapping[] = [];
  try {
    if (o.devices.length > 0) devices = (await import("./devices")).checkedDevices(o.devices);
  } catch (e) {
    throw RunError.from(e);
  }
  let shmSize: number | undefined;
  if (o.shmSize !== undefined) {
    await import("../runtime/cgroup");
    shmSize = shmBytes(o.shmSize);
    if (!shmSize) throw new RunError(`--shm-size takes a size from 4k to 8p, such as 64m or 1g, not ${o.shmSize}`);
  }
  if (o.stopSignal !== undefined) await checkStopSignal(o.stopSignal);
  let security: Security;
  try {
    security = await resolveSecurity(o);
  } catch (e) {
    throw RunError.from(e);
  }
  mark("options checked");
  const root = await resolveRoot(o, paths);
  mark("image resolved");
  // the health check: the flags over the image's HEALTHCHECK (read only where there is one)
  let health: import("./records").ContainerRecord["health"];
  if (
    o.healthCmd !== undefined ||
    o.healthInterval !== undefined ||
    o.healthTimeout !== undefined ||
    o.healthRetries !== undefined ||
    o.healthStartPeriod !== undefined ||
    o.noHealthcheck ||
    root.config?.Healthcheck
  ) {
    try {
      health = (await import("./health")).healthConfig(o, root.config?.Healthcheck);
    } catch (e) {
      throw RunError.from(e);
    }
  }
  if (o.platform !== undefined && root.platform !== undefined) {
    const want = normalPlatform(o.platform);
    if (
      want !== normalPlatform(root.platform) &&
      `${want}/` !== normalPlatform(root.platform).slice(0, want.length + 1)
    )
      throw new RunError(
        `--platform ${o.platform}: ${root.imageName} is ${root.platform} here: hull pull --platform ${o.platform} ${root.imageName}, then run it`,
      );
  }
  // the network and the ports published into it, checked before anything is made
  let net: NetworkMode;
  let ports: PortMapping[] = [];
  let exposedPorts: string[] = [];
  let names: ReturnType<typeof nameFiles>;
  // a user network's record, and the container a container: network joins
  let userNet: NetworkRecord | undefined;
  let joined: import("../network/join").Joined | undefined;
  // the helper that gives the container's own network its way out, and -p
  let outbound: Helper | undefined;
  try {
    net = parseNetwork(o.network, (line) => process.stderr.write(`${line}\n`));
    if (net.kind === "user") {
      const { findNetwork } = await import("../network/records");
      userNet = findNetwork(paths, net.name);
      // --internal: peers only, no way out (and so no helper)
      if (userNet.internal) net = { kind: "user", name: userNet.name };
    } else if (o.networkAliases.length > 0 || o.ip !== undefined) {
      throw new Error(`${o.ip !== undefined ? "--ip" : "--network-alias"} needs a user network: --network NAME`);
    }
    if (net.kind === "container") {
      if (o.restart !== "no")
        throw new Error(
          "--restart and --network container: conflict: the joined container's network is gone once it restarts",
        );
      joined = await (await import("../network/join")).joinTarget(paths, net.target, o);
      if (o.userns !== undefined)
        throw new Error("--userns and --network container: conflict: the container's user namespace is joined");
    }
    // what inspect's ExposedPorts and ps's PORTS show (with -p's ports): the image's EXPOSE as
    // "80/tcp" keys, one that is no port left out (an image is untrusted, and its keys would reach
    // the terminal through ps), then --expose's, refused when not a port
    const imageKeys = Object.keys(root.config?.ExposedPorts ?? {});
    if (imageKeys.length + o.expose.length > 0) {
      const { exposedKeys } = await import("../network/publish");
      const fromImage = imageKeys.flatMap((k) => {
        try {
          return exposedKeys(k, "EXPOSE");
        } catch {
          return [];
        }
      });
      exposedPorts = [...fromImage, ...o.expose.flatMap((e) => exposedKeys(e))];
    }
    // -P: each of them on a free host port
    const exposed = o.publishAll ? exposedPorts.map((k) => `:${k}`) : [];
    outbound = net.kind === "private" || net.kind === "user" ? net.helper : undefined;
    if (o.publish.length + exposed.length > 0) {
      if (outbound) {
        const { assignPorts, parsePublish } = await import("../network/publish");
        ports = assignPorts([...o.publish, ...exposed].flatMap((spec) => parsePublish(spec)));
      } else if (o.publish.length > 0 && (o.network === undefined || net.kind === "user")) {
        throw new Error(
          userNet?.internal
            ? `-p: network ${userNet.name} is --internal, so nothing leads in from the host`
            : `-p needs pasta, which publishes ports rootless: ${PASTA_INSTALL}`,
        );
      } else if (o.publish.length > 0) {
        // docker's words and docker's choice: the ports are dropped, the container runs
        process.stderr.write(`WARNING: Published ports are discarded when using ${net.kind} network mode\n`);
      }
    }
    // host-gateway: the host as the container reaches it, looked up only when named
    const out = outbound;
    names = nameFiles(
      o,
      () => (net.kind === "host" ? "127.0.0.1" : out ? hostGateway(out) : undefined),
      out ? (out.kind === "pasta" ? DNS_FORWARDER : "10.0.2.3") : undefined,
    );
  } catch (e) {
    throw RunError.from(e);
  }
  mark("network planned");
  let sysctls: Sysctl[] = [];
  try {
    if (o.sysctls.length > 0) sysctls = (await import("./sysctls")).parseSysctls(o.sysctls, net.kind);
  } catch (e) {
    throw RunError.from(e);
  }
  const fuseProg = findProgram("fuse-overlayfs");
  // looked at only where keep-id may need it: not on every run's start
  const fuseUsable = () => fuseProg !== "" && accessible("/dev/fuse", R_OK | W_OK);
  // docker's idiom `-u $(id -u):$(id -g) -v $PWD:/w`: a container user that is the caller's own uid
  // gets keep-id, so that uid is the caller on the host too (as under rootful docker) and files it
  // writes to a bind mount are the caller's; only where keep-id can be given, else the default map
  const asCaller = /^(\d+)(:\d+)?$/.exec(o.user ?? "");
  if (!keepId && o.userns === undefined && asCaller && Number(asCaller[1]) === ids.hostUid && ids.hostUid !== 0) {
    if (root.direct || fuseUsable()) {
      try {
        keepId = keepIdMapping(ids, {});
      } catch {
        // no subordinate ids, or the caller's uid lies beyond the range: the default map stands
      }
    }
  }
  if (joined) ids = { ...ids, uidMap: joined.uidMap, gidMap: joined.gidMap };
  if (keepId) {
    ids = keepId.ids;
    if (keepId.fuseOptions && !root.direct) {
      // the kernel's overlay cannot show the layers under other ids without privilege (idmapped
      // layers need CAP_SYS_ADMIN on the host); fuse-overlayfs can
      if (!fuseProg)
        throw new RunError(
          "--userns=keep-id needs fuse-overlayfs to show the image's files under their ids: apt-get install fuse-overlayfs",
        );
      if (!fuseUsable())
        throw new RunError("--userns=keep-id needs /dev/fuse, which you cannot open: sudo chmod 0666 /dev/fuse");
      overlayMode = ABI.HULL_OVERLAY_FUSE;
    }
  }
  if (ids.fallbackReason) {
    // stderr through console: process.stderr would cost ~10 ms of startup (see src/cli/output.ts)
    console.error(`hull: warning: ${ids.fallbackReason}; only root exists in the container (see hull doctor)`);
  }
  let user: ResolvedUser;
  try {
    // keep-id runs the command as the caller unless -u says otherwise, as podman does
    const fallback = keepId ? `${keepId.uid}:${keepId.gid}` : (root.config?.User ?? "");
    user = resolveUser(o.user ?? fallback, root.layers);
  } catch (e) {
    throw RunError.from(e);
  }
  for (const [what, id] of [
    ["user", user.uid],
    ["group", user.gid],
  ] as const) {
    if (id >= ids.size) {
      throw new RunError(`${what} ${id} is not mapped in the container (ids 0-${ids.size - 1}); see hull doctor`);
    }
  }
  // --group-add: on top of the user's own groups; a single-id map has no group to give but root's
  let groups = ids.uidMapProg ? user.groups.filter((g) => g < ids.size) : [];
  if (o.groupAdd.length > 0) {
    try {
      if (!ids.uidMapProg)
        throw new Error("--group-add needs subordinate gids, given through newgidmap (see hull doctor)");
      const extra = resolveGroups(o.groupAdd, root.layers);
      for (const g of extra)
        if (g >= ids.size)
          throw new Error(`--group-add: group ${g} is not mapped in the container (ids 0-${ids.size - 1})`);
      groups = [...new Set([...groups, ...extra])];
      if (groups.length > 64) throw new Error("--group-add: at most 64 groups in all");
    } catch (e) {
      throw RunError.from(e);
    }
  }
  const argv = commandLine(o, root.config);
  const id = newId();
  // the host's network, the host's name, as docker gives it
  const hostname =
    o.hostname ??
    joined?.hostname ??
    (net.kind === "host" ? readFileText("/proc/sys/kernel/hostname")?.trim() || undefined : undefined) ??
    id.slice(0, 12);
  const env = buildEnv({
    imageEnv: root.config?.Env ?? [],
    hostname,
    home: user.home,
    tty: o.tty,
    cli: [...envFiles, ...o.env],
    host: process.env,
  });

  const dir = join(paths.containers, id);
  for (const p of [...root.layers, dir]) {
    if (/[,:]/.test(p))
      throw new RunError(`path ${p} contains ',' or ':', which overlay options cannot carry; use another --root`);
  }
  const upper = join(dir, "upper");
  const work = join(dir, "work");
  const merged = join(dir, "merged");
  mkdir(paths.root, 0o700, true);
  mkdir(paths.containers, 0o700, true);
  // named volumes (created when missing), and an anonymous one for each of the image's VOLUME paths
  // that no -v or --mount covers
  const targets = new Set(mounts.map((m) => m.target));
  const anonymous = Object.keys(root.config?.Volumes ?? {}).filter((p) => !targets.has(p));
  const volumeMounts: BindMount[] = [];
  const named: string[] = [];
  const anonymousNames: string[] = [];
  // what is mounted where, as the record keeps it for inspect and --volumes-from
  const recorded: NonNullable<ContainerRecord["mounts"]> = [];
  for (const m of mounts) {
    if (m.kind === "bind") recorded.push({ type: "bind", source: m.source, target: m.target, readonly: m.readonly });
    if (m.kind === "tmpfs") recorded.push({ type: "tmpfs", source: "", target: m.target, readonly: false });
  }
  try {
    for (const m of mounts) {
      if (m.kind !== "volume") continue;
      const volName = m.name || newId();
      volumeMounts.push({ source: ensureVolume(paths, volName, !m.name), target: m.target, readonly: m.readonly });
      (m.name ? named : anonymousNames).push(volName);
      recorded.push({ type: "volume", source: volName, target: m.target, readonly: m.readonly });
    }
    for (const target of anonymous) {
      const volName = newId();
      volumeMounts.push({ source: ensureVolume(paths, volName, true), target, readonly: false });
      anonymousNames.push(volName);
      recorded.push({ type: "volume", source: volName, target, readonly: false });
    }
  } catch (e) {
    throw RunError.from(e);
  }
  // the plan knows two kinds: the host's network, or a namespace of the container's own (or joined)
  const ownNetwork = net.kind === "host" ? "host" : "none";
  // the default network through the shared namespace: no pasta of its own to start (bridge.ts);
  // not with -p (pasta publishes per container) nor host-gateway (the shared pasta reaches no host)
  // A user network's container goes out the same way, through its network's bridge
  const sharedWanted =
    ((net.kind === "private" && net.shared === true) || (net.kind === "user" && userNet?.internal === false)) &&
    outbound?.kind === "pasta" &&
    ports.length === 0 &&
    !names.namesHost &&
    process.env.HULL_NET_SHARED !== "0";
  const bridge = sharedWanted ? await import("../network/bridge") : undefined;
  const sharedOut = bridge?.sharedUsable() === true;
  let bridgeIp: string | undefined;
  const hostsTail = names.hostsTail;
  mkdir(dir, 0o700);
  let name: string | undefined;
  try {
    name = await reserveName(paths, id, o.name);
    if (bridge && sharedOut && net.kind === "private") bridgeIp = bridge.leaseAddress(paths, id);
    for (const d of [upper, work, merged]) mkdir(d, 0o755);
    const etcFiles = writeEtcFiles(dir, hostname, ownNetwork, names, { name, ip: bridgeIp });
    // a joined network's names are its container's: its /etc/hosts and resolv.conf, bound as they are
    if (joined) Object.assign(etcFiles, joined.etcFiles);
    const allLabels = { ...(root.config?.Labels ?? {}), ...labelMap(labels) };
    const record: ContainerRecord = {
      id,
      name,
      // a created container has no process yet; a run one is this process, which becomes the shim
      pid: createOnly ? undefined : process.pid,
      pidStart: createOnly ? undefined : processStart("self"),
      image: root.imageName,
      imageId: root.imageId,
      volumes: [...named, ...anonymousNames],
      stopSignal: o.stopSignal ?? root.config?.StopSignal ?? undefined,
      ...(o.stopTimeout !== undefined ? { stopTimeout: o.stopTimeout } : {}),
      ...(health ? { health } : {}),
      anonymousVolumes: anonymousNames,
      command: argv,
      created: new Date().toISOString(),
      rm: o.rm,
      mounts: recorded,
      ...(limited ? { limits: o.limits } : {}),
      ...(ports.length > 0 ? { ports } : {}),
      ...(limited && o.cgroupParent !== undefined ? { cgroupParent: o.cgroupParent } : {}),
      labels: allLabels,
      ...(o.userns || keepId ? { userns: o.userns || "keep-id" } : {}),
      hostname,
      ...logAttrs(log, allLabels, env),
      ...(o.domainname ? { domainname: o.domainname } : {}),
      ...(o.groupAdd.length > 0 ? { groupAdd: o.groupAdd } : {}),
      ...(devices.length > 0 ? { devices } : {}),
      ...(sysctls.length > 0 ? { sysctls: Object.fromEntries(sysctls.map((c) => [c.key, c.value])) } : {}),
      ...(hostsTail ? { hostsTail } : {}),
      ...(bridgeIp ? { bridgeIp } : {}),
      ...(sharedOut && (bridgeIp || userNet) ? { sharedOut: true } : {}),
      ...(o.network !== undefined ? { networkMode: joined ? `container:${joined.id}` : o.network } : {}),
      ...(o.restart !== "no" ? { restart: o.restart } : {}),
      ...(o.annotations.length > 0 ? { annotations: labelMap(o.annotations) } : {}),
      ...(o.privileged ? { privileged: true } : {}),
      ...(o.ipc ? { ipc: o.ipc } : {}),
      ...(o.readOnly ? { readOnly: true } : {}),
      ...(o.publishAll ? { publishAll: true } : {}),
      ...(o.init ? { init: true } : {}),
      ...(o.logOpts.length > 0 ? { logOpts: labelMap(o.logOpts) } : {}),
      ...(exposedPorts.length > 0 || ports.length > 0
        ? {
            // by port number, as docker's PORTS lists them
            exposed: [...new Set([...exposedPorts, ...ports.map((p) => `${p.containerPort}/${p.proto}`)])].sort(
              (a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10) || a.localeCompare(b),
            ),
          }
        : {}),
    };
    const writeRecord = () =>
      writeFileAtomic(join(dir, "container.json"), `${JSON.stringify(record, null, 2)}\n`, 0o644, !o.rm);
    if (userNet) {
      // the address is taken and the record written under the networks lock, then every peer's
      // /etc/hosts names the newcomer (and its own names them)
      const { withNetworksLock } = await import("../network/records");
      const { newEndpoint, refreshHosts, writeLinks } = await import("../network/attach");
      const { readNetwork } = await import("../network/records");
      const { listContainers } = await import("./records");
      const n = userNet;
      await withNetworksLock(paths, () => {
        // a `network rm` since it was read: nothing may join a network that is gone
        if (readNetwork(paths, n.name)?.id !== n.id)
          throw new Error(`network ${n.name} was removed meanwhile: hull network create ${n.name}, and run again`);
        record.networks = {
          [n.name]: newEndpoint(listContainers(paths), n, {}, { ip: o.ip, aliases: o.networkAliases }),
        };
        writeRecord();
        writeLinks(paths, record);
        refreshHosts(paths, [n.name]);
      });
    } else {
      writeRecord();
    }

    mark("record written");
    let flags = 0;
    if (o.tty) flags |= ABI.HULL_FLAG_TTY;
    // -a STREAM: only those; -a stdin keeps stdin as -i does
    if (o.interactive || o.attach.includes("stdin")) flags |= ABI.HULL_FLAG_STDIN;
    if (o.attach.length > 0 && !o.attach.includes("stdout")) flags |= ABI.HULL_FLAG_NO_STDOUT;
    if (o.attach.length > 0 && !o.attach.includes("stderr")) flags |= ABI.HULL_FLAG_NO_STDERR;
    if (o.readOnly) flags |= ABI.HULL_FLAG_READONLY;
    if (o.init) flags |= ABI.HULL_FLAG_INIT;
    if (net.kind !== "host" && !joined) flags |= ABI.HULL_FLAG_NET_LO;
    if (ids.uidMapProg) flags |= ABI.HULL_FLAG_SETGROUPS;
    if (o.detach) flags |= ABI.HULL_FLAG_DETACH;
    if (security.noNewPrivs) flags |= ABI.HULL_FLAG_NO_NEW_PRIVS;
    // a created container gets its cgroup at `hull start`, and its namespace then
    const cgroupns = (cgroup !== undefined || (limited && createOnly)) && o.cgroupns === "private";
    if (cgroupns) flags |= ABI.HULL_FLAG_CGROUPNS;
    if (record.sharedOut) flags |= ABI.HULL_FLAG_NET_SHARED;
    if (userNet) flags |= ABI.HULL_FLAG_PEERS;
    // a kept container's output is logged even in the foreground: `hull run --name t ... || hull logs t`
    if (!o.rm && !o.detach) flags |= ABI.HULL_FLAG_LOG;

    const spec: ShimSpec = {
      argv,
      env,
      cwd: o.workdir ?? (root.config?.WorkingDir || "/"),
      uid: user.uid,
      gid: user.gid,
      groups,
      capMask: security.capMask,
      ...(rlimits.length > 0 ? { rlimits } : {}),
      ...(o.oomScoreAdj !== undefined ? { oomScoreAdj: o.oomScoreAdj } : {}),
      seccomp: security.seccomp,
      hostname,
      ...(o.domainname ? { domainname: o.domainname } : {}),
      // a joined network namespace is entered, not made
      nsFlags: namespaceFlags(joined ? "host" : ownNetwork),
      uidMap: ids.uidMap,
      gidMap: ids.gidMap,
      uidMapProg: ids.uidMapProg,
      gidMapProg: ids.gidMapProg,
      rootfs: root.direct ? (root.layers[0] as string) : merged,
      overlay: root.direct
        ? ""
        : [`lowerdir=${root.layers.join(":")},upperdir=${upper},workdir=${work}`, keepId?.fuseOptions]
            .filter(Boolean)
            .join(","),
      fuseProg,
      overlayMode,
      // the name first: while the directory exists, no other container can reclaim it
      cleanup: o.rm
        ? [
            ...(name ? [nameLink(paths, name)] : []),
            ...(bridge && bridgeIp ? [bridge.leasePath(paths, bridgeIp)] : []),
            dir,
          ]
        : [],
      stateFile: o.rm ? "" : join(dir, "state.json"),
      runDir: dir,
      id,
      restart: {
        no: ABI.HULL_RESTART_NO,
        "on-failure": ABI.HULL_RESTART_ON_FAILURE,
        always: ABI.HULL_RESTART_ALWAYS,
        "unless-stopped": ABI.HULL_RESTART_UNLESS_STOPPED,
      }[o.restart.split(":")[0] as "no"],
      restartMax: Number(o.restart.split(":")[1] ?? 0),
      ...(cgroup ? { cgroup } : {}),
      ...(outbound ? { netHelper: helperCommand(outbound, ports, dir, names.namesHost, names.dnsForward) } : {}),
      ...(joined ? { joinPid: joined.pid, joinStart: joined.start } : {}),
      ...(log.max ? { logMax: log.max } : {}),
      ...(log.files ? { logFiles: log.files } : {}),
      // the die and --rm destroy events are the shim's to write
      eventsFile: journalPath(paths),
      eventFrom: JSON.stringify(root.imageName),
      eventAttrs: JSON.stringify({ image: root.imageName, name: name ?? "" }).slice(1, -1),
      // the prober: hull itself, started by the container's parent every interval
      ...(health
        ? {
            healthArgv: [...selfCommand(), "__health", id, "--root", paths.root],
            healthInterval: health.interval,
          }
        : {}),
      // on a user network: its peers stop naming it as it ends (the shim runs hull for that)
      // (a default network's container: in case a network connect puts it on one while it runs)
      ...(userNet || bridgeIp ? { peersArgv: peersCommand(paths) } : {}),
      ...(bridge && record.sharedOut && outbound
        ? {
            holderHelper: bridge.holderHelperArgv(outbound.program, paths),
          }
        : {}),
      flags,
      steps: planMounts({
        network: ownNetwork,
        cgroupMount: cgroupns,
        ttyGroupMapped: ids.size > 5,
        etcFiles,
        binds: mounts.flatMap((m) => (m.kind === "bind" ? [m] : [])),
        volumes: volumeMounts,
        tmpfs: mounts.flatMap((m) => (m.kind === "tmpfs" ? [m] : [])),
        masked: security.masked,
        readonlyPaths: security.readonly,
        shmSize,
        devices: devices.map((d) => ({ source: d.host, target: d.container })),
        sysctls,
      }),
    };
    // what `hull start` runs again, and `hull exec` takes its defaults from (the user networks'
    // links are made again from the record at each start: connect and disconnect change them)
    writeNewFile(join(dir, "spec.json"), JSON.stringify(spec));
    if (health) (await import("./health")).resetHealth(paths, id);
    // docker's --cidfile: the id, in a file that must not exist (two runs never share one)
    if (o.cidfile !== undefined) {
      try {
        writeNewFile(o.cidfile, id);
      } catch (e) {
        throw new RunError(
          `--cidfile ${o.cidfile}: cannot create it (${(e as { code?: string }).code ?? (e as Error).message})`,
        );
      }
    }
    const attrs = { image: root.imageName, name: name ?? "" };
    if (createOnly) {
      emitEvent(paths, "container", "create", id, attrs);
      return id;
    }
    emitEvents(paths, [eventLine("container", "create", id, attrs), eventLine("container", "start", id, attrs)]);
    mark("spec written");
    if (record.networks) {
      const { routeNetwork, userNets } = await import("../network/attach");
      spec.userNets = userNets(paths, id, record.networks, ids, bridgeIp, routeNetwork(paths, record));
    } else if (bridge && bridgeIp) {
      spec.userNets = bridge.bridgeNets(paths, id, dir, bridgeIp, ids);
    } else if ((net.kind === "none" || net.kind === "private") && !keepId) {
      // the shared holder's user namespace, without newuidmap (src/network/holder-userns.ts); for a
      // network of its own (-p, host-gateway, pasta or slirp4netns named) too, so that `network
      // connect` can reach it while it runs, as it reaches the default network's
      spec.userNets = holderUserns(paths, ids);
      if (spec.userNets) spec.flags |= ABI.HULL_FLAG_HOLDER_USERNS;
      // what a network connect makes while it runs is made again at a restart
      if (spec.userNets && net.kind === "private")
        spec.userNets.file = (await import("../network/attach")).linksFile(paths, id);
    }
    mark("exec of the shim");
    return await execShim(encodeMessage(spec));
  } catch (e) {
    const { rmSync } = await import("node:fs");
    rmSync(dir, { recursive: true, force: true });
    releaseName(paths, name, id);
    if (bridge && bridgeIp) bridge.releaseAddress(paths, bridgeIp);
    if (userNet) {
      const { withNetworksLock } = await import("../network/records");
      const { refreshHosts } = await import("../network/attach");
      const n = userNet;
      await withNetworksLock(paths, () => refreshHosts(paths, [n.name]));
    }
    throw e;
  }
}
