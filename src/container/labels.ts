// docker's --label KEY=VALUE (or KEY, an empty value), as run, create, volume create and network
// create take them: the last of a key wins.
/** Keys a store record cannot keep: its schema reader drops them (they would name the object's prototype). */
const RESERVED = new Set(["__proto__", "constructor", "prototype"]);

/** A KEY=VALUE entry whose key is one a record cannot keep: refused, not silently lost. */
export function reservedKey(entry: string): boolean {
  return RESERVED.has(entry.includes("=") ? entry.slice(0, entry.indexOf("=")) : entry);
}

export function labelMap(list: string[]): Record<string, string> {
  const bad = list.find(reservedKey);
  if (bad !== undefined) throw new Error(`${bad}: __proto__, constructor and prototype cannot be keys here`);
  return Object.fromEntries(
    list.map((l) => (l.includes("=") ? [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)] : [l, ""])),
  );
}
