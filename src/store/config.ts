// The user's config file, $XDG_CONFIG_HOME/hull/config.toml (HULL_CONFIG names another): defaults
// that flags and environment variables still override. Every key is checked by the schema: a typo is
// an error that names the file and the key, never a setting silently ignored.
//
//   [storage]
//   root = "~/containers"                 # after --root and HULL_ROOT
//   [registries]
//   insecure = ["registry.lan:5000"]      # plain http (with HULL_INSECURE_REGISTRIES)
//   search = ["registry.lan:5000", "docker.io"]   # where a short name (busybox) is looked for
//   [run]
//   network = "none"                      # --network when none is given
//   pull = "never"                        # --pull when none is given
//   ulimits = ["nofile=1024:2048"]        # --ulimit, before the command line's
//   [aliases]
//   ll = "ps -a --format 'table {{.Names}}\t{{.Status}}'"
import { homeDir } from "../sys/home";
import { join } from "../sys/path";
import * as v from "valibot";
import { lazily } from "../sys/lazy-schema";
import { readFileText } from "../sys/libc";

const ConfigSchema = lazily(() =>
  v.strictObject({
    storage: v.optional(v.strictObject({ root: v.optional(v.pipe(v.string(), v.minLength(1))) })),
    registries: v.optional(
      v.strictObject({
        insecure: v.optional(v.array(v.string())),
        search: v.optional(
          v.pipe(
            v.array(
              v.pipe(
                v.string(),
                v.regex(
                  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::\d{1,5})?$/,
                  "a registry is host[:port]",
                ),
                // docker's rule for the first part of a name: a host has a dot or a port, or is
                // localhost; "registry" alone would read as docker.io/registry/NAME
                v.check(
                  (r) => r.includes(".") || r.includes(":") || r === "localhost",
                  "a registry is host[:port] with a dot or a port (registry.lan, registry:5000), or localhost",
                ),
              ),
            ),
            v.minLength(1, "give at least one registry (docker.io is docker's)"),
          ),
        ),
      }),
    ),
    run: v.optional(
      v.strictObject({
        network: v.optional(v.pipe(v.string(), v.minLength(1))),
        pull: v.optional(v.picklist(["missing", "always", "never"], "takes missing, always or never")),
        ulimits: v.optional(v.array(v.string())),
      }),
    ),
    aliases: v.optional(v.record(v.pipe(v.string(), v.regex(/^[a-z][a-z0-9-]*$/, "an alias is a word")), v.string())),
  }),
);
export type Config = v.InferOutput<typeof ConfigSchema>;

export function configPath(): string {
  if (process.env.HULL_CONFIG) return process.env.HULL_CONFIG;
  return join(process.env.XDG_CONFIG_HOME || join(homeDir(), ".config"), "hull", "config.toml");
}

let cached: { config: Config; path: string; found: boolean } | undefined;

/** The config (empty when there is no file); a file that does not parse, or a key it does not know, throws. */
export function loadConfig(): { config: Config; path: string; found: boolean } {
  if (cached) return cached;
  const path = configPath();
  const text = readFileText(path);
  if (text === undefined) {
    cached = { config: {}, path, found: false };
    return cached;
  }
  let data: unknown;
  try {
    data = Bun.TOML.parse(text);
  } catch (e) {
    throw new Error(`${path}: not TOML (${(e as Error).message}): fix it, or move it away`);
  }
  // a list where a table belongs passes an object schema (a list is an object): named here, or
  // `run = [1]` read as "unknown key run.0" and `aliases = []` as no aliases
  for (const table of ["storage", "registries", "run", "aliases"])
    if (Array.isArray((data as Record<string, unknown>)[table]))
      throw new Error(`${path}: ${table} must be ${tableKind(table)} (docs/config.md lists the keys)`);
  const r = v.safeParse(ConfigSchema, data);
  if (!r.success) {
    const issue = r.issues[0];
    const key = issue?.path?.map((p) => String(p.key)).join(".") ?? "";
    throw new Error(`${path}: ${configProblem(issue, key)} (docs/config.md lists the keys)`);
  }
  cached = { config: r.output, path, found: true };
  return cached;
}

/** What is wrong with KEY, in words: a strict object reports an unknown key and a wrong kind alike. */
function configProblem(issue: v.BaseIssue<unknown> | undefined, key: string): string {
  if (!issue) return `${key}: invalid`;
  // an unknown key is an issue of the object around it, expecting nothing there
  if (issue.expected === "never") return `unknown key ${key}`;
  const kind = issue.kind === "schema" && issue.expected ? KINDS[issue.expected] : undefined;
  return kind ? `${key} must be ${kind(key)}` : `${key}: ${issue.message}`;
}

const tableKind = (key: string) => `a table ([${key}] with its keys under it)`;

/** A value's kind in TOML's words, by valibot's name for what it expected at KEY */
const KINDS: Record<string, (key: string) => string> = {
  Object: tableKind,
  Array: () => "a list ([...])",
  string: () => "a string",
};

/**
 * Words as a shell splits them (an alias, a script's header line): spaces between words, '...' and
 * "..." keep them in one; an unclosed quote throws UNCLOSED().
 */
export function splitWords(
  text: string,
  unclosed: () => Error = () => new Error(`an alias has an unclosed quote: ${text}`),
): string[] {
  const out: string[] = [];
  let cur = "";
  let quote = "";
  let has = false;
  for (const c of text) {
    if (quote) {
      if (c === quote) quote = "";
      else cur += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      has = true;
    } else if (/\s/.test(c)) {
      if (has || cur) out.push(cur);
      cur = "";
      has = false;
    } else cur += c;
  }
  if (quote) throw unclosed();
  if (has || cur) out.push(cur);
  return out;
}

/** ~/x as the user's home */
export function expandHome(p: string): string {
  return p === "~" || p.startsWith("~/") ? join(homeDir(), p.slice(1)) : p;
}
