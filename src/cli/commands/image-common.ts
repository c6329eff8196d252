import { ImageStore } from "../../image/store";
import { storePaths, storeRoot } from "../../store/paths";

export const rootArg = { root: { type: "string", description: "Store directory" } } as const;

export function openStore(root: unknown): ImageStore {
  return new ImageStore(storePaths(storeRoot(typeof root === "string" ? root : undefined)));
}

function ago(iso: string): string {
  const s = (Date.now() - Date.parse(iso)) / 1000;
  if (!Number.isFinite(s)) return "N/A";
  for (const [unit, n] of [
    ["year", 31536000],
    ["month", 2592000],
    ["day", 86400],
    ["hour", 3600],
    ["minute", 60],
  ] as const) {
    const k = Math.floor(Math.max(0, s) / n);
    if (k >= 1) return `${k} ${unit}${k > 1 ? "s" : ""} ago`;
  }
  const secs = Math.floor(Math.max(0, s));
  return secs < 1 ? "Less than a second ago" : `${secs} second${secs > 1 ? "s" : ""} ago`;
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

/** Columns padded like docker's tables. */
export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows.map((r) => r.map((c, i) => (i < r.length - 1 ? c.padEnd((widths[i] ?? 0) + 3) : c)).join("")).join("\n");
}

export const format = { ago, human };
