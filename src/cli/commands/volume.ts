import {
  ensureVolume,
  inspectVolume,
  listVolumes,
  pruneVolumes,
  removeVolume,
  usersOf,
  VOLUME_NAME,
} from "../../container/volumes";
import { storePaths, storeRoot } from "../../store/paths";
import type { ArgsDef } from "citty";
import { all, parseInterspersed } from "../argv";
import type { HullCommand } from "../command";
import { boolFilter, parseFilters, passes } from "../filters";
import { confirmed, forceArg } from "../prune";
import { print } from "../output";
import { rootArg, table } from "./image-common";
import { eachName } from "../each";

const volumeLsArgs = {
  quiet: { type: "boolean", alias: "q" },
  filter: { type: "string", alias: "f" },
  root: { type: "string" },
} as const satisfies ArgsDef;

const paths = (root: unknown) => storePaths(storeRoot(typeof root === "string" ? root : undefined));

export const volume: HullCommand = {
  meta: { name: "volume", description: "Manage volumes: create, ls, inspect, rm, prune" },
  subCommands: {
    create: {
      meta: { name: "create", description: "Create a named volume: hull volume create [NAME]" },
      args: {
        name: { type: "positional", required: false, description: "Name (default: a generated id)" },
        ...rootArg,
      },
      async run({ args }) {
        const name = args.name
          ? String(args.name)
          : Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex");
        if (!VOLUME_NAME.test(name))
          throw new Error(`invalid volume name ${name}: 2 to 200 letters, digits, '_', '.' and '-'`);
        ensureVolume(paths(args.root), name, !args.name);
        print(name);
      },
    },
    ls: {
      meta: { name: "ls", description: "List volumes" },
      takes: 0,
      args: {
        quiet: { type: "boolean", alias: "q", description: "Only names" },
        filter: { type: "string", alias: "f", description: "dangling=true|false, name=SUBSTRING (repeatable)" },
        ...rootArg,
      },
      async run({ args, rawArgs }) {
        const f = parseFilters(
          all(parseInterspersed(rawArgs, volumeLsArgs, "volume ls", true), "filter"),
          ["dangling", "name"],
          "volume ls",
        );
        const p = paths(args.root);
        const vols = listVolumes(p).filter(
          (v) =>
            passes(f, "dangling", (d) => boolFilter(d, "dangling") === (usersOf(p, v.name).length === 0)) &&
            passes(f, "name", (n) => v.name.includes(n)),
        );
        if (args.quiet) {
          if (vols.length > 0) print(vols.map((v) => v.name).join("\n"));
          return;
        }
        print(table([["DRIVER", "VOLUME NAME"], ...vols.map((v) => ["local", v.name])]));
      },
    } as HullCommand,
    inspect: {
      meta: { name: "inspect", description: "Show volumes as JSON" },
      args: { ...rootArg },
      async run({ args }) {
        const names = args._.map(String);
        if (names.length === 0) throw new Error("hull volume inspect needs a volume");
        print(
          JSON.stringify(
            names.map((n) => inspectVolume(paths(args.root), n)),
            null,
            2,
          ),
        );
      },
    },
    rm: {
      meta: { name: "rm", description: "Remove volumes (refused while a container uses one, unless -f)" },
      args: { force: { type: "boolean", alias: "f", description: "Remove even a volume in use" }, ...rootArg },
      async run({ args }) {
        const names = args._.map(String);
        if (names.length === 0) throw new Error("hull volume rm needs a volume");
        await eachName(names, async (n) => {
          await removeVolume(paths(args.root), n, Boolean(args.force));
          print(n);
        });
      },
    },
    prune: {
      meta: { name: "prune", description: "Remove anonymous volumes no container uses (-a: named ones too)" },
      takes: 0,
      args: { all: { type: "boolean", alias: "a", description: "Named volumes too" }, ...forceArg, ...rootArg },
      async run({ args }) {
        const warning = args.all
          ? "This will remove all local volumes not used by at least one container."
          : "This will remove anonymous local volumes not used by at least one container.";
        if (!confirmed(Boolean(args.force), warning)) return;
        const out = await pruneVolumes(paths(args.root), Boolean(args.all));
        print(out.length ? out.join("\n") : "Nothing to remove");
      },
    } as HullCommand,
  },
};
