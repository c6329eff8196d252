// podman's `container|image|volume|network exists NAME`: for scripts, an answer in the exit status
// alone (0 there, 1 not there), nothing printed; anything else (a damaged store) is an error, 125.
import type { HullCommand } from "./command";
import { rootArg } from "./commands/image-common";

export function existsCommand(what: string, test: (root: string | undefined, name: string) => boolean): HullCommand {
  return {
    meta: {
      name: "exists",
      description: `Exit 0 if the ${what} exists, 1 if not (podman's): hull ${what} exists NAME`,
    },
    takes: 1,
    args: { name: { type: "positional", description: `The ${what}'s name or id` }, ...rootArg },
    run({ args }) {
      const name = args._[0];
      if (name === undefined) throw new Error(`hull ${what} exists needs a name`);
      if (!test(typeof args.root === "string" ? args.root : undefined, String(name))) process.exitCode = 1;
    },
  };
}
