import { labelMap } from "../../container/labels";
import {
  ensureVolume,
  inspectVolume,
  listVolumes,
  pruneVolumes,
  removeVolume,
  usersOf,
  readVolume,
  VOLUME_NAME,
  volumeData,
} from "../../container/volumes";
import { storePaths, storeRoot } from "../../store/paths";
import type { ArgsDef } from "citty";
import { all, parseInterspersed } from "../argv";
import type { HullCommand } from "../command";
import { boolFilter, labelsPass, parseFilters, passes } from "../filters";
import { formatArg, labelFields, renderListing } from "../listing";
import { formatFlag, inspectPrinter } from "../inspected";
import { confirmed, forceArg } from "../prune";
import { print } from "../output";
import { rootArg, table } from "./image-common";
import { eachName } from "../each";
import { existsCommand } from "../exists";

const volumeLsArgs = {
  quiet: { type: "boolean", alias: "q", description: "Only names" },
  filter: {
    type: "string",
    alias: "f",
    description: "dangling=true|false, name=SUBSTRING, label=KEY[=VALUE], driver=local (repeatable)",
  },
  format: { type: "string", description: "table, json, a Go template ({{.Name}}), or table TEMPLATE" },
  ...rootArg,
} as const satisfies ArgsDef;

const createArgs = {
  name: { type: "positional", required: false, description: "Name (default: a generated id)" },
  label: { type: "string", alias: "l", description: "KEY=VALUE (repeatable)" },
  driver: { type: "string", alias: "d", description: "local (the only one)" },
  ...rootArg,
} as const satisfies ArgsDef;

const VOLUME_HEADERS = {
  Name: "VOLUME NAME",
  Driver: "DRIVER",
  Scope: "SCOPE",
  Mountpoint: "MOUNTPOINT",
  CreatedAt: "CREATED",
  Labels: "LABELS",
  Links: "LINKS",
  Size: "SIZE",
};

const paths = (root: unknown) => storePaths(storeRoot(typeof root === "string" ? root : undefined));

export const volume: HullCommand = {
  meta: { name: "volume", description: "Manage volumes: create, ls, inspect, rm, prune" },
  subCommands: {
    // a damaged record is an error (125), not "not there": the name is taken
    exists: existsCommand(
      "volume",
      (root, name) => VOLUME_NAME.test(name) && readVolume(paths(root), name) !== undefined,
    ),
    create: {
      meta: { name: "create", description: "Create a named volume: hull volume create [NAME]" },
      args: createArgs,
      async run({ args, rawArgs }) {
        if (args.driver !== undefined && args.driver !== "local")
          throw new Error(`--driver ${String(args.driver)}: hull's volumes are local directories (--driver local)`);
        const labels = labelMap(all(parseInterspersed(rawArgs, createArgs, "volume create", true), "label"));
        const name = args.name
          ? String(args.name)
          : Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex");
        if (!VOLUME_NAME.test(name))
          throw new Error(`invalid volume name ${name}: 2 to 200 letters, digits, '_', '.' and '-'`);
        ensureVolume(paths(args.root), name, !args.name, labels);
        print(name);
      },
    },
    ls: {
      meta: { name: "ls", description: "List volumes" },
      takes: 0,
      args: volumeLsArgs,
      async run({ args, rawArgs }) {
        const f = parseFilters(
          all(parseInterspersed(rawArgs, volumeLsArgs, "volume ls", true), "filter"),
          ["dangling", "name", "label", "driver"],
          "volume ls",
        );
        const p = paths(args.root);
        const vols = listVolumes(p).filter(
          (v) =>
            passes(f, "dangling", (d) => boolFilter(d, "dangling") === (usersOf(p, v.name).length === 0)) &&
            passes(f, "name", (n) => v.name.includes(n)) &&
            passes(f, "driver", (d) => d === "local") &&
            labelsPass(f, v.labels),
        );
        if (args.quiet) {
          if (vols.length > 0) print(vols.map((v) => v.name).join("\n"));
          return;
        }
        const rows = vols.map((v) => ({
          Name: v.name,
          Driver: "local",
          Scope: "local",
          Mountpoint: volumeData(p, v.name),
          CreatedAt: v.created,
          ...labelFields(v.labels),
          Links: "N/A",
          Size: "N/A",
        }));
        const text = renderListing(formatArg(args.format), rows, VOLUME_HEADERS, () =>
          table([["DRIVER", "VOLUME NAME"], ...rows.map((r) => [r.Driver, r.Name])]),
        );
        if (text !== "") print(text);
      },
    } as HullCommand,
    inspect: {
      meta: { name: "inspect", description: "Show volumes as JSON" },
      args: { ...formatFlag, ...rootArg },
      async run({ args }) {
        const names = args._.map(String);
        if (names.length === 0) throw new Error("hull volume inspect needs a volume");
        const show = inspectPrinter(args.format);
        const found: unknown[] = [];
        await eachName(names, (n) => {
          found.push(inspectVolume(paths(args.root), n));
        });
        show(found);
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
