// hull's entry point: route to a command, print failures as one line, exit non-zero.
// Commands load lazily (bun build --splitting), so `hull run` pays only for what it uses.
import type { ArgsDef } from "citty";
import { commandArgs, parseInterspersed, UsageError } from "./argv";
import type { HullCommand } from "./command";
import { print, printErr } from "./output";
import { visible } from "../sys/control-chars";
import { mark } from "../sys/trace";
import { commands } from "./table";
import { VERSION } from "./version";

const main: HullCommand = {
  meta: { name: "hull", version: VERSION, description: "Rootless, daemonless containers in one executable" },
  subCommands: commands,
};

function fail(e: unknown, debug: boolean, args: string[] = []): never {
  const err = e as Error & { exitCode?: number };
  const { pathErrorInWords, storeFromArgs } = require("./errors") as typeof import("./errors");
  const { storeRoot } = require("../store/paths") as typeof import("../store/paths");
  // the store's path, to say a path error in words; a config file that does not parse has no store
  let root = "";
  try {
    root = storeRoot();
  } catch {}
  printErr(`hull: ${visible((root && pathErrorInWords(e, storeFromArgs(args, root))) || err?.message || String(e))}`);
  if (debug) {
    let c: unknown = err;
    while (c) {
      printErr(`  ${(c as Error).stack ?? String(c)}`);
      c = (c as Error).cause;
    }
  }
  process.exit(err?.exitCode ?? 125);
}

async function usage(cmd: HullCommand, parent?: HullCommand): Promise<void> {
  const { renderUsage } = await import("citty");
  const rendered = await renderUsage(cmd, parent);
  // colours only for a person at a terminal who has not asked for none (NO_COLOR, no-color.org)
  const { isatty } = await import("../sys/libc");
  const colour = isatty(1) && !process.env.NO_COLOR && process.env.TERM !== "dumb";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the escape sequences are what goes
  const text = colour ? rendered : rendered.replace(/\x1b\[[0-9;]*m/g, "");
  // citty writes a long alias with one dash (-net: here --net, one space to its left taken, so the
  // column stays aligned) and pads lines with spaces to the longest
  const fixed = text
    .split("\n")
    // biome-ignore lint/suspicious/noControlCharactersInRegex: a colour's escape may precede the alias
    .map((l) => l.replace(/(^|\s)((?:\x1b\[[0-9;]*m)?)-([a-z][a-z-]+), --/, "$2--$3, --").trimEnd())
    .join("\n");
  print(`${fixed}\n`);
}

type SubCommands = Record<string, HullCommand | (() => Promise<HullCommand>)>;

/**
 * The command the words name: `image prune` is image's subcommand prune. The first word that is not
 * a flag must be a subcommand of a command that has them; the rest is the leaf's to parse.
 */
async function resolveCommand(
  top: HullCommand,
  words: string[],
  path: string[],
): Promise<{ cmd: HullCommand; parent: HullCommand; rest: string[]; path: string[] }> {
  let cmd = top;
  let parent = main;
  let rest = words;
  for (;;) {
    const subs = cmd.subCommands as SubCommands | undefined;
    if (!subs) return { cmd, parent, rest, path };
    const at = rest.findIndex((w) => !w.startsWith("-"));
    const word = at >= 0 ? (rest[at] as string) : undefined;
    const next = word !== undefined ? subs[word] : undefined;
    if (!next) {
      if (rest.includes("--help") || rest.includes("-h") || word === undefined)
        return { cmd, parent, rest: ["--help"], path };
      throw new UsageError(`unknown command: ${[...path, word].join(" ")} (see 'hull ${path.join(" ")} --help')`);
    }
    parent = cmd;
    cmd = typeof next === "function" ? await next() : next;
    path = [...path, word as string];
    rest = [...rest.slice(0, at), ...rest.slice(at + 1)];
  }
}

/** --help (or -h where the command has no -h of its own) among the command's own words. */
function asksForHelp(cmd: HullCommand, words: string[]): boolean {
  const def = (cmd.args ?? {}) as ArgsDef;
  const takesValue = new Set<string>();
  for (const [key, d] of Object.entries(def)) {
    if (d.type === "positional" || d.type === "boolean") continue;
    takesValue.add(`--${key}`);
    for (const a of "alias" in d && d.alias ? [d.alias].flat() : [])
      takesValue.add(a.length === 1 ? `-${a}` : `--${a}`);
  }
  const hasShortH =
    takesValue.has("-h") || Object.values(def).some((d) => "alias" in d && [d.alias].flat().includes("h"));
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    if (w === "--") return false;
    if (w === "--help" || (w === "-h" && !hasShortH)) return true;
    if (w.startsWith("-") && !w.includes("=")) {
      // the value of `--name n` or `-e A=1` is not a positional: look past it
      const flag = w.startsWith("--") ? w : `-${w.slice(-1)}`;
      if (takesValue.has(flag) && (w.startsWith("--") || w.length === 2)) {
        // `-a --help`: help wins over taking it as the value
        if (words[i + 1] === "--help") return true;
        i++;
      }
      continue;
    }
    // a command that takes a command line of its own (run IMAGE CMD...): what follows the first
    // positional is that command's, `hull run busybox ls --help` passes --help to ls
    if (cmd.ownArgs && !w.startsWith("-")) return false;
  }
  return false;
}

export async function cli(argv: string[]): Promise<void> {
  mark("hull started");
  const debug = argv[0] === "--debug";
  const args = debug ? argv.slice(1) : argv;
  const name = args[0];
  if (!name || name === "--help" || name === "-h" || name === "help") return usage(main);
  if (name === "--version") {
    print(`hull ${VERSION}`);
    return;
  }
  let load = commands[name];
  if (!load && !name.startsWith("-")) {
    // the config file's [aliases]: `hull ll` is `hull ps -a ...`; a command is never shadowed
    const { loadConfig, splitWords } = await import("../store/config");
    let alias: string | undefined;
    try {
      alias = loadConfig().config.aliases?.[name];
    } catch (e) {
      fail(e, debug);
    }
    if (alias !== undefined) {
      const words = splitWords(alias);
      if (words.length === 0 || !commands[words[0] as string])
        fail(new Error(`alias ${name} = "${alias}" does not start with a hull command`), debug);
      return cli([...(debug ? ["--debug"] : []), ...words, ...args.slice(1)]);
    }
  }
  load = commands[name];
  if (!load && name.startsWith("-"))
    fail(
      new UsageError(`${name}: hull's flags go after the command (hull COMMAND ${name} ...; see 'hull --help')`),
      debug,
    );
  if (!load) fail(new Error(`unknown command: ${name} (see 'hull --help')`), debug);
  try {
    const { cmd, parent, rest, path } = await resolveCommand(await load(), args.slice(1), [name]);
    mark(`command ${path.join(" ")} loaded`);
    // --help anywhere prints help and does nothing else: `hull image prune -a --help` must not prune
    if (asksForHelp(cmd, rest)) return usage(cmd, parent);
    if (cmd.ownArgs && cmd.run) {
      await cmd.run({ rawArgs: rest, args: { _: [] } as never, cmd });
      return;
    }
    if (!cmd.run) return usage(cmd, parent);
    // every flag must be one the command has: an ignored `--filter` turned `rmi $(images -q -f ...)`
    // into "remove every image"
    const def = (cmd.args ?? {}) as ArgsDef;
    const parsed = parseInterspersed(rest, def, path.join(" "), true);
    const words = parsed.positionals;
    // a command of named positionals takes those, as docker's (`hull tag SRC T1 T2` tagged T1 only)
    const named = Object.values(def).filter((d) => d.type === "positional").length;
    const takes = cmd.takes ?? (named > 0 ? named : undefined);
    if (takes !== undefined && words.length > takes)
      throw new UsageError(
        `hull ${path.join(" ")} takes ${takes === 0 ? "no arguments" : `at most ${takes}`}, not ${words.slice(takes).join(" ")} (see 'hull ${path.join(" ")} --help')`,
      );
    const given = commandArgs(parsed, def, path.join(" "));
    await cmd.run({ rawArgs: rest, args: given as never, cmd });
  } catch (e) {
    fail(e, debug, args);
  }
}

// multi-call: as hull-oci (a link to hull), the OCI runtime command line of `hull oci`
if (/(^|\/)hull-oci$/.test(process.argv0)) {
  import("../oci/cli").then(async (m) => process.exit(await m.ociMain(process.argv.slice(2))));
} else {
  cli(process.argv.slice(2));
}
