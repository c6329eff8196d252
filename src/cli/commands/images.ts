import { familiarName, parseReference } from "../../image/reference";
import type { HullCommand } from "../command";
import { print } from "../output";
import { format, openStore, rootArg, table } from "./image-common";

const command: HullCommand = {
  meta: { name: "images", description: "List images: REPOSITORY TAG IMAGE ID CREATED SIZE" },
  args: {
    quiet: { type: "boolean", alias: "q", description: "Only image ids" },
    format: { type: "string", description: "json for one JSON object per line" },
    ...rootArg,
  },
  async run({ args }) {
    const store = openStore(args.root);
    const { tags } = store.tags();
    const rows = Object.entries(tags)
      .map(([ref, id]) => {
        const r = parseReference(ref);
        const rec = store.image(id);
        const config = Bun.file(store.blobPath(id));
        return { repository: familiarName(r), tag: r.tag ?? "", id, rec, config };
      })
      .filter((r) => r.rec);
    if (args.quiet) {
      print([...new Set(rows.map((r) => r.id.slice(7, 19)))].join("\n"));
      return;
    }
    const out = await Promise.all(
      rows.map(async (r) => {
        const created = ((await r.config.json()) as { created?: string }).created ?? r.rec?.created ?? "";
        const size = (r.rec?.layers ?? []).reduce((a, l) => a + l.size, 0);
        return { ...r, created, size };
      }),
    );
    if (args.format === "json") {
      print(
        out
          .map((r) =>
            JSON.stringify({ Repository: r.repository, Tag: r.tag, ID: r.id, CreatedAt: r.created, Size: r.size }),
          )
          .join("\n"),
      );
      return;
    }
    print(
      table([
        ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"],
        ...out.map((r) => [r.repository, r.tag, r.id.slice(7, 19), format.ago(r.created), format.human(r.size)]),
      ]),
    );
  },
};
export default command;
