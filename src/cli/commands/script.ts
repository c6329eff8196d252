// `hull script FILE [ARGS...]`: run a sandbox script, whose first line is
// `#!/usr/bin/env -S hull script`, in the container its header declares (src/container/script-header.ts).
// It becomes one `hull run` command line, run in this process from the script's directory (so any
// relative host path in it is the script directory's, whichever option holds it): a script costs
// what `hull run` costs.
import { basename, dirname, resolve } from "../../sys/path";
import { parseScriptHeader, SCRIPT_DIR, ScriptError, type ScriptPlan, shellLine } from "../../container/script-header";
import { isatty, readFileText, realPath } from "../../sys/libc";
import { UsageError } from "../argv";
import type { HullCommand } from "../command";
import { mark } from "../../sys/trace";
import { print } from "../output";
import { checkRunOptions, runContainer } from "../../container/run";
import { runArgs, runOptions } from "./run";

/** The `hull run` arguments (after "run") that running FILE with ARGS means, and the script's directory. */
/**
 * Where the header gave the run option MESSAGE starts with (`--restart takes ...`, `-e takes ...`):
 * its line, or of the lines that gave it, the one whose value the message quotes. Undefined when
 * that cannot be told (a message that names no option first: a value may hold any text).
 */
function blame(message: string, lineOf: ScriptPlan["lineOf"]): string | undefined {
  const m = /^--?([a-zA-Z][a-z-]*)/.exec(message);
  if (!m) return undefined;
  const name = m[1] as string;
  const defs = runArgs as Record<string, { alias?: string | string[] }>;
  const key = Object.hasOwn(defs, name)
    ? name
    : Object.keys(defs).find((k) => [defs[k]?.alias ?? []].flat().includes(name));
  const given = key !== undefined && Object.hasOwn(lineOf, key) ? (lineOf[key] ?? []) : [];
  if (given.length === 1) return given[0]?.where;
  const quoted = given.filter((g) => g.value !== "" && message.includes(g.value));
  return quoted.length === 1 ? quoted[0]?.where : undefined;
}

export function scriptRunArgs(
  file: string,
  args: string[],
): { argv: string[]; dir: string; lineOf: ScriptPlan["lineOf"] } {
  const path = realPath(file);
  if (path === undefined) throw new ScriptError(`${file}: no such script`);
  // non-blocking: a fifo named as the script reads as empty (and is refused) instead of hanging
  const text = readFileText(path, true);
  if (text === undefined) throw new ScriptError(`${file}: cannot read it`);
  // bound by --mount, whose values are comma-separated: a comma in the path cannot be said there
  if (path.includes(",")) throw new ScriptError(`${file}: a script whose path has a comma cannot be bound: rename it`);
  const plan = parseScriptHeader(text, file, dirname(path), runArgs);
  const inside = `${SCRIPT_DIR}/${basename(path)}`;
  const given = (k: string) => plan.options.some((o) => o.startsWith(`--${k}=`));
  const argv = [
    ...plan.options,
    // the caller's input goes in; a terminal stays one (CI has none)
    ...(given("interactive") ? [] : ["--interactive=true"]),
    ...(given("tty") || !isatty(0) || !isatty(1) ? [] : ["--tty=true"]),
    `--mount=type=bind,source=${path},target=${inside},readonly`,
    `--label=hull.script=${path}`,
    // the image and what follows are never read as flags
    "--",
    plan.image,
    ...plan.interpreter,
    inside,
    ...args,
  ];
  return { argv, dir: dirname(path), lineOf: plan.lineOf };
}

const command: HullCommand = {
  meta: {
    name: "script",
    description:
      "Run a sandbox script in the container its '# hull:' lines declare: hull script [--explain|--check] FILE [ARG...] (docs/scripts.md)",
  },
  args: {
    explain: { type: "boolean", description: "Print the hull run command line the header means; run nothing" },
    check: { type: "boolean", description: "Check the header (and its options); run nothing" },
  },
  ownArgs: true,
  async run({ rawArgs }) {
    // hull's own flags first; the first other word is the script, the rest its arguments
    let i = 0;
    let mode: "run" | "explain" | "check" = "run";
    for (; i < rawArgs.length && (rawArgs[i] as string).startsWith("-"); i++) {
      const a = rawArgs[i] as string;
      if (a === "--explain") mode = "explain";
      else if (a === "--check") mode = "check";
      else if (a === "--") {
        i++;
        break;
      } else throw new UsageError(`unknown flag: ${a} (hull script [--explain|--check] FILE [ARG...])`);
    }
    const file = rawArgs[i];
    if (file === undefined) throw new UsageError("hull script needs a script: hull script FILE [ARG...]");
    const { argv, dir, lineOf } = scriptRunArgs(file, rawArgs.slice(i + 1));
    mark("script header read");
    if (mode === "explain") {
      print(`cd ${shellLine([dir])} && ${shellLine(["hull", "run", ...argv])}`);
      return;
    }
    // from the script's directory: the store stays where it was named
    if (process.env.HULL_ROOT) process.env.HULL_ROOT = resolve(process.env.HULL_ROOT);
    process.chdir(dir);
    let o: ReturnType<typeof runOptions>;
    try {
      o = runOptions(argv, "run");
      // --check: all that run would refuse before it makes anything (a run finds it itself)
      if (mode === "check") await checkRunOptions(o);
    } catch (e) {
      throw new ScriptError(`${blame((e as Error).message, lineOf) ?? file}: ${(e as Error).message}`);
    }
    if (mode === "check") {
      print(`${file}: ok`);
      return;
    }
    // the options parsed once: what `hull run` does with its command line; a refusal that names an
    // option names the header line that gave it
    try {
      await runContainer(o);
    } catch (e) {
      const where = e instanceof Error ? blame(e.message, lineOf) : undefined;
      if (where && e instanceof Error) e.message = `${where}: ${e.message}`;
      throw e;
    }
  },
};
export default command;
