import { progress } from "../progress";
import { importRootfs, loadArchive, saveImages, withArchiveFile } from "../../image/archive";
import { isatty } from "../../sys/libc";
import type { HullCommand } from "../command";
import { print } from "../output";
import { openStore, rootArg } from "./image-common";

export const save: HullCommand = {
  meta: {
    name: "save",
    description: "Write images to a tar archive (OCI layout with Docker's manifest.json); to stdout without -o",
  },
  args: { output: { type: "string", alias: "o", description: "File to write (default: standard output)" }, ...rootArg },
  async run({ args }) {
    const names = args._.map(String);
    if (names.length === 0) throw new Error("hull save needs at least one image: hull save [-o FILE] IMAGE...");
    const out = typeof args.output === "string" ? args.output : "-";
    if (out === "-" && isatty(1))
      throw new Error("refusing to write an archive to a terminal: give -o FILE, or redirect the output");
    await saveImages(openStore(args.root), names, out);
  },
};

export const load: HullCommand = {
  meta: { name: "load", description: "Load images from a tar archive (Docker archive or OCI layout)" },
  args: {
    input: { type: "string", alias: "i", description: "Archive to read (default: standard input)" },
    quiet: { type: "boolean", alias: "q", description: "No progress on the terminal" },
    ...rootArg,
  },
  async run({ args }) {
    const input = typeof args.input === "string" ? args.input : "-";
    if (input === "-" && isatty(0))
      throw new Error("hull load reads an archive from standard input: give -i FILE, or redirect the input");
    const store = openStore(args.root);
    // on a terminal only: the lines a script reads (Loaded image: ...) stay as docker's
    const p = progress(!args.quiet && isatty(2));
    const loaded = await withArchiveFile(store, input, (f) => loadArchive(store, f, p.bytes));
    p.finish();
    print(loaded.join("\n"));
  },
};

export const importCommand: HullCommand = {
  meta: {
    name: "import",
    description: "Make an image from a root filesystem tarball: hull import FILE|URL|- [NAME[:TAG]]",
  },
  args: {
    file: { type: "positional", description: "Tarball (plain, gzip or zstd)" },
    name: { type: "positional", description: "Name for the image", required: false },
    ...rootArg,
  },
  async run({ args }) {
    if (!args.file) throw new Error("hull import needs a tarball: hull import FILE [NAME[:TAG]]");
    const store = openStore(args.root);
    const name = args.name ? String(args.name) : undefined;
    print(await withArchiveFile(store, String(args.file), (p) => importRootfs(store, p, name)));
  },
};
