import type { ArgsDef } from "citty";
import { confirmed, filterArg, forceArg, pruneFilter } from "../prune";
import { checkStore } from "../../system/check";
import { storePaths, storeRoot } from "../../store/paths";
import type { HullCommand } from "../command";
import { print } from "../output";
import { rootArg } from "./image-common";

const pruneArgs = {
  all: { type: "boolean", alias: "a", description: "Every image no container uses, not only dangling ones" },
  volumes: { type: "boolean", description: "Anonymous volumes no container uses too" },
  ...forceArg,
  ...filterArg,
  ...rootArg,
} as const satisfies ArgsDef;

export const system: HullCommand = {
  meta: { name: "system", description: "The store as a whole: check, prune" },
  subCommands: {
    prune: {
      meta: {
        name: "prune",
        description:
          "Remove stopped containers, dangling images (-a: unused ones) and the build cache; --volumes: anonymous volumes",
      },
      takes: 0,
      args: pruneArgs,
      async run({ args, rawArgs }) {
        const f = pruneFilter(rawArgs, pruneArgs, "system prune");
        const what = [
          "all stopped containers",
          ...(args.volumes ? ["all anonymous volumes not used by at least one container"] : []),
          args.all ? "all images without at least one container associated to them" : "all dangling images",
          "all build cache",
        ];
        if (!confirmed(Boolean(args.force), `This will remove:\n  - ${what.join("\n  - ")}`)) return;
        const paths = storePaths(storeRoot(typeof args.root === "string" ? args.root : undefined));
        const { pruneContainers } = await import("../../container/manage");
        const { pruneVolumes } = await import("../../container/volumes");
        const { pruneImages, collectGarbage } = await import("../../image/manage");
        const { dropCache } = await import("../../build/cache");
        const { ImageStore } = await import("../../image/store");
        const out = await pruneContainers(paths, (rec) => f.allows(rec.created, rec.labels));
        if (args.volumes) out.push(...(await pruneVolumes(paths, false)));
        const store = new ImageStore(paths);
        out.push(...(await pruneImages(store, Boolean(args.all), (rec) => f.allows(rec.created))));
        const n = await dropCache(store);
        await collectGarbage(store);
        print([...out, `Removed ${n} build cache entr${n === 1 ? "y" : "ies"}`].join("\n"));
      },
    } as HullCommand,
    check: {
      meta: {
        name: "check",
        description:
          "Check every record of the store against what it names (blobs by digest, layers, tags, containers, names); --repair removes what cannot be used",
      },
      takes: 0,
      args: {
        repair: { type: "boolean", description: "Remove or fix what is damaged, and say what was done" },
        ...rootArg,
      },
      async run({ args }) {
        const paths = storePaths(storeRoot(typeof args.root === "string" ? args.root : undefined));
        const problems = await checkStore(paths, args.repair === true);
        for (const p of problems) {
          const action = p.repaired ? `repaired: ${p.repair}` : p.repair ? `--repair: ${p.repair}` : "left as it is";
          print(`${p.kind}: ${p.path}: ${p.what} [${action}]`);
        }
        const left = problems.filter((p) => !p.repaired).length;
        print(
          problems.length === 0
            ? "the store is consistent"
            : `${problems.length} problem(s), ${problems.length - left} repaired, ${left} left`,
        );
        if (left > 0) process.exitCode = 1;
      },
    } as HullCommand,
  },
};
