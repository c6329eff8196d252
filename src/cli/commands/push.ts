import { push } from "../../image/push";
import type { HullCommand } from "../command";
import { print, printErr } from "../output";
import { openStore, rootArg } from "./image-common";

const command: HullCommand = {
  meta: { name: "push", description: "Push an image to a registry: hull push NAME[:TAG]" },
  args: {
    name: { type: "positional", description: "Image name, with its registry (127.0.0.1:5000/me/app:1)" },
    quiet: { type: "boolean", alias: "q", description: "Print only the manifest digest" },
    ...rootArg,
  },
  async run({ args }) {
    const name = String(args.name ?? "");
    if (!name) throw new Error("hull push needs an image: hull push NAME[:TAG]");
    print(await push(openStore(args.root), name, args.quiet ? undefined : printErr));
  },
};
export default command;
