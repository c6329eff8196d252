import type { ArgsDef } from "citty";
import { execInContainer } from "../../container/exec";
import { storePaths, storeRoot } from "../../store/paths";
import { all, flag, last, parseInterspersed } from "../argv";
import type { HullCommand } from "../command";

export const execArgs = {
  interactive: { type: "boolean", alias: "i", description: "Keep stdin attached" },
  tty: { type: "boolean", alias: "t", description: "Allocate a pseudo-terminal" },
  env: { type: "string", alias: "e", description: "Set an environment variable" },
  user: { type: "string", alias: "u", description: "UID[:GID] or NAME[:GROUP] to run as" },
  workdir: { type: "string", alias: "w", description: "Working directory inside the container" },
  root: { type: "string", description: "Store directory" },
} as const satisfies ArgsDef;

const command: HullCommand = {
  meta: {
    name: "exec",
    description: "Run a command in a running container: hull exec [-it] CONTAINER COMMAND [ARG...]",
  },
  args: execArgs,
  ownArgs: true,
  async run({ rawArgs }) {
    const p = parseInterspersed(rawArgs, execArgs, "exec");
    const [container, ...argv] = p.positionals;
    if (!container) throw new Error("hull exec needs a container and a command");
    const workdir = last(p, "workdir");
    if (workdir !== undefined && !workdir.startsWith("/")) throw new Error("-w takes an absolute path");
    await execInContainer(storePaths(storeRoot(last(p, "root"))), {
      container,
      argv,
      env: all(p, "env"),
      user: last(p, "user"),
      workdir,
      tty: flag(p, "tty"),
      interactive: flag(p, "interactive"),
    });
  },
};
export default command;
