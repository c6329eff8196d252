import { checkStore } from "../../system/check";
import { storePaths, storeRoot } from "../../store/paths";
import type { HullCommand } from "../command";
import { print } from "../output";
import { rootArg } from "./image-common";

export const system: HullCommand = {
  meta: { name: "system", description: "The store as a whole: check" },
  subCommands: {
    check: {
      meta: {
        name: "check",
        description:
          "Check every record of the store against what it names (blobs by digest, layers, tags, containers, names); --repair removes what cannot be used",
      },
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
    },
  },
};
