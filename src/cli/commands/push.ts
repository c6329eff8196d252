import { push } from "../../image/push";
import type { HullCommand } from "../command";
import { print } from "../output";
import { progress } from "../progress";
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
    const p = progress(!args.quiet);
    const digest = await push(openStore(args.root), name, p.say, p.bytes);
    p.finish();
    print(digest);
  },
};
export default command;
