import { searchRegistry } from "../../image/search";
import type { HullCommand } from "../command";
import { print } from "../output";
import { visible } from "../../sys/control-chars";

const command: HullCommand = {
  meta: { name: "search", description: "Search a registry's catalog: hull search REGISTRY/TERM" },
  args: {
    term: { type: "positional", description: "REGISTRY/TERM, like 127.0.0.1:5000/app" },
    limit: { type: "string", description: "At most this many results (default 25)" },
  },
  async run({ args }) {
    const spec = String(args.term ?? "");
    const slash = spec.indexOf("/");
    if (slash < 0 || !/[.:]|^localhost/.test(spec.slice(0, slash))) {
      throw new Error(
        "hull search takes REGISTRY/TERM (for example 127.0.0.1:5000/app); Docker Hub's search is not supported",
      );
    }
    const limit = Number(args.limit ?? 25);
    if (!Number.isInteger(limit) || limit < 1) throw new Error("--limit takes a positive whole number");
    const domain = spec.slice(0, slash);
    const found = await searchRegistry(domain, spec.slice(slash + 1), limit);
    // the registry's names: their control characters shown, not sent to the terminal (nor a fake row)
    print(["NAME", ...found.map((r) => visible(`${domain}/${r}`))].join("\n"));
  },
};
export default command;
