import { familiarName, parseReference } from "../../image/reference";
import type { HullCommand } from "../command";
import type { ArgsDef } from "citty";
import { all, parseInterspersed } from "../argv";
import { boolFilter, labelsPass, parseFilters, passes } from "../filters";
import { print } from "../output";
import { format, formatJsonOnly, openStore, rootArg, table } from "./image-common";

const command: HullCommand = {
  meta: { name: "images", description: "List images: hull images [OPTIONS] [REPOSITORY[:TAG]]" },
  takes: 1,
  args: {
    quiet: { type: "boolean", alias: "q", description: "Only image ids" },
    all: { type: "boolean", alias: "a", description: "Accepted as docker's: hull keeps no intermediate images" },
    format: { type: "string", description: "json for one JSON object per line" },
    filter: {
      type: "string",
      alias: "f",
      description: "dangling=true|false, reference=PATTERN, label=KEY[=VALUE] (repeatable)",
    },
    ...rootArg,
  },
  async run({ args, rawArgs }) {
    formatJsonOnly(args.format);
    const f = parseFilters(
      all(parseInterspersed(rawArgs, command.args as ArgsDef, "images", true), "filter"),
      ["dangling", "reference", "label"],
      "images",
    );
    // docker images REPOSITORY[:TAG]: a reference filter of its own, ANDed with the others
    const named = args._[0] === undefined ? undefined : String(args._[0]);
    // docker's reference patterns: * and ? within one path segment, against NAME and NAME:TAG
    const glob = (pattern: string) =>
      new RegExp(
        `^${pattern
          .replace(/[.+^${}()|[\]\\]/g, "\\$&")
          .replace(/\*/g, "[^/]*")
          .replace(/\?/g, "[^/]")}$`,
      );
    const store = openStore(args.root);
    const { tags, digests } = store.readableTags();
    const row = (repository: string, tag: string, id: string) => ({
      repository,
      tag,
      id,
      rec: store.readableImage(id),
      config: Bun.file(store.blobPath(id)),
    });
    const tagged = new Set(Object.values(tags));
    let rows = [
      ...Object.entries(tags).map(([ref, id]) => {
        const r = parseReference(ref);
        return row(familiarName(r), r.tag ?? "", id);
      }),
      // images no tag names, as Docker lists them: a build without -t, or one whose tag moved on
      ...store
        .images()
        .filter((rec) => !tagged.has(rec.id))
        .map((rec) => {
          const byDigest = Object.entries(digests).find(([, id]) => id === rec.id)?.[0];
          return row(byDigest ? familiarName(parseReference(byDigest)) : "<none>", "<none>", rec.id);
        }),
    ]
      .filter((r) => r.rec)
      .filter(
        (r) =>
          passes(f, "dangling", (d) => boolFilter(d, "dangling") === (r.tag === "<none>")) &&
          passes(f, "reference", (p) => glob(p).test(r.repository) || glob(p).test(`${r.repository}:${r.tag}`)) &&
          (named === undefined || glob(named).test(r.repository) || glob(named).test(`${r.repository}:${r.tag}`)),
      );
    if (f.has("label")) {
      const labelled = await Promise.all(
        rows.map(async (r) => {
          const config = (await r.config.json()) as { config?: { Labels?: Record<string, string> | null } };
          return labelsPass(f, config.config?.Labels) ? r : undefined;
        }),
      );
      rows = labelled.filter((r) => r !== undefined);
    }
    if (args.quiet) {
      if (rows.length > 0) print([...new Set(rows.map((r) => r.id.slice(7, 19)))].join("\n"));
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
