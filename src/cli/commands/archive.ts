import { importRootfs, loadArchive, saveImages } from "../../image/archive";
import type { HullCommand } from "../command";
import { print } from "../output";
import { openStore, rootArg } from "./image-common";

export const save: HullCommand = {
  meta: { name: "save", description: "Write images to a tar archive (OCI layout with Docker's manifest.json)" },
  args: { output: { type: "string", alias: "o", description: "File to write", required: true }, ...rootArg },
  async run({ args }) {
    const names = args._.map(String);
    if (names.length === 0) throw new Error("hull save needs at least one image: hull save -o FILE IMAGE...");
    if (typeof args.output !== "string") throw new Error("hull save needs -o FILE");
    await saveImages(openStore(args.root), names, args.output);
  },
};

export const load: HullCommand = {
  meta: { name: "load", description: "Load images from a tar archive (Docker archive or OCI layout)" },
  args: { input: { type: "string", alias: "i", description: "Archive to read", required: true }, ...rootArg },
  async run({ args }) {
    if (typeof args.input !== "string") throw new Error("hull load needs -i FILE");
    print((await loadArchive(openStore(args.root), args.input)).join("\n"));
  },
};

export const importCommand: HullCommand = {
  meta: { name: "import", description: "Make an image from a root filesystem tarball: hull import FILE [NAME[:TAG]]" },
  args: {
    file: { type: "positional", description: "Tarball (plain, gzip or zstd)" },
    name: { type: "positional", description: "Name for the image", required: false },
    ...rootArg,
  },
  async run({ args }) {
    if (!args.file) throw new Error("hull import needs a tarball: hull import FILE [NAME[:TAG]]");
    print(await importRootfs(openStore(args.root), String(args.file), args.name ? String(args.name) : undefined));
  },
};
