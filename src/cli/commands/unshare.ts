import { findProgram } from "../../runtime/programs";
import { spawnInUserNamespace } from "../../runtime/userns-exec";
import type { HullCommand } from "../command";

// As `podman unshare`: the store holds files of subordinate ids, which only root in hull's user
// namespace can read or remove. stdin is not passed (the shim's exec mode gives /dev/null).
const command: HullCommand = {
  meta: { name: "unshare", description: "Run a command as root in hull's user namespace: hull unshare [CMD [ARG...]]" },
  ownArgs: true,
  async run({ rawArgs }) {
    const [cmd = "sh", ...args] = rawArgs;
    const path = cmd.includes("/") ? cmd : findProgram(cmd);
    if (!path) throw new Error(`${cmd}: command not found`);
    const p = await spawnInUserNamespace([path, ...args], {}, "inherit");
    process.exitCode = await p.exited;
  },
};
export default command;
