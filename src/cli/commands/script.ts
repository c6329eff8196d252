// `hull script FILE [ARGS...]`: run a sandbox script, whose first line is
// `#!/usr/bin/env -S hull script`, in the container its header declares (src/container/script-header.ts).
// It becomes one `hull run` command line, run in this process: a script costs what `hull run` costs.
import { basename, dirname } from "node:path";
import { parseScriptHeader, SCRIPT_DIR, ScriptError, shellLine } from "../../container/script-header";
import { isatty, readFileText, realPath } from "../../sys/libc";
import { UsageError } from "../argv";
import type { HullCommand } from "../command";
import { print } from "../output";
import runCommand, { runArgs, runOptions } from "./run";

/** The `hull run` arguments (after "run") that running FILE with ARGS means. */
export function scriptRunArgs(file: string, args: string[]): string[] {
  const path = realPath(file);
  if (path === undefined) throw new ScriptError(`${file}: no such script`);
  const text = readFileText(path);
  if (text === undefined) throw new ScriptError(`${file}: cannot read it`);
  const plan = parseScriptHeader(text, file, dirname(path), runArgs);
  const inside = `${SCRIPT_DIR}/${basename(path)}`;
  const given = (k: string) => plan.options.some((o) => o.startsWith(`--${k}=`));
  return [
    ...plan.options,
    // the caller's input goes in; a terminal stays one (CI has none)
    ...(given("interactive") ? [] : ["--interactive=true"]),
    ...(given("tty") || !isatty(0) || !isatty(1) ? [] : ["--tty=true"]),
    `--volume=${path}:${inside}:ro`,
    `--label=hull.script=${path}`,
    plan.image,
    ...plan.interpreter,
    inside,
    ...args,
  ];
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
    const argv = scriptRunArgs(file, rawArgs.slice(i + 1));
    if (mode === "explain") {
      print(shellLine(["hull", "run", ...argv]));
      return;
    }
    try {
      runOptions(argv, "run");
    } catch (e) {
      throw new ScriptError(`${file}: ${(e as Error).message}`);
    }
    if (mode === "check") {
      print(`${file}: ok`);
      return;
    }
    await (runCommand.run as (ctx: { rawArgs: string[] }) => Promise<void>)({ rawArgs: argv });
  },
};
export default command;
