// The header of a sandbox script (`#!/usr/bin/env -S hull script`): lines `# hull: KEY=VALUE ...`
// among the comments at the top, each KEY a `hull run` option without its dashes (image= names the
// image), and an optional second `#!` line naming the interpreter inside the container. It becomes
// a `hull run` command line whose defaults are the safest: no network, no host path but the script
// itself (read-only), removed when done. Relative host paths are the script directory's.
//
// Grammar (docs/scripts.md):
//   header  := line 1 "#!" ... , then lines that are empty or start with "#", up to the first other line
//   option  := "# hull:" WORD*        (WORD: KEY, KEY=VALUE; VALUE may be "quoted" or 'quoted')
//   interp  := "#!" COMMAND [ARG...]  (at most one, after line 1)
import { CONTROL_CHARS } from "../sys/control-chars";
import { isAbsolute, join, resolve } from "../sys/path";
import { parseReference } from "../image/reference";
import { splitWords } from "../store/config";

export class ScriptError extends Error {
  readonly exitCode = 125;
}

/** What `hull run` flags look like to the header: the name and whether it takes a value. */
export type FlagTable = Record<string, { type?: string }>;

export interface ScriptPlan {
  image: string;
  /** `hull run` options, in order (without the image and the command) */
  options: string[];
  /** the command inside, before the script's path: the #! line's, else the image's shell */
  interpreter: string[];
  /** each key given, where ("FILE:LINE") and with what value, in the header's order */
  lineOf: Record<string, { where: string; value: string }[]>;
}

/** Where the script is bound in the container (read-only); its file name is kept. */
export const SCRIPT_DIR = "/run/hull-script";

/** keys a script cannot set: hull decides them, or they make no sense for a script */
const REFUSED: Record<string, string> = {
  detach: "a script runs in the foreground, with its caller's input and output",
  attach: "a script's streams are its caller's",
};

/** keys whose value is a host path (or holds one), resolved against the script's directory */
const PATH_KEYS = new Set(["volume", "mount", "env-file", "label-file", "rootfs", "cidfile"]);

function words(text: string, where: string): string[] {
  return splitWords(text, () => new ScriptError(`${where}: a quote is not closed`));
}

/** A host path of the header: relative to DIR, ~ the caller's home. */
function hostPath(p: string, dir: string): string {
  if (p === "~" || p.startsWith("~/")) return join(process.env.HOME ?? "/", p.slice(1));
  return isAbsolute(p) ? p : resolve(dir, p);
}

/** -v SRC:DST[:OPTS]: SRC a host path when it starts with / . or ~ or has a slash; else a named volume.
 * (The script also runs from its own directory, so what is relative resolves there whatever reads it.) */
function volumeValue(v: string, dir: string): string {
  const [src = "", ...rest] = v.split(":");
  if (rest.length === 0) return v; // an anonymous volume: a container path
  const isPath = src.includes("/") || src.startsWith(".") || src.startsWith("~");
  return isPath ? [hostPath(src, dir), ...rest].join(":") : v;
}

/** --mount ...,source=REL,...: the source resolved, its key read as `hull run` reads it (trimmed) */
function mountValue(v: string, dir: string): string {
  const parts = v.split(",");
  const type = parts.find((p) => p.slice(0, Math.max(0, p.indexOf("="))).trim() === "type")?.split("=")[1];
  if (type !== "bind") return v;
  return parts
    .map((p) => {
      const eq = p.indexOf("=");
      const key = p.slice(0, Math.max(0, eq)).trim();
      return eq > 0 && (key === "source" || key === "src") ? `${key}=${hostPath(p.slice(eq + 1), dir)}` : p;
    })
    .join(",");
}

/**
 * The plan of the script TEXT at FILE (absolute), given run's FLAGS. Errors name the line:
 * `FILE:3: unknown key fo (any hull run option without its dashes, or image=)`.
 */
export function parseScriptHeader(text: string, file: string, dir: string, flags: FlagTable): ScriptPlan {
  const lines = text.split("\n");
  if (!lines[0]?.startsWith("#!"))
    throw new ScriptError(`${file}:1: a hull script starts with #!/usr/bin/env -S hull script`);
  let image: string | undefined;
  const options: string[] = [];
  const given = new Set<string>();
  const lineOf: Record<string, { where: string; value: string }[]> = {};
  let interpreter: string[] | undefined;
  for (let n = 1; n < lines.length; n++) {
    const line = (lines[n] as string).replace(/\r$/, "");
    const where = `${file}:${n + 1}`;
    if (line.trim() === "") continue;
    if (!line.startsWith("#")) break;
    if (line.startsWith("#!")) {
      if (interpreter) throw new ScriptError(`${where}: a second interpreter line (#!): the script has one already`);
      interpreter = words(line.slice(2).trim(), where);
      if (interpreter.length === 0) throw new ScriptError(`${where}: #! names no interpreter`);
      continue;
    }
    // [\s\S]: a \r or a line separator (U+2028) inside must not end the line and hide its options
    const m = /^#\s*hull:([\s\S]*)$/.exec(line);
    if (!m) continue;
    for (const w of words(m[1] as string, where)) {
      const eq = w.indexOf("=");
      const key = eq < 0 ? w : w.slice(0, eq);
      const value = eq < 0 ? undefined : w.slice(eq + 1);
      if (key === "image") {
        if (!value) throw new ScriptError(`${where}: image= needs a name: image=debian:bookworm`);
        if (image !== undefined) throw new ScriptError(`${where}: image= given twice`);
        // an image, never a flag in disguise (image=--network=host)
        try {
          if (value.startsWith("-")) throw new Error("not a name");
          parseReference(value);
        } catch {
          throw new ScriptError(`${where}: image=${value} is not an image name (NAME[:TAG|@DIGEST])`);
        }
        image = value;
        continue;
      }
      if (Object.hasOwn(REFUSED, key))
        throw new ScriptError(`${where}: ${key} cannot be set in a script: ${REFUSED[key]}`);
      const def = Object.hasOwn(flags, key) ? flags[key] : undefined;
      if (!def || key.length < 2)
        throw new ScriptError(
          `${where}: unknown key ${key} (a hull run option without its dashes, as memory=512m, or image=)`,
        );
      given.add(key);
      lineOf[key] = [...(lineOf[key] ?? []), { where, value: value ?? "" }];
      if (def.type === "boolean") {
        if (value !== undefined && value !== "true" && value !== "false")
          throw new ScriptError(`${where}: ${key} takes true or false, not ${value}`);
        options.push(`--${key}=${value ?? "true"}`);
        continue;
      }
      if (value === undefined) throw new ScriptError(`${where}: ${key} needs a value: ${key}=VALUE`);
      let v = value;
      if (PATH_KEYS.has(key))
        v = key === "volume" ? volumeValue(v, dir) : key === "mount" ? mountValue(v, dir) : hostPath(v, dir);
      options.push(`--${key}=${v}`);
    }
  }
  if (image === undefined)
    throw new ScriptError(`${file}: no image: add a line "# hull: image=NAME" after the first (#!) line`);
  // the safest defaults, each only when the header says nothing of it
  const defaults = [...(given.has("network") ? [] : ["--network=none"]), ...(given.has("rm") ? [] : ["--rm=true"])];
  return { image, options: [...defaults, ...options], interpreter: interpreter ?? ["/bin/sh"], lineOf };
}

/** ARGV as one shell line (for --explain): each word quoted when it must be. */
export function shellLine(argv: string[]): string {
  return argv.map(shellWord).join(" ");
}

/** control characters: shown as escapes, never sent to the terminal */
const CONTROL = CONTROL_CHARS;

function shellWord(a: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a)) return a;
  if (!CONTROL.test(a)) return `'${a.replace(/'/g, `'\\''`)}'`;
  // bash's $'...', where \xHH and \uHHHH stand for the characters
  const body = [...a]
    .map((c) => {
      const n = c.codePointAt(0) as number;
      if (c === "'" || c === "\\") return `\\${c}`;
      if (!CONTROL.test(c)) return c;
      return n < 0x100 ? `\\x${n.toString(16).padStart(2, "0")}` : `\\u${n.toString(16).padStart(4, "0")}`;
    })
    .join("");
  return `$'${body}'`;
}
