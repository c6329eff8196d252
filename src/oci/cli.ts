// `hull oci` and `hull-oci`: the OCI runtime command line as runc and crun take it, so that podman,
// conmon and containerd can drive hull on a bundle. runc's global flags come before the command;
// errors are one line on stderr (and in --log), and exit 1 as runc's do.
import { mkdirSync, rmSync } from "node:fs";
import { mark } from "../sys/trace";
import { join, resolve } from "../sys/path";
import * as v from "valibot";
import { lazily } from "../sys/lazy-schema";
import { encodeMessage } from "../runtime/message";
import { writeFileAtomic } from "../store/atomic";
import { processStart } from "../store/owner";
import { close, mknod, openFifoWriter, readFileText, S_IFIFO, unlinkIfExists, writeAll } from "../sys/libc";
import { planBundle } from "./bundle-plan";
import { checkPidFileDir, OciError, spawnShim } from "./child";
import { type OciConfig, parseOciConfig, unknownProperties } from "./config";
import { ABI } from "../runtime/abi";
import { pollUntil } from "../sys/poll-until";
import {
  checkId,
  listIds,
  madeWith,
  OCI_VERSION,
  ociRoot,
  ociState,
  ociStatus,
  readOciRecord,
  stateDir,
} from "./state";

interface Global {
  root?: string;
  systemdCgroup?: boolean;
  log?: string;
  logFormat: "text" | "json";
}

/** a subcommand's flags: those that take a value, and those that do not (booleans) */
interface FlagTable {
  values: Record<string, string>;
  bools: Record<string, string>;
  /** flags that may come more than once (exec's --env, --cap) */
  lists?: Record<string, string>;
}

interface Parsed {
  flags: Record<string, string>;
  lists: Record<string, string[]>;
  rest: string[];
}

/** runc's flags come as --name, -name, --name=value or -n; TABLE maps each spelling to its key */
function parseFlags(words: string[], table: FlagTable, cmd: string): Parsed {
  const flags: Record<string, string> = {};
  const lists: Record<string, string[]> = {};
  const rest: string[] = [];
  const fail = (why: string) => new OciError(`${cmd ? `${cmd}: ` : ""}${why}`);
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    // the first positional ends the flags: what follows (the id, exec's command) is kept as it is,
    // `--` too
    if (rest.length > 0 || (!w.startsWith("-") && w !== "--") || w === "-") {
      rest.push(w);
      continue;
    }
    if (w === "--") {
      rest.push(...words.slice(i + 1));
      break;
    }
    const [name, inline] = w.replace(/^--?/, "").split(/=(.*)/s, 2) as [string, string | undefined];
    const valueKey = table.values[name];
    const boolKey = table.bools[name];
    const listKey = table.lists?.[name];
    if (listKey || valueKey) {
      const value = inline ?? words[++i];
      if (value === undefined) throw fail(`${w} needs a value`);
      if (listKey) lists[listKey] = [...(lists[listKey] ?? []), value];
      else flags[valueKey as string] = value;
    } else if (boolKey) {
      if (inline !== undefined && inline !== "true" && inline !== "false") throw fail(`${w} takes true or false`);
      if (inline !== "false") flags[boolKey] = "true";
    } else {
      throw fail(`unknown flag ${w} (see 'hull oci --help')`);
    }
  }
  return { flags, lists, rest };
}

const GLOBAL: FlagTable = {
  values: { root: "root", log: "log", "log-format": "logFormat", rootless: "rootless", criu: "criu" },
  bools: {
    "systemd-cgroup": "systemdCgroup",
    debug: "debug",
    help: "help",
    h: "help",
    version: "version",
    v: "version",
  },
};

const SIGNALS: Record<string, number> = {
  HUP: 1,
  INT: 2,
  QUIT: 3,
  ILL: 4,
  TRAP: 5,
  ABRT: 6,
  BUS: 7,
  FPE: 8,
  KILL: 9,
  USR1: 10,
  SEGV: 11,
  USR2: 12,
  PIPE: 13,
  ALRM: 14,
  TERM: 15,
  STKFLT: 16,
  CHLD: 17,
  CONT: 18,
  STOP: 19,
  TSTP: 20,
  TTIN: 21,
  TTOU: 22,
  URG: 23,
  XCPU: 24,
  XFSZ: 25,
  VTALRM: 26,
  PROF: 27,
  WINCH: 28,
  IO: 29,
  PWR: 30,
  SYS: 31,
};

const SignalSchema = lazily(() =>
  v.pipe(
    v.string(),
    v.transform((s) => {
      if (/^\d+$/.test(s)) return Number(s);
      const name = s.toUpperCase().replace(/^SIG/, "");
      return SIGNALS[name] ?? -1;
    }),
    v.number(),
    v.minValue(1, "not a signal: give a name (TERM, SIGKILL) or a number"),
    v.maxValue(64, "not a signal: give a name (TERM, SIGKILL) or a number"),
  ),
);

const FormatSchema = lazily(() => v.picklist(["table", "json"], "--format takes table or json"));

const USAGE = `hull oci: the OCI runtime command line (runc's), on bundles; hull-oci is the same

global flags, before the command: --root DIR (state; default $XDG_RUNTIME_DIR/hull-oci), --log FILE,
  --log-format text|json, --systemd-cgroup (linux.cgroupsPath's slice is the parent of the container's)

  spec [--rootless] [--bundle DIR]          write a config.json to start from
  features                                  what this runtime carries out, as JSON
  create [--bundle DIR] [--pid-file F] [--console-socket S] ID
  start ID                                  run the command of a created container
  run [--bundle DIR] [-d] [--pid-file F] [--console-socket S] ID
  state ID                                  its state, as JSON
  kill [--all] ID [SIGNAL]                  SIGTERM unless SIGNAL says
  delete [--force] ID
  list [--format table|json] [--quiet]
  ps [--format table|json] ID
  exec [--process FILE] [-d] [-t] [--pid-file F] [--console-socket S] [-e K=V] [-u UID[:GID]] [--cwd D] ID [CMD...]
`;

function print(text: string): void {
  process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
}

/** The config of the bundle at DIR; what runtime-spec does not define is ignored, and named in the --log. */
function loadBundle(g: Global, dir: string) {
  const file = join(dir, "config.json");
  const text = readFileText(file);
  if (text === undefined) throw new OciError(`${file}: no such file (a bundle holds config.json and its rootfs)`);
  const config = parseOciConfig(text);
  for (const p of unknownProperties(text)) writeLog(g, "warning", `config.json: ${p}: not in runtime-spec, ignored`);
  return config;
}

/**
 * create and run: the bundle's container as a detached supervisor (create: waiting on its start
 * FIFO), or run in the foreground with this process become the shim.
 */
async function launch(
  g: Global,
  id: string,
  f: Record<string, string>,
  mode: "create" | "run" | "run-detached",
): Promise<number> {
  const root = ociRoot(g.root);
  const bundle = resolve(f.bundle ?? ".");
  mark("oci: modules loaded");
  const config = loadBundle(g, bundle);
  mark("oci: config parsed");
  if (config.process?.terminal && mode !== "run" && !f.consoleSocket)
    throw new OciError("process.terminal needs --console-socket when the container runs detached (create, run -d)");
  // its directory first: a pid file that cannot be written would leave a container nobody knows of
  if (f.pidFile) checkPidFileDir(f.pidFile);
  mkdirSync(root, { recursive: true, mode: 0o700 });
  const dir = stateDir(root, id);
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") throw new OciError(`container ${id} already exists`);
    throw e;
  }
  try {
    const spec = await planBundle(config, {
      bundle,
      stateDir: dir,
      detach: mode !== "run",
      startFifo: mode === "create" ? join(dir, "start.fifo") : undefined,
      consoleSocket: f.consoleSocket ? resolve(f.consoleSocket) : undefined,
      pidFile: f.pidFile ? resolve(f.pidFile) : undefined,
      systemdCgroup: g.systemdCgroup,
      id,
    });
    writeFileAtomic(
      join(dir, "oci.json"),
      JSON.stringify({
        id,
        bundle,
        rootfs: spec.rootfs,
        created: new Date().toISOString(),
        annotations: config.annotations,
      }),
      0o600,
      // runtime state, in a runtime directory (a tmpfs): it does not outlive a reboot, so no fsync
      false,
    );
    // exec's defaults come from the config the container was made with, not the bundle's of today
    writeFileAtomic(join(dir, "config.json"), JSON.stringify(config), 0o600, false);
    // written by `start`; whoever the container runs as may open it (the state directory is ours alone)
    if (mode === "create") mknod(join(dir, "start.fifo"), S_IFIFO | 0o622, 0);
    // until the container's pid 1 is there, this process is what says it is being made (a delete
    // meanwhile must not take the state from under it)
    writeFileAtomic(join(dir, "creator.pid"), `${process.pid} ${processStart("self")}\n`, 0o600, false);
    mark("oci: planned, state written");
    const message = encodeMessage({ ...spec, errorLog: errorLogOf(g) });
    if (mode === "run") {
      const { execShim } = await import("../runtime/shim");
      return await execShim(message);
    }
    const code = await spawnShim(message, "run");
    if (code !== 0) rmSync(dir, { recursive: true, force: true });
    return code;
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

/**
 * poststart (start) and poststop (delete): the hooks of the config the container was made with,
 * run by the shim; one that fails is a warning, as runtime-spec says.
 */
async function lateHooks(
  config: OciConfig,
  bundle: string,
  id: string,
  kind: "poststart" | "poststop",
  pid: number,
): Promise<void> {
  const list = config.hooks?.[kind];
  if (!list || list.length === 0) return;
  const { bundleHooks } = await import("./bundle-plan");
  const { encodeHooksMessage } = await import("../runtime/message");
  const spec = bundleHooks({ ...config, hooks: { [kind]: list } }, id, bundle);
  if (!spec) return;
  const code = kind === "poststart" ? ABI.HULL_HOOK_POSTSTART : ABI.HULL_HOOK_POSTSTOP;
  await spawnShim(encodeHooksMessage(spec), "hooks", [
    String(code),
    kind === "poststart" ? "running" : "stopped",
    String(pid),
  ]);
}

async function start(g: Global, id: string): Promise<void> {
  const root = ociRoot(g.root);
  const rec = readOciRecord(root, id);
  const { status } = ociStatus(root, id);
  if (status !== "created") throw new OciError(`container ${id} is ${status}: only a created container starts`);
  const made = madeWith(root, id);
  if (!made?.process) throw new OciError(`container ${id} has no process (config.json had none): start needs one`);
  const fifo = join(stateDir(root, id), "start.fifo");
  const fd = openFifoWriter(fifo);
  if (fd === undefined) throw new OciError(`container ${id} is not waiting to start (its process is gone)`);
  try {
    writeAll(fd, new Uint8Array([1]));
  } finally {
    close(fd);
  }
  unlinkIfExists(fifo);
  await lateHooks(made, rec.bundle, id, "poststart", ociStatus(root, id).pid);
}

/** The processes of the container: those in its pid 1's pid namespace (none once it is gone). */
function containerPids(pid: number): number[] {
  const { namespacePids } = require("../container/top") as typeof import("../container/top");
  try {
    return namespacePids(pid).sort((a, b) => a - b);
  } catch {
    return [];
  }
}

async function kill(g: Global, id: string, sig: string | undefined, all: boolean): Promise<void> {
  const root = ociRoot(g.root);
  readOciRecord(root, id);
  const r = v.safeParse(SignalSchema, sig ?? "TERM");
  if (!r.success) throw new OciError(`kill: ${sig}: ${r.issues[0].message}`);
  const { status, pid } = ociStatus(root, id);
  if (status !== "created" && status !== "running")
    throw new OciError(`container ${id} is ${status}: nothing to signal`);
  for (const p of all ? containerPids(pid) : [pid]) {
    try {
      process.kill(p, r.output);
    } catch (e) {
      if (!all) throw e;
    }
  }
}

async function remove(g: Global, id: string, force: boolean): Promise<void> {
  const root = ociRoot(g.root);
  const dir = stateDir(root, checkId(id));
  if (readFileText(join(dir, "oci.json")) === undefined) {
    // runc deletes a half-made container's directory with --force too
    if (force) {
      rmSync(dir, { recursive: true, force: true });
      return;
    }
    readOciRecord(root, id);
  }
  let { status, pid } = ociStatus(root, id);
  // one being made is made first (its state taken from under it would leave its process unknown)
  for (let i = 0; i < 1000 && status === "creating"; i++) {
    await Bun.sleep(5);
    ({ status, pid } = ociStatus(root, id));
  }
  if (status !== "stopped") {
    if (!force) throw new OciError(`container ${id} is ${status}: kill it first, or delete --force`);
    // no process of hull's is above it (create leaves it to the caller's subreaper): its pid 1 goes
    try {
      if (pid > 0) process.kill(pid, "SIGKILL");
    } catch {}
    await pollUntil(() => ociStatus(root, id).status === "stopped", 2000);
  }
  let saved: { config: OciConfig | undefined; bundle: string } | undefined;
  try {
    saved = { config: madeWith(root, id), bundle: readOciRecord(root, id).bundle };
  } catch {
    // a damaged record: no hooks to run, the state goes all the same
  }
  rmSync(dir, { recursive: true, force: true });
  if (saved?.config) await lateHooks(saved.config, saved.bundle, id, "poststop", 0);
}

function list(g: Global, format: string, quiet: boolean): void {
  const root = ociRoot(g.root);
  const states = listIds(root).flatMap((id) => {
    try {
      return [ociState(root, id)];
    } catch {
      return [];
    }
  });
  if (quiet) {
    for (const s of states) print(String(s.id));
    return;
  }
  if (format === "json") {
    print(JSON.stringify(states));
    return;
  }
  const rows = [["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]];
  for (const s of states)
    rows.push([String(s.id), String(s.pid), String(s.status), String(s.bundle), String(s.created), String(s.owner)]);
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  for (const r of rows) print(r.map((c, i) => (i < r.length - 1 ? c.padEnd((widths[i] ?? 0) + 3) : c)).join(""));
}

function ps(g: Global, id: string, format: string): void {
  const root = ociRoot(g.root);
  readOciRecord(root, id);
  const { pid, status } = ociStatus(root, id);
  const pids = status === "stopped" ? [] : containerPids(pid);
  if (format === "json") {
    print(JSON.stringify(pids));
    return;
  }
  print("PID   CMD");
  for (const p of pids) {
    const cmd = (readFileText(`/proc/${p}/cmdline`) ?? "").split("\0").filter(Boolean).join(" ");
    print(`${String(p).padEnd(6)}${cmd}`);
  }
}

async function spec(f: Record<string, string>): Promise<void> {
  const dir = resolve(f.bundle ?? ".");
  const { existsSync } = require("node:fs") as typeof import("node:fs");
  if (!existsSync(dir)) throw new OciError(`--bundle ${dir}: no such directory`);
  const file = join(dir, "config.json");
  if (readFileText(file) !== undefined) throw new OciError(`${file} exists: remove it first`);
  const { defaultSpec } = await import("./spec");
  writeFileAtomic(file, `${JSON.stringify(defaultSpec(), null, "\t")}\n`, 0o644);
}

/** create's flags, which run has too */
const CREATE: FlagTable = {
  values: {
    bundle: "bundle",
    b: "bundle",
    "pid-file": "pidFile",
    "console-socket": "consoleSocket",
    "preserve-fds": "preserveFds",
  },
  bools: { "no-pivot": "noPivot", "no-new-keyring": "noNewKeyring" },
};

const COMMANDS: Record<string, FlagTable> = {
  spec: { values: { bundle: "bundle", b: "bundle" }, bools: { rootless: "rootless" } },
  features: { values: {}, bools: {} },
  create: CREATE,
  run: { values: CREATE.values, bools: { ...CREATE.bools, detach: "detach", d: "detach", keep: "keep" } },
  start: { values: {}, bools: {} },
  state: { values: {}, bools: {} },
  kill: { values: {}, bools: { all: "all", a: "all" } },
  delete: { values: {}, bools: { force: "force", f: "force" } },
  list: { values: { format: "format", f: "format" }, bools: { quiet: "quiet", q: "quiet" } },
  ps: { values: { format: "format", f: "format" }, bools: {} },
  exec: {
    values: {
      process: "process",
      p: "process",
      "pid-file": "pidFile",
      "console-socket": "consoleSocket",
      cwd: "cwd",
      user: "user",
      u: "user",
      "preserve-fds": "preserveFds",
      "process-label": "processLabel",
      apparmor: "apparmor",
      cgroup: "cgroup",
    },
    bools: { detach: "detach", d: "detach", tty: "tty", t: "tty", "no-new-privs": "noNewPrivs", "ignore-paused": "x" },
    lists: { env: "env", e: "env", cap: "cap", c: "cap", "additional-gids": "gids", g: "gids" },
  },
};

async function dispatch(g: Global, cmd: string, { flags: f, lists, rest }: Parsed): Promise<number> {
  const takes = (n: number) => {
    if (rest.length > n)
      throw new OciError(`${cmd} takes ${n === 0 ? "no arguments" : `${n}`}, not ${rest.slice(n).join(" ")}`);
  };
  // what hull cannot do for a bundle is refused, never ignored
  if (f.preserveFds && f.preserveFds !== "0") throw new OciError(`${cmd}: --preserve-fds is not supported by hull yet`);
  if (f.noPivot) throw new OciError(`${cmd}: --no-pivot: hull always uses pivot_root`);
  if (f.keep) throw new OciError(`${cmd}: --keep is not supported by hull yet`);
  if (f.processLabel || f.apparmor) throw new OciError(`${cmd}: hull sets no SELinux label or AppArmor profile`);
  if (f.cgroup) throw new OciError(`${cmd}: --cgroup: hull makes no cgroup for a bundle`);
  const format = f.format === undefined ? "table" : v.parse(FormatSchema, f.format);
  switch (cmd) {
    case "spec":
      takes(0);
      await spec(f);
      return 0;
    case "features":
      takes(0);
      print(JSON.stringify(await (await import("./spec")).features(), null, 2));
      return 0;
    case "create":
      takes(1);
      return launch(g, checkId(rest[0]), f, "create");
    case "run":
      takes(1);
      return launch(g, checkId(rest[0]), f, f.detach ? "run-detached" : "run");
    case "start":
      takes(1);
      await start(g, checkId(rest[0]));
      return 0;
    case "state":
      takes(1);
      print(JSON.stringify(ociState(ociRoot(g.root), checkId(rest[0])), null, 2));
      return 0;
    case "kill":
      takes(2);
      await kill(g, checkId(rest[0]), rest[1], f.all === "true");
      return 0;
    case "delete":
      takes(1);
      await remove(g, checkId(rest[0]), f.force === "true");
      return 0;
    case "list":
      takes(0);
      list(g, format, f.quiet === "true");
      return 0;
    case "ps":
      takes(1);
      ps(g, checkId(rest[0]), format);
      return 0;
    case "exec":
      return (await import("./exec")).exec(ociRoot(g.root), checkId(rest[0]), f, lists, rest.slice(1), errorLogOf(g));
  }
  throw new OciError(`unknown command ${cmd} (see 'hull oci --help')`);
}

/** --log for the shim, which writes its own errors there too */
function errorLogOf(g: Global): { path: string; json: boolean } | undefined {
  return g.log ? { path: resolve(g.log), json: g.logFormat === "json" } : undefined;
}

function logError(g: Global, message: string): void {
  process.stderr.write(`hull-oci: ${message}\n`);
  writeLog(g, "error", message);
}

/** A record in the --log file, as runc writes them (text or json); nothing without --log. */
function writeLog(g: Global, level: "error" | "warning", message: string): void {
  if (!g.log) return;
  const line =
    g.logFormat === "json"
      ? JSON.stringify({ level, msg: message, time: new Date().toISOString() })
      : `time="${new Date().toISOString()}" level=${level} msg=${JSON.stringify(message)}`;
  const { appendFileSync } = require("node:fs") as typeof import("node:fs");
  try {
    appendFileSync(g.log, `${line}\n`);
  } catch {}
}

/** The whole command line after `hull oci` (or `hull-oci`); the exit code. */
export async function ociMain(argv: string[]): Promise<number> {
  const g: Global = { logFormat: "text" };
  try {
    // the global flags, up to the command's name
    const at = argv.findIndex((w, i) => !w.startsWith("-") && !GLOBAL.values[(argv[i - 1] ?? "").replace(/^--?/, "")]);
    const head = at < 0 ? argv : argv.slice(0, at);
    const { flags } = parseFlags(head, GLOBAL, "");
    g.root = flags.root ? resolve(flags.root) : undefined;
    g.log = flags.log;
    g.systemdCgroup = flags.systemdCgroup === "true";
    if (flags.logFormat !== undefined) {
      if (flags.logFormat !== "text" && flags.logFormat !== "json")
        throw new OciError("--log-format takes text or json");
      g.logFormat = flags.logFormat;
    }
    if (flags.version) {
      print(`hull-oci version ${(await import("../cli/version")).VERSION}\nspec: ${OCI_VERSION}`);
      return 0;
    }
    const cmd = at < 0 ? undefined : argv[at];
    if (flags.help || cmd === undefined || cmd === "help") {
      print(USAGE);
      return cmd === undefined && !flags.help ? 1 : 0;
    }
    const table = COMMANDS[cmd];
    if (!table) throw new OciError(`unknown command ${cmd} (see 'hull oci --help')`);
    const words = argv.slice(at + 1);
    if (words.includes("--help") || words.includes("-h")) {
      print(USAGE);
      return 0;
    }
    return await dispatch(g, cmd, parseFlags(words, table, cmd));
  } catch (e) {
    logError(g, (e as Error).message);
    return 1;
  }
}
