// docker's --filter KEY=VALUE for the listing commands: a key hull knows narrows the list, several
// values of one key are ORed and different keys ANDed (docker's rule); a key hull does not know is
// an error, never ignored (an ignored filter turned "remove the dangling images" into "remove all").
import { UsageError } from "./argv";

export type Filters = Map<string, string[]>;

export function parseFilters(given: string[], known: readonly string[], command: string): Filters {
  const out: Filters = new Map();
  for (const f of given) {
    const eq = f.indexOf("=");
    const key = eq < 0 ? f : f.slice(0, eq);
    if (eq <= 0) throw new UsageError(`--filter ${f}: give KEY=VALUE`);
    if (!known.includes(key))
      throw new UsageError(`--filter ${key} is not supported by hull ${command} (it knows ${known.join(", ")})`);
    out.set(key, [...(out.get(key) ?? []), f.slice(eq + 1)]);
  }
  return out;
}

/** Refuse a value of KEY that is none of ALLOWED (docker's: an invalid status is an error, not an empty list). */
export function checkValues(filters: Filters, key: string, allowed: readonly string[]): void {
  for (const v of filters.get(key) ?? [])
    if (!allowed.includes(v)) throw new UsageError(`--filter ${key}=${v}: give one of ${allowed.join(", ")}`);
}

/** Does VALUE pass the filter KEY (any of its values, by TEST)? A key not given passes everything. */
export function passes(filters: Filters, key: string, test: (want: string) => boolean): boolean {
  const wants = filters.get(key);
  return !wants || wants.some(test);
}

/** true/false values, as docker reads them for dangling= */
export function boolFilter(value: string, what: string): boolean {
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  throw new UsageError(`--filter ${what}=${value}: give true or false`);
}

/** docker's label=KEY and label=KEY=VALUE: every one given must match (labels are ANDed, unlike other keys). */
export function labelsPass(filters: Filters, labels: Record<string, string> | null | undefined): boolean {
  return (filters.get("label") ?? []).every((want) => {
    const eq = want.indexOf("=");
    const key = eq < 0 ? want : want.slice(0, eq);
    if (!labels || !Object.hasOwn(labels, key)) return false;
    return eq < 0 || labels[key] === want.slice(eq + 1);
  });
}
