// `hull completion bash|zsh|fish`: shell completions made from the command table.
import type { HullCommand } from "../command";
import { print } from "../output";
import { bashCompletion, fishCompletion, walkCommands, zshCompletion } from "../reference";

const SHELLS = { bash: bashCompletion, zsh: zshCompletion, fish: fishCompletion };

const command: HullCommand = {
  meta: {
    name: "completion",
    description:
      "Print shell completions: hull completion bash|zsh|fish (bash: hull completion bash > ~/.local/share/bash-completion/completions/hull)",
  },
  takes: 1,
  args: { shell: { type: "positional", description: "bash, zsh or fish" } },
  async run({ args }) {
    const shell = String(args._[0] ?? "");
    const make = SHELLS[shell as keyof typeof SHELLS];
    if (!make) throw new Error(`hull completion takes bash, zsh or fish, not ${shell || "nothing"}`);
    const { groups, leaves } = await walkCommands();
    print(make(groups, leaves).trimEnd());
  },
};
export default command;
