// `hull inspect NAME...`: docker's generic inspect, a container first, else an image; --type narrows
// it. What is found is printed as one JSON array; each name not found is a line of its own, exit 1.
import { inspectContainer } from "../../container/manage";
import { NoSuchContainerError } from "../../container/records";
import { inspectImage } from "../../image/manage";
import { storePaths, storeRoot } from "../../store/paths";
import type { HullCommand } from "../command";
import { eachName } from "../each";
import { print } from "../output";
import { openStore, rootArg } from "./image-common";

const command: HullCommand = {
  meta: {
    name: "inspect",
    description: "Show containers or images as JSON: hull inspect [--type container|image] NAME...",
  },
  args: {
    type: { type: "string", description: "container or image (default: a container, else an image)" },
    format: { type: "string", alias: "f", description: "Only json is supported yet" },
    ...rootArg,
  },
  async run({ args }) {
    const names = args._.map(String);
    if (names.length === 0) throw new Error("hull inspect needs at least one container or image");
    const type = args.type === undefined ? undefined : String(args.type);
    if (type !== undefined && type !== "container" && type !== "image")
      throw new Error(`--type takes container or image, not ${type}`);
    if (args.format !== undefined && args.format !== "json")
      throw new Error("--format templates are not supported yet: hull inspect prints JSON");
    const root = typeof args.root === "string" ? args.root : undefined;
    const paths = storePaths(storeRoot(root));
    const found: Record<string, unknown>[] = [];
    await eachName(names, (name) => {
      if (type !== "image") {
        try {
          found.push(inspectContainer(paths, name));
          return;
        } catch (e) {
          if (!(e instanceof NoSuchContainerError) || type === "container") throw e;
        }
      }
      try {
        found.push(inspectImage(openStore(root), name));
      } catch {
        throw new Error(`no such object: ${name}`);
      }
    });
    print(JSON.stringify(found, null, 2));
  },
};
export default command;
