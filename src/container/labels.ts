// docker's --label KEY=VALUE (or KEY, an empty value), as run, create, volume create and network
// create take them: the last of a key wins.
export function labelMap(list: string[]): Record<string, string> {
  return Object.fromEntries(
    list.map((l) => (l.includes("=") ? [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)] : [l, ""])),
  );
}
