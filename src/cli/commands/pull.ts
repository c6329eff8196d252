import { pull } from "../../image/pull";
import { parsePlatform } from "../../image/manifest";
import { ImageStore } from "../../image/store";
import { storePaths, storeRoot } from "../../store/paths";
import type { HullCommand } from "../command";
import { print } from "../output";
import { progress } from "../progress";

const command: HullCommand = {
  meta: { name: "pull", description: "Pull an image from a registry: hull pull NAME[:TAG|@DIGEST]" },
  args: {
    name: { type: "positional", description: "Image reference (docker.io/library/ by default, :latest by default)" },
    platform: { type: "string", description: "os/arch[/variant] to pull from a multi-platform image" },
    quiet: { type: "boolean", alias: "q", description: "Print only the image id" },
    root: { type: "string", description: "Store directory" },
  },
  async run({ args }) {
    const name = String(args.name ?? "");
    if (!name) throw new Error("hull pull needs an image name: hull pull NAME[:TAG|@DIGEST]");
    const store = new ImageStore(storePaths(storeRoot(typeof args.root === "string" ? args.root : undefined)));
    const platform = typeof args.platform === "string" ? parsePlatform(args.platform) : undefined;
    const p = progress(!args.quiet);
    const record = await pull(store, name, { platform, say: p.say, bytes: p.bytes });
    p.finish();
    print(record.id);
  },
};
export default command;
