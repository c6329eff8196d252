import { familiarName, nameCandidates, parseReference } from "../../image/reference";
import { layerBytes } from "../../image/store";
import type { HullCommand } from "../command";
import type { ArgsDef } from "citty";
import { all, parseInterspersed } from "../argv";
import { boolFilter, labelsPass, parseFilters, passes } from "../filters";
import { print } from "../output";
import { format, openStore, rootArg, table } from "./image-common";
import { formatArg, labelFields, renderListing, noTrunc } from "../listing";
import { goTime } from "../go-time";
import { UsageError } from "../argv";

const IMAGE_HEADERS = {
  ID: "IMAGE ID",
  Repository: "REPOSITORY",
  Tag: "TAG",
  Digest: "DIGEST",
  CreatedSince: "CREATED",
  CreatedAt: "CREATED AT",
  Size: "SIZE",
  VirtualSize: "VIRTUAL SIZE",
  SharedSize: "SHARED SIZE",
  UniqueSize: "UNIQUE SIZE",
  Containers: "CONTAINERS",
  Labels: "LABELS",
};

/** The fields of an image's config a listing reads. */
type ImageConfigFields = { created?: string; config?: { Labels?: Record<string, string> | null } };

const command: HullCommand = {
  meta: { name: "images", description: "List images: hull images [OPTIONS] [REPOSITORY[:TAG]]" },
  takes: 1,
  args: {
    quiet: { type: "boolean", alias: "q", description: "Only image ids" },
    all: { type: "boolean", alias: "a", description: "Accepted as docker's: hull keeps no intermediate images" },
    format: { type: "string", description: "table, json, a Go template ({{.Repository}}), or table TEMPLATE" },
    filter: {
      type: "string",
      alias: "f",
      description: "dangling=true|false, reference=PATTERN, label=KEY[=VALUE], before=IMAGE, since=IMAGE (repeatable)",
    },
    "no-trunc": { type: "boolean", description: "Whole image ids (sha256:...)" },
    digests: { type: "boolean", description: "A DIGEST column" },
    ...rootArg,
  },
  async run({ args, rawArgs }) {
    const f = parseFilters(
      all(parseInterspersed(rawArgs, command.args as ArgsDef, "images", true), "filter"),
      ["dangling", "reference", "label", "before", "since"],
      "images",
    );
    // docker images REPOSITORY[:TAG]: a reference filter of its own, ANDed with the others
    const named = args._[0] === undefined ? undefined : String(args._[0]);
    // a short name also under each registry of the config's registries.search, as podman lists it
    const namedPatterns =
      named === undefined
        ? []
        : [...new Set([named, ...nameCandidates(named).map((c) => c.replace(/^docker\.io\/(library\/)?/, ""))])];
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
    // every record once (200 images: a tag's record was read a second time for the untagged ones)
    const records = new Map(store.images().map((rec) => [rec.id, rec]));
    // each image's config once, however many tags and fields need it
    const configs = new Map<string, Promise<ImageConfigFields>>();
    const configOf = (id: string) => {
      let c = configs.get(id);
      if (!c) {
        c = Bun.file(store.blobPath(id)).json() as Promise<ImageConfigFields>;
        configs.set(id, c);
      }
      return c;
    };
    const row = (repository: string, tag: string, id: string) => ({
      repository,
      tag,
      id,
      // by its file too: a record whose id is not its file's name is the store's damage, not a reason to hide a tag
      rec: records.get(id) ?? store.readableImage(id),
    });
    const tagged = new Set(Object.values(tags));
    let rows = [
      ...Object.entries(tags).map(([ref, id]) => {
        const r = parseReference(ref);
        return row(familiarName(r), r.tag ?? "", id);
      }),
      // images no tag names, as Docker lists them: a build without -t, or one whose tag moved on
      ...[...records.values()]
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
          (named === undefined ||
            namedPatterns.some((n) => glob(n).test(r.repository) || glob(n).test(`${r.repository}:${r.tag}`))),
      );
    if (f.has("label")) {
      const labelled = await Promise.all(
        rows.map(async (r) => {
          const config = await configOf(r.id);
          return labelsPass(f, config.config?.Labels) ? r : undefined;
        }),
      );
      rows = labelled.filter((r) => r !== undefined);
    }
    const createdOf = async (r: (typeof rows)[number]) => (await configOf(r.id)).created ?? r.rec?.created ?? "";
    // before=/since=: images created before or after the one named (docker's rule: by creation)
    if (f.has("before") || f.has("since")) {
      const at = async (ref: string) => {
        const hit = rows.find(
          (r) =>
            `${r.repository}:${r.tag}` === ref ||
            r.repository === ref ||
            r.id.slice(7).startsWith(ref.replace(/^sha256:/, "")),
        );
        if (!hit) throw new UsageError(`--filter: no such image: ${ref}`);
        return createdOf(hit);
      };
      const before = await Promise.all((f.get("before") ?? []).map(at));
      const since = await Promise.all((f.get("since") ?? []).map(at));
      const kept = await Promise.all(
        rows.map(async (r) => {
          const c = await createdOf(r);
          return before.every((t) => c < t) && since.every((t) => c > t) ? r : undefined;
        }),
      );
      rows = kept.filter((r) => r !== undefined);
    }
    const trunc = !noTrunc(args);
    const shortId = (id: string) => (trunc ? id.slice(7, 19) : id);
    if (args.quiet) {
      if (rows.length > 0) print([...new Set(rows.map((r) => shortId(r.id)))].join("\n"));
      return;
    }
    const out = await Promise.all(
      rows.map(async (r) => {
        const created = await createdOf(r);
        const size = (r.rec?.layers ?? []).reduce((a, l) => a + layerBytes(l), 0);
        const digest = Object.entries(digests).find(([ref, id]) => id === r.id && ref.includes("@"))?.[0];
        const labels = (await configOf(r.id)).config?.Labels;
        return {
          ID: shortId(r.id),
          Repository: r.repository,
          Tag: r.tag,
          Digest: digest ? digest.slice(digest.indexOf("@") + 1) : "<none>",
          CreatedSince: format.ago(created),
          CreatedAt: goTime(created),
          Size: format.human(size),
          VirtualSize: format.human(size),
          SharedSize: "N/A",
          UniqueSize: "N/A",
          Containers: "N/A",
          ...labelFields(labels),
        };
      }),
    );
    const text = renderListing(formatArg(args.format), out, IMAGE_HEADERS, () =>
      table([
        ["REPOSITORY", "TAG", ...(args.digests ? ["DIGEST"] : []), "IMAGE ID", "CREATED", "SIZE"],
        ...out.map((r) => [r.Repository, r.Tag, ...(args.digests ? [r.Digest] : []), r.ID, r.CreatedSince, r.Size]),
      ]),
    );
    if (text !== "") print(text);
  },
};
export default command;
