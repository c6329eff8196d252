import type { ArgsDef } from "citty";
import { readFileText } from "../../sys/libc";
import { confirmed, filterArg, forceArg, pruneFilter } from "../prune";
import { imageHistory, inspectImage, pruneImages, removeImage, tagImage } from "../../image/manage";
import type { HullCommand } from "../command";
import { print } from "../output";
import { visible } from "../../sys/control-chars";
import { format, openStore, rootArg, table } from "./image-common";
import { formatFlag, inspectPrinter } from "../inspected";
import { eachName } from "../each";
import { existsCommand } from "../exists";

export const tag: HullCommand = {
  meta: { name: "tag", description: "Give an image another name: hull tag SOURCE TARGET" },
  args: {
    source: { type: "positional", description: "Image name or id" },
    target: { type: "positional", description: "New name[:tag]" },
    ...rootArg,
  },
  async run({ args }) {
    if (!args.source || !args.target) throw new Error("hull tag needs SOURCE and TARGET");
    await tagImage(openStore(args.root), String(args.source), String(args.target));
  },
};

export const rmi: HullCommand = {
  meta: { name: "rmi", description: "Remove images: untag, and delete once no tag and no container is left" },
  args: {
    force: {
      type: "boolean",
      alias: "f",
      description: "Untag even an image a container uses, or one with several tags",
    },
    ...rootArg,
  },
  async run({ args }) {
    const names = args._.map(String);
    if (names.length === 0) throw new Error("hull rmi needs at least one image");
    const store = openStore(args.root);
    await eachName(names, async (n) => print((await removeImage(store, n, Boolean(args.force))).join("\n")));
  },
};

const pruneArgs = {
  all: { type: "boolean", alias: "a", description: "Every image without a container, not only untagged ones" },
  ...forceArg,
  ...filterArg,
  ...rootArg,
} as const satisfies ArgsDef;

export const prune: HullCommand = {
  meta: { name: "prune", description: "Remove dangling images (-a: every image no container uses)" },
  takes: 0,
  args: pruneArgs,
  async run({ args, rawArgs }) {
    const filter = pruneFilter(rawArgs, pruneArgs, "image prune");
    const warning = args.all
      ? "This will remove all images without at least one container associated to them."
      : "This will remove all dangling images.";
    if (!confirmed(Boolean(args.force), warning)) return;
    const store = openStore(args.root);
    const out = await pruneImages(store, Boolean(args.all), (rec) => {
      // until= counts from when the image came into this store (a reproducible build is dated 1970)
      const config = JSON.parse(readFileText(store.blobPath(rec.id)) ?? "{}") as {
        config?: { Labels?: Record<string, string> };
      };
      return filter.allows(rec.created, config.config?.Labels);
    });
    print(out.length ? out.join("\n") : "Nothing to remove");
  },
};

export const inspect: HullCommand = {
  meta: { name: "inspect", description: "Show images as JSON, as docker image inspect" },
  args: { ...formatFlag, ...rootArg },
  async run({ args }) {
    const store = openStore(args.root);
    const names = args._.map(String);
    if (names.length === 0) throw new Error("hull image inspect needs at least one image");
    const show = inspectPrinter(args.format);
    const found: unknown[] = [];
    await eachName(names, (n) => {
      found.push(inspectImage(store, n));
    });
    show(found);
  },
};

export const history: HullCommand = {
  meta: { name: "history", description: "Show how an image was made: IMAGE CREATED CREATED BY SIZE COMMENT" },
  args: { image: { type: "positional", description: "Image name or id" }, ...rootArg },
  async run({ args }) {
    if (!args.image) throw new Error("hull history needs an image");
    const rows = imageHistory(openStore(args.root), String(args.image));
    const cut = (s: string) => (s.length > 45 ? `${s.slice(0, 44)}…` : s);
    print(
      table([
        ["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"],
        ...rows.map((r) => [
          r.id,
          r.created ? format.ago(r.created) : "N/A",
          // the image's words: shown, not sent to the terminal
          cut(visible(r.createdBy)),
          format.human(r.size),
          visible(r.comment),
        ]),
      ]),
    );
  },
};

export const image: HullCommand = {
  meta: { name: "image", description: "Manage images: ls, pull, tag, rm, prune, inspect, history" },
  // docker's `image VERB` names for every image command
  subCommands: {
    exists: existsCommand("image", (root, name) => {
      try {
        inspectImage(openStore(root), name);
        return true;
      } catch {
        return false;
      }
    }),
    ls: () => import("./images").then((m) => m.default),
    list: () => import("./images").then((m) => m.default),
    pull: () => import("./pull").then((m) => m.default),
    push: () => import("./push").then((m) => m.default),
    build: () => import("./build").then((m) => m.build),
    save: () => import("./archive").then((m) => m.save),
    load: () => import("./archive").then((m) => m.load),
    import: () => import("./archive").then((m) => m.importCommand),
    tag,
    rm: rmi,
    prune,
    inspect,
    history,
  },
};
