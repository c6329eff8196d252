// --format on listings (ps, images, volume ls, network ls, stats), as docker's formatter reads it:
// nothing or "table": the default columns; "json": one JSON object per row; "table TEMPLATE": a
// header, then TEMPLATE per row, in columns (Go's tabwriter as docker sets it: at least 10 wide, 3
// spaces apart); any other TEMPLATE: its text per row. A literal \t or \n in the format is a tab or a
// newline (shells hand docker the two characters).
import { parseTemplate, STRUCT, TemplateError } from "./template";

/** --format's value (given more than once: the last, as docker's flag parser takes it) */
export function formatArg(value: unknown): string | undefined {
  if (Array.isArray(value)) return value.length > 0 ? String(value[value.length - 1]) : undefined;
  return typeof value === "string" ? value : undefined;
}

/** --no-trunc as citty hands it over: it reads --no-X as X=false */
export function noTrunc(args: Record<string, unknown>): boolean {
  return args["no-trunc"] === true || args.trunc === false;
}

/** One row: docker's field names, strings mostly; functions stand for docker's methods (.Label "k"). */
export type Row = Record<string, unknown>;

/** .Label "KEY" and .Labels, from a row's labels */
export function labelFields(labels: Record<string, string> | undefined | null): Row {
  const all = labels ?? {};
  return {
    Labels: Object.entries(all)
      .map(([k, v]) => `${k}=${v}`)
      .join(","),
    Label: (key: string) => (Object.hasOwn(all, key) ? all[key] : "") ?? "",
  };
}

/** Go's tabwriter as docker's formatter makes it (minwidth 10, padding 3, spaces): cells end at tabs. */
export function tabulate(text: string): string {
  const lines = text.split("\n").map((l) => l.split("\t"));
  const widths: number[] = [];
  for (const cells of lines)
    cells.slice(0, -1).forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, [...c].length);
    });
  return lines
    .map((cells) =>
      cells
        .map((c, i) => (i < cells.length - 1 ? c.padEnd(Math.max(10, (widths[i] ?? 0) + 3)) : c))
        .join("")
        .replace(/\s+$/, ""),
    )
    .join("\n");
}

/**
 * The text of ROWS under FORMAT; HEADERS: each field's column title (docker's), DEFAULT: the table
 * the command prints with no format (its own columns).
 */
export function renderListing(
  format: string | undefined,
  rows: Row[],
  headers: Record<string, string>,
  defaultTable: () => string,
): string {
  const f = format?.trim() ?? "";
  if (f === "" || f === "table") return defaultTable();
  if (f === "json")
    return rows.map((r) => JSON.stringify(r, (_k, x) => (typeof x === "function" ? undefined : x))).join("\n");
  const isTable = f.startsWith("table ") || f.startsWith("table\t");
  const text = (isTable ? f.slice(6) : (format ?? "")).replace(/\\t/g, "\t").replace(/\\n/g, "\n");
  const tpl = parseTemplate(isTable ? text.trim() : text);
  // each row is a struct of docker's formatter, as Go sees it: a name it lacks is an error
  const lines = rows.map((r) => run(tpl, { ...r, [STRUCT]: "row" }));
  if (!isTable) return lines.join("\n");
  const header: Row = { ...headers, Label: (_key: string) => "LABEL", [STRUCT]: "row" };
  return tabulate([run(tpl, header), ...lines].join("\n"));
}

function run(tpl: ReturnType<typeof parseTemplate>, data: unknown): string {
  try {
    return tpl.execute(data);
  } catch (e) {
    if (e instanceof TemplateError) throw new TemplateError(`template: ${e.message}`);
    throw e;
  }
}

/** What a listing prints when it has no rows: docker prints the header of a table, nothing else. */
export function printListing(text: string, print: (t: string) => void): void {
  if (text !== "") print(text);
}
