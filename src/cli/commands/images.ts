import { familiarName, parseReference } from "../../image/reference";
import { ImageStore } from "../../image/store";
import { storePaths, storeRoot } from "../../store/paths";
import type { HullCommand } from "../command";
import { print } from "../output";

function ago(iso: string): string {
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (!Number.isFinite(s)) return "unknown";
  for (const [unit, n] of [
    ["year", 31536000],
    ["month", 2592000],
    ["day", 86400],
    ["hour", 3600],
    ["minute", 60],
  ] as const) {
    const k = Math.floor(s / n);
    if (k >= 1) return `${k} ${unit}${k > 1 ? "s" : ""} ago`;
  }
  return "less than a minute ago";
}

function human(bytes: number): string {
  const units = ["B", "kB", "MB", "GB"];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v < 10 && i > 0 ? v.toFixed(2) : Math.round(v)}${units[i]}`;
}

const command: HullCommand = {
  meta: { name: "images", description: "List images: REPOSITORY TAG IMAGE ID CREATED SIZE" },
  args: {
    quiet: { type: "boolean", alias: "q", description: "Only image ids" },
    format: { type: "string", description: "json for one JSON object per line" },
    root: { type: "string", description: "Store directory" },
  },
  async run({ args }) {
    const store = new ImageStore(storePaths(storeRoot(typeof args.root === "string" ? args.root : undefined)));
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
    const table = [
      ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"],
      ...out.map((r) => [r.repository, r.tag, r.id.slice(7, 19), ago(r.created), human(r.size)]),
    ];
    const widths = table[0]?.map((_, i) => Math.max(...table.map((row) => (row[i] ?? "").length))) ?? [];
    print(
      table
        .map((row) => row.map((c, i) => (i < row.length - 1 ? c.padEnd((widths[i] ?? 0) + 3) : c)).join(""))
        .join("\n"),
    );
  },
};
export default command;
