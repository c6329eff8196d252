// `hull inspect NAME...`: docker's generic inspect: a container first, else an image, a network, a
// volume (docker's order); --type narrows it. What is found is printed as one JSON array, or through
// --format; each name not found is a line of its own, exit 1.
import { inspectContainer } from "../../container/manage";
import { NoSuchContainerError } from "../../container/records";
import { inspectVolume } from "../../container/volumes";
import { inspectImage } from "../../image/manage";
import { storePaths, storeRoot } from "../../store/paths";
import type { HullCommand } from "../command";
import { eachName } from "../each";
import { formatFlag, inspectPrinter } from "../inspected";
import { openStore, rootArg } from "./image-common";

const TYPES = ["container", "image", "network", "volume"] as const;
type Kind = (typeof TYPES)[number];

const command: HullCommand = {
  meta: {
    name: "inspect",
    description:
      "Show containers, images, networks or volumes as JSON, or through a Go template: hull inspect [--type TYPE] [-f FORMAT] NAME...",
  },
  args: {
    type: { type: "string", description: "container, image, network or volume (default: the first that has NAME)" },
    ...formatFlag,
    ...rootArg,
  },
  async run({ args }) {
    const names = args._.map(String);
    if (names.length === 0) throw new Error("hull inspect needs at least one container, image, network or volume");
    const type = args.type === undefined ? undefined : String(args.type);
    if (type !== undefined && !TYPES.includes(type as Kind))
      throw new Error(`--type takes ${TYPES.join(", ")}, not ${type}`);
    const show = inspectPrinter(args.format);
    const root = typeof args.root === "string" ? args.root : undefined;
    const paths = storePaths(storeRoot(root));
    const { inspectNetwork } = await import("../../network/manage");
    const finders: Record<Kind, (name: string) => Record<string, unknown>> = {
      container: (n) => inspectContainer(paths, n),
      image: (n) => inspectImage(openStore(root), n),
      network: (n) => inspectNetwork(paths, n),
      volume: (n) => inspectVolume(paths, n),
    };
    const found: unknown[] = [];
    await eachName(names, (name) => {
      for (const kind of type ? [type as Kind] : TYPES) {
        try {
          found.push(finders[kind](name));
          return;
        } catch (e) {
          if (type === "container" && e instanceof NoSuchContainerError) throw e;
          if (type !== undefined) throw new Error(`no such ${type}: ${name}`);
        }
      }
      throw new Error(`no such object: ${name}`);
    });
    show(found);
  },
};
export default command;
