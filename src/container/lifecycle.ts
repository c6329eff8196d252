// stop, kill, wait, start, restart and logs of containers, with no daemon: signals go to the
// container's pid 1 (init.pid), state comes from the records and the shim's files, and `start`
// runs the shim again, detached, with the spec saved at creation.
import { join } from "../sys/path";
import * as v from "valibot";
import { lazily } from "../sys/lazy-schema";
import { ABI } from "../runtime/abi";
import { encodeEnterMessage, encodeMessage, type ShimSpec } from "../runtime/message";
import { writeFileAtomic } from "../store/atomic";
import { containerAttrs, emitEvent } from "../store/events";
import { spawnShim } from "../runtime/shim";
import type { StorePaths } from "../store/paths";
import { readFileText, unlinkIfExists } from "../sys/libc";
import { pollUntil } from "../sys/poll-until";
import {
  containerDir,
  containerState,
  findContainer,
  helperGone,
  initPid,
  pidFile,
  processStart,
  startedInit,
  withContainerLock,
} from "./records";

const SIGNALS: Record<string, number> = {
  HUP: 1,
  INT: 2,
  QUIT: 3,
  KILL: 9,
  USR1: 10,
  USR2: 12,
  TERM: 15,
  CONT: 18,
  STOP: 19,
  WINCH: 28,
};

/** "HUP", "SIGHUP", "1" -> 1 */
export function signalNumber(name: string): number {
  if (/^\d+$/.test(name)) {
    // 1 to 64, Linux's (0 sends nothing, a bigger one nothing the kernel knows)
    const n = Number(name);
    if (n < 1 || n > 64) throw new Error(`signal ${name}: a signal number is 1 to 64`);
    return n;
  }
  const n = SIGNALS[name.toUpperCase().replace(/^SIG/, "")];
  if (n === undefined) throw new Error(`unknown signal ${name}: use a name like TERM or HUP, or a number`);
  return n;
}

async function runningInit(paths: StorePaths, key: string, ms?: number) {
  const rec = findContainer(paths, key);
  if (containerState(paths, rec).status !== "running") throw new Error(`container ${key} is not running`);
  return { rec, pid: await startedInit(paths, rec, key, ms) };
}

/**
 * `hull pause` / `hull unpause`: the cgroup v2 freezer where the container has a cgroup of its own
 * (run with limits), else SIGSTOP / SIGCONT to every process of it through the shim's signal-all
 * mode (these hosts have no delegated freezer); `paused` marks it for ps.
 */
export async function pauseContainer(
  paths: StorePaths,
  key: string,
  pause: boolean,
  /** stop and cp pause and continue it themselves, whatever a user did */
  quiet = false,
): Promise<void> {
  const { rec, pid } = await runningInit(paths, key);
  const paused = (containerState(paths, rec) as { paused?: boolean }).paused === true;
  if (!quiet && pause && paused) throw new Error(`container ${key} is already paused`);
  if (!quiet && !pause && !paused) throw new Error(`container ${key} is not paused`);
  const { containerCgroup, freeze } = await import("../runtime/cgroup");
  const cgroup = containerCgroup(pid);
  if (cgroup) await freeze(cgroup, pause);
  else {
    const message = encodeEnterMessage({
      argv: ["-"],
      env: [],
      cwd: "/",
      uid: 0,
      gid: 0,
      groups: [],
      flags: 0,
      targetPid: pid,
    });
    const r = await spawnShim(message, ["signal-all", String(pause ? 19 : 18)]);
    if (r.code !== 0) throw new Error(r.stderr.trim().replace(/^hull: /, "") || `signal failed (${r.code})`);
  }
  const marker = join(containerDir(paths, rec.id), "paused");
  if (pause) writeFileAtomic(marker, "", 0o644, false);
  else unlinkIfExists(marker);
  if (!quiet) emitEvent(paths, "container", pause ? "pause" : "unpause", rec.id, containerAttrs(rec));
}

/**
 * FN with the container frozen: a running one is paused first (unless it is already) and continued
 * after, so it cannot swap a path for a symlink while hull reads or writes its files (cp, commit).
 */
export async function whilePaused<T>(paths: StorePaths, key: string, fn: () => Promise<T>): Promise<T> {
  const state = containerState(paths, findContainer(paths, key));
  const pause = state.status === "running" && !state.paused;
  if (pause) await pauseContainer(paths, key, true, true);
  // Ctrl-C or SIGTERM while it is frozen (`hull cp web:/big - | head` ends with hull's reader gone)
  // must not leave the container paused for good: continue it, then end as the signal would
  const { onInterrupt } = await import("../sys/interrupt");
  const done = pause ? onInterrupt(() => pauseContainer(paths, key, false, true)) : () => {};
  try {
    return await fn();
  } finally {
    done();
    if (pause) await pauseContainer(paths, key, false, true);
  }
}

export async function killContainer(paths: StorePaths, key: string, signal: string): Promise<void> {
  // a start under way, however slow (a network helper's), is waited for, as stop waits
  const { rec, pid } = await runningInit(paths, key, 60_000);
  process.kill(pid, signalNumber(signal));
  emitEvent(paths, "container", "kill", rec.id, { ...containerAttrs(rec), signal: String(signalNumber(signal)) });
}

async function waitExit(paths: StorePaths, key: string, ms: number): Promise<boolean> {
  const rec = findContainer(paths, key);
  return pollUntil(() => containerState(paths, rec).status !== "running", ms);
}

/** Docker's stop: --stop-signal or the image's StopSignal (SIGTERM when neither), then SIGKILL after the timeout. */
export async function stopContainer(paths: StorePaths, key: string, given?: number): Promise<void> {
  const rec = findContainer(paths, key);
  // -t, else the container's --stop-timeout, else docker's 10 s; -1 waits for as long as it takes
  const t = given ?? rec.stopTimeout ?? 10;
  const timeout = t < 0 ? Number.POSITIVE_INFINITY : t;
  const signal = rec.stopSignal || "TERM";
  let state = containerState(paths, rec);
  if (state.status !== "running" && !(state.status === "exited" && state.restarting)) return;
  // the supervisor does not restart a container that was stopped on purpose
  writeFileAtomic(join(containerDir(paths, rec.id), "stopping"), "", 0o644, false);
  // a --restart container between two runs: its supervisor waits out the pause (with the network
  // helper, and the ports, of the last run) and ends once it sees the mark; unless it started the
  // next run just before the mark, which is then stopped as any running container
  state = containerState(paths, rec);
  if (state.status !== "running") {
    const sup = pidFile(paths, rec.id, "supervisor.pid");
    if (sup) await pollUntil(() => processStart(sup.pid) !== sup.start, 2000);
    await helperGone(paths, rec.id);
    emitEvent(paths, "container", "stop", rec.id, containerAttrs(rec));
    return;
  }
  // a stopped process would hold the stop signal until it is continued
  if (state.paused) await pauseContainer(paths, key, false, true);
  // a start under way: its command first (an undefined pid waits below for the end the kill brings)
  const pid = await startedInit(paths, rec, key, 60_000).catch(() => undefined);
  if (pid) {
    emitEvent(paths, "container", "kill", rec.id, { ...containerAttrs(rec), signal: String(signalNumber(signal)) });
    try {
      process.kill(pid, signalNumber(signal));
    } catch {}
    if (await waitExit(paths, key, timeout * 1000)) {
      await helperGone(paths, rec.id);
      emitEvent(paths, "container", "stop", rec.id, containerAttrs(rec));
      return;
    }
    emitEvent(paths, "container", "kill", rec.id, { ...containerAttrs(rec), signal: "9" });
    try {
      process.kill(pid, 9);
    } catch {}
  }
  if (!(await waitExit(paths, key, 10_000))) throw new Error(`container ${key} did not stop`);
  await helperGone(paths, rec.id);
  emitEvent(paths, "container", "stop", rec.id, containerAttrs(rec));
}

/** `hull wait`: block until the container stops; its exit code. */
export async function waitContainer(paths: StorePaths, key: string): Promise<number> {
  const rec = findContainer(paths, key);
  for (;;) {
    const s = containerState(paths, rec);
    // docker's "not-running": a container that was created and never started has nothing to wait for
    if (s.status === "created") return 0;
    if (s.status === "exited") return s.exitCode;
    if (s.status === "dead") return 255;
    await Bun.sleep(50);
  }
}

const SavedSpec = lazily(() => v.looseObject({ argv: v.array(v.string()), rootfs: v.string(), flags: v.number() }));

/** `hull start`: run a stopped container again, detached, on its kept writable layer. */
export async function startContainer(paths: StorePaths, key: string): Promise<void> {
  const found = findContainer(paths, key);
  // before the lock: without a delegated cgroup, hull moves into a scope of its own first
  let cgroup: string | undefined;
  if ((found.limits || found.cgroupParent) && containerState(paths, found).status !== "running") {
    const { parseLimits, placeContainer } = await import("../runtime/cgroup");
    cgroup = placeContainer(parseLimits(found.limits ?? {}), found.cgroupParent);
  }
  // the state is read again under the lock: a second start at once then finds it running
  await withContainerLock(paths, found.id, () => startLocked(paths, key, cgroup), key);
}

async function startLocked(paths: StorePaths, key: string, cgroup?: string): Promise<void> {
  const rec = findContainer(paths, key);
  const now = containerState(paths, rec);
  // a restarting one has its supervisor still: a second would run it twice
  if (now.status === "running" || (now.status === "exited" && now.restarting)) return;
  const dir = containerDir(paths, rec.id);
  const text = readFileText(join(dir, "spec.json"));
  if (!text) throw new Error(`container ${key} cannot be started again: it has no saved spec (made by an older hull?)`);
  const saved = v.parse(SavedSpec, JSON.parse(text)) as unknown as ShimSpec;
  // a container that ended by itself a moment ago may have its helper on the ports still
  await helperGone(paths, rec.id);
  if (rec.ports && rec.ports.length > 0) {
    const { checkPortsFree } = await import("../network/publish");
    try {
      checkPortsFree(rec.ports);
    } catch (e) {
      throw new Error(`container ${key}: ${(e as Error).message}`);
    }
  }
  for (const f of [
    "state.json",
    "supervisor.pid",
    "init.pid",
    "init.pid.new",
    "helper.pid",
    "paused",
    "stopping",
    "restarts",
  ]) {
    unlinkIfExists(join(dir, f));
  }
  if (rec.health) (await import("./health")).resetHealth(paths, rec.id);
  const onUserNets = rec.networks !== undefined && Object.keys(rec.networks).length > 0;
  const spec: ShimSpec = {
    ...saved,
    // detached, with its pty or stdin kept for hull attach (run -it, or create -it)
    flags: saved.flags | ABI.HULL_FLAG_DETACH,
    runDir: dir,
    stateFile: join(dir, "state.json"),
    id: rec.id,
    cgroup,
  };
  if (rec.networks || rec.bridgeIp) {
    // the networks as the record has them now: connect and disconnect while stopped change them,
    // and so whether it may go out (only internal networks: no helper)
    const { routeNetwork, userNets, wantsOutbound, writeLinks } = await import("../network/attach");
    const { peersCommand } = await import("../network/peers-command");
    const { withNetworksLock } = await import("../network/records");
    spec.userNets = userNets(paths, rec.id, rec.networks, saved, rec.bridgeIp, routeNetwork(paths, rec));
    // on user networks now (a connect while it was stopped counts): its peers forget it as it ends
    spec.peersArgv = peersCommand(paths);
    spec.flags &= ~ABI.HULL_FLAG_PEERS;
    if (onUserNets) spec.flags |= ABI.HULL_FLAG_PEERS;
    unlinkIfExists(join(dir, "peers"));
    await withNetworksLock(paths, () => writeLinks(paths, rec));
    if (!wantsOutbound(paths, rec)) spec.netHelper = undefined;
    else if (!spec.netHelper) {
      const { findHelper, helperCommand } = await import("../network/mode");
      const helper = findHelper();
      if (helper) spec.netHelper = helperCommand(helper, rec.ports ?? [], dir, false);
    }
  }
  const mode = rec.networkMode ?? "bridge";
  if (!spec.userNets && !rec.userns && mode !== "host" && !mode.startsWith("container:")) {
    // as at run: under the shared holder's user namespace (--network none, or a network helper of
    // its own), so that a network connect reaches it while it runs, and what that connect made is
    // made again at a restart (its links file)
    const { holderUserns } = await import("../network/holder-userns");
    spec.userNets = holderUserns(paths, saved);
    if (spec.userNets) {
      spec.flags |= ABI.HULL_FLAG_HOLDER_USERNS;
      if (mode !== "none") {
        spec.userNets.file = (await import("../network/attach")).linksFile(paths, rec.id);
        spec.peersArgv = (await import("../network/peers-command")).peersCommand(paths);
      }
    }
  }
  if (rec.networkMode?.startsWith("container:")) {
    const target = rec.networkMode.slice("container:".length);
    const pid = initPid(paths, target);
    if (!pid)
      throw new Error(
        `container ${key} joins the network of ${target.slice(0, 12)}, which is not running: start it first`,
      );
    spec.joinPid = pid;
    spec.joinStart = processStart(pid);
  }
  const r = await spawnShim(encodeMessage(spec));
  // 126 and 127 (the command cannot be run, or is not there) are the exit status, as run's are
  if (r.code !== 0)
    throw Object.assign(new Error(r.stderr.trim().replace(/^hull: /, "") || `start failed (${r.code})`), {
      exitCode: r.code === 126 || r.code === 127 ? r.code : 125,
    });
  emitEvent(paths, "container", "start", rec.id, containerAttrs(rec));
  // running again: its peers name it again
  if (onUserNets) {
    const { refreshHosts } = await import("../network/attach");
    const { withNetworksLock } = await import("../network/records");
    const nets = Object.keys(rec.networks ?? {});
    await withNetworksLock(paths, () => refreshHosts(paths, nets));
  }
}

export const LogLine = lazily(() =>
  v.object({ log: v.string(), stream: v.picklist(["stdout", "stderr"]), time: v.string() }),
);
export type LogLine = v.InferOutput<typeof LogLine>;

function parseLog(text: string): LogLine[] {
  const out: LogLine[] = [];
  for (const line of text.split("\n")) {
    if (!line) continue;
    try {
      const r = v.safeParse(LogLine, JSON.parse(line));
      if (r.success) out.push(r.output);
    } catch {}
  }
  return out;
}

/** The log of a container as entries, and the byte offset of container.log read so far. */
export function readLog(paths: StorePaths, key: string): { lines: LogLine[]; offset: number; id: string } {
  const rec = findContainer(paths, key);
  const dir = containerDir(paths, rec.id);
  const current = readFileText(join(dir, "container.log"));
  if (current === undefined) {
    throw new Error(`container ${key} keeps no log: it was made by a hull that logged only detached containers`);
  }
  // --log-opt max-file: container.log.1, .2 ... as far as they go (rotation keeps them contiguous),
  // read oldest first, then the current one
  const rotated: string[] = [];
  for (let k = 1; ; k++) {
    const text = readFileText(join(dir, `container.log.${k}`));
    if (text === undefined) break;
    rotated.unshift(text);
  }
  const older = rotated.join("");
  return { lines: parseLog(older + current), offset: Buffer.byteLength(current), id: rec.id };
}

/** New entries after OFFSET, for `logs -f`; a rotated log starts again from 0. */
export function readLogFrom(paths: StorePaths, id: string, offset: number): { lines: LogLine[]; offset: number } {
  const current = readFileText(join(containerDir(paths, id), "container.log")) ?? "";
  const bytes = Buffer.from(current);
  if (bytes.length < offset) return { lines: parseLog(current), offset: bytes.length };
  return { lines: parseLog(bytes.subarray(offset).toString()), offset: bytes.length };
}

export function isRunning(paths: StorePaths, id: string): boolean {
  return containerState(paths, findContainer(paths, id)).status === "running";
}
