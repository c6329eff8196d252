import {
  isRunning,
  killContainer,
  pauseContainer,
  type LogLine,
  readLog,
  readLogFrom,
  signalNumber,
  startContainer,
  stopContainer,
  waitContainer,
} from "../../container/lifecycle";
import { storePaths, storeRoot } from "../../store/paths";
import type { ArgsDef } from "citty";
import { flag, last, parseInterspersed, UsageError } from "../argv";
import type { HullCommand } from "../command";
import { eachName } from "../each";
import { print, write } from "../output";
import { rootArg } from "./image-common";

const paths = (root: unknown) => storePaths(storeRoot(typeof root === "string" ? root : undefined));

function keys(args: { _: unknown[] }, verb: string): string[] {
  const k = args._.map(String);
  if (k.length === 0) throw new Error(`hull ${verb} needs at least one container`);
  return k;
}

/** -t SECONDS; undefined when not given (the container's --stop-timeout, else 10); -1: no SIGKILL */
function seconds(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < -1) throw new Error(`-t takes a number of seconds (-1: no SIGKILL), not ${value}`);
  return n;
}

export const stop: HullCommand = {
  meta: { name: "stop", description: "Stop containers: SIGTERM, then SIGKILL after the timeout" },
  args: {
    time: {
      type: "string",
      alias: "t",
      description: "Seconds to wait before SIGKILL (default: the container's --stop-timeout, else 10; -1: never)",
    },
    ...rootArg,
  },
  async run({ args }) {
    const t = seconds(args.time);
    await eachName(keys(args, "stop"), async (k) => {
      await stopContainer(paths(args.root), k, t);
      print(k);
    });
  },
};

export const kill: HullCommand = {
  meta: { name: "kill", description: "Send a signal to containers (default SIGKILL)" },
  args: { signal: { type: "string", alias: "s", description: "Signal name or number" }, ...rootArg },
  async run({ args }) {
    const signal = typeof args.signal === "string" ? args.signal : "KILL";
    signalNumber(signal); // a bad signal is a usage error, before any container is touched
    await eachName(keys(args, "kill"), async (k) => {
      await killContainer(paths(args.root), k, signal);
      print(k);
    });
  },
};

export const wait: HullCommand = {
  meta: { name: "wait", description: "Wait for containers to stop; print their exit codes" },
  args: { ...rootArg },
  async run({ args }) {
    await eachName(keys(args, "wait"), async (k) => print(String(await waitContainer(paths(args.root), k))));
  },
};

export const start: HullCommand = {
  meta: { name: "start", description: "Start stopped containers again (detached), on their kept layer" },
  args: {
    attach: { type: "boolean", alias: "a", description: "Show its output until it stops, and exit with its code" },
    ...rootArg,
  },
  async run({ args }) {
    const ks = keys(args, "start");
    if (args.attach && ks.length > 1) throw new Error("hull start -a takes one container");
    if (args.attach) {
      const k = ks[0] as string;
      // a new run starts a new log: what -a shows is this run's output
      const before = readLogSize(paths(args.root), k);
      await startContainer(paths(args.root), k);
      process.exitCode = await followFrom(args.root, k, before);
      return;
    }
    await eachName(ks, async (k) => {
      await startContainer(paths(args.root), k);
      print(k);
    });
  },
};

function readLogSize(p: ReturnType<typeof paths>, key: string): number {
  try {
    return readLog(p, key).offset;
  } catch {
    return 0;
  }
}

/**
 * Print a container's output from byte OFFSET of its log as it comes, until it stops; its exit code.
 * (Output only: a detached container has no input to attach to yet.)
 */
/** a log line as `hull logs` prints it: with -t its time, with --details its attributes first */
type LineFormat = (l: LogLine) => string;
const plainLine: LineFormat = (l) => l.log;

async function followFrom(root: unknown, key: string, offset: number, format = plainLine): Promise<number> {
  const p = paths(root);
  const { id } = readLog(p, key);
  let at = offset;
  // the exit is the stage's word, written before the supervisor has put the container's last output
  // in the log: once the container is not running, one more read after the supervisor is gone (a
  // second at most: one that restarts the container stays). A `start -a` of a quick command printed
  // nothing where the race went the other way.
  for (;;) {
    const running = isRunning(p, id);
    if (!running) {
      const { pidFile, processStart } = await import("../../container/records");
      for (let i = 0; i < 50; i++) {
        const sup = pidFile(p, id, "supervisor.pid");
        if (!sup || processStart(sup.pid) !== sup.start) break;
        await Bun.sleep(20);
      }
    }
    const next = readLogFrom(p, id, at);
    for (const l of next.lines) write(format(l), l.stream);
    at = next.offset;
    if (!running) return waitContainer(p, id);
    await Bun.sleep(50);
  }
}

const attachArgs = {
  "no-stdin": { type: "boolean", description: "Do not send input (only show the output)" },
  "detach-keys": { type: "string", description: 'The keys that leave it running (default ctrl-p,ctrl-q; "" for none)' },
  "sig-proxy": { type: "boolean", description: "Pass the signals hull gets to the container (default true)" },
  ...rootArg,
} as const satisfies ArgsDef;

export const attach: HullCommand = {
  meta: {
    name: "attach",
    description:
      "Attach to a running container: its input and output (run -dit / -di; ctrl-p ctrl-q leaves it running), or, for one without input, its output as it comes; exit with its code",
  },
  args: { container: { type: "positional", description: "Container name or id" }, ...attachArgs },
  ownArgs: true,
  async run({ rawArgs }) {
    const p = parseInterspersed(rawArgs, attachArgs, "attach", true);
    const key = p.positionals[0];
    if (!key) throw new Error("hull attach needs a container");
    if (p.positionals.length > 1)
      throw new UsageError(`hull attach takes one container, not ${p.positionals.join(" ")}`);
    const root = last(p, "root");
    const { attachable, attachContainer } = await import("../../container/attach");
    const { findContainer } = await import("../../container/records");
    const { containerState } = await import("../../container/records");
    const rec = findContainer(paths(root), key);
    if (containerState(paths(root), rec).status !== "running")
      throw Object.assign(new Error(`you cannot attach to a stopped container: hull start ${key} first`), {
        exitCode: 1,
      });
    if (attachable(paths(root), rec.id).socket)
      return attachContainer(paths(root), key, {
        noStdin: flag(p, "no-stdin"),
        detachKeys: last(p, "detach-keys"),
        sigProxy: last(p, "sig-proxy") !== "false",
      });
    process.exitCode = await followFrom(root, key, readLogSize(paths(root), key));
  },
};

export const restart: HullCommand = {
  meta: { name: "restart", description: "Stop, then start containers" },
  args: {
    time: {
      type: "string",
      alias: "t",
      description: "Seconds to wait before SIGKILL (default: the container's --stop-timeout, else 10; -1: never)",
    },
    ...rootArg,
  },
  async run({ args }) {
    const t = seconds(args.time);
    await eachName(keys(args, "restart"), async (k) => {
      await stopContainer(paths(args.root), k, t);
      await startContainer(paths(args.root), k);
      print(k);
    });
  },
};

export const logs: HullCommand = {
  meta: { name: "logs", description: "Show a detached container's output: hull logs [-f] [--tail N] [-t] CONTAINER" },
  args: {
    container: { type: "positional", description: "Container name or id" },
    follow: { type: "boolean", alias: "f", description: "Keep following until the container stops" },
    tail: { type: "string", description: "Only the last N lines" },
    timestamps: { type: "boolean", alias: "t", description: "Prefix each line with its time" },
    since: {
      type: "string",
      description: "Only lines from this time on: a duration before now (10m, 1h30m), a unix time or an RFC 3339 date",
    },
    until: { type: "string", description: "Only lines before this time (same forms as --since)" },
    details: {
      type: "boolean",
      description: "Put the attributes --log-opt labels=/env=/env-regex= chose before each line (k=v,k2=v2)",
    },
    ...rootArg,
  },
  async run({ args }) {
    const p = paths(args.root);
    const key = String(args.container ?? "");
    if (!key) throw new Error("hull logs needs a container");
    const { untilTime } = await import("../prune");
    const time = (flag: string, v: unknown) => {
      try {
        return untilTime(String(v));
      } catch {
        throw new Error(`--${flag} ${String(v)}: give a duration (10m, 1h30m), a unix time or an RFC 3339 date`);
      }
    };
    const since = args.since === undefined ? undefined : time("since", args.since);
    const until = args.until === undefined ? undefined : time("until", args.until);
    const log = readLog(p, key);
    // docker's: the attributes sorted by key, each escaped as a URL query's (Go's url.QueryEscape: an
    // image's label or variable holding a line break or a comma cannot forge lines or attributes),
    // joined by commas, then a space (a space alone when none)
    let details = "";
    if (args.details) {
      const { findContainer } = await import("../../container/records");
      const attrs = findContainer(p, log.id).logAttrs ?? {};
      const esc = (t: string) =>
        encodeURIComponent(t)
          .replace(/%20/g, "+")
          .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
      details = `${Object.keys(attrs)
        .sort()
        .map((k) => `${esc(k)}=${esc(attrs[k] as string)}`)
        .join(",")} `;
    }
    const format: LineFormat = (l) => `${args.timestamps ? `${l.time} ` : ""}${details}${l.log}`;
    const show = (lines: LogLine[]) => {
      for (const l of lines) write(format(l), l.stream);
    };
    let lines = log.lines.filter((l) => {
      const t = Date.parse(l.time);
      return (since === undefined || t >= since) && (until === undefined || t < until);
    });
    if (args.tail !== undefined) {
      const n = Number(args.tail);
      if (!Number.isInteger(n) || n < 0) throw new Error(`--tail takes a whole number, not ${args.tail}`);
      lines = n === 0 ? [] : lines.slice(-n);
    }
    show(lines);
    // --until is a time already past or soon: following past it would print nothing docker would
    if (args.follow && until === undefined) await followFrom(args.root, log.id, log.offset, format);
  },
};

export const pause: HullCommand = {
  meta: { name: "pause", description: "Stop every process of containers (SIGSTOP) until unpause" },
  args: { ...rootArg },
  async run({ args }) {
    await eachName(keys(args, "pause"), async (k) => {
      await pauseContainer(paths(args.root), k, true);
      print(k);
    });
  },
};

export const unpause: HullCommand = {
  meta: { name: "unpause", description: "Continue the processes of paused containers (SIGCONT)" },
  args: { ...rootArg },
  async run({ args }) {
    await eachName(keys(args, "unpause"), async (k) => {
      await pauseContainer(paths(args.root), k, false);
      print(k);
    });
  },
};
