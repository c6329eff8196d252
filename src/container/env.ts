import { readFileText } from "../sys/libc";

// The container's environment, in Docker's order: defaults, image Env, then -e and --env-file.
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

function parseEntry(entry: string, host: NodeJS.ProcessEnv): [string, string] | undefined {
  const eq = entry.indexOf("=");
  if (eq >= 0) return [entry.slice(0, eq), entry.slice(eq + 1)];
  // "-e NAME" passes the caller's value through, and nothing when the caller has none
  const value = host[entry];
  return value === undefined ? undefined : [entry, value];
}

export function readEnvFile(path: string): string[] {
  let text: string | undefined;
  try {
    text = readFileText(path);
  } catch (e) {
    throw new Error(`cannot read env file ${path}: ${(e as Error).message}`);
  }
  if (text === undefined) throw new Error(`env file ${path} does not exist`);
  // a binary file: say so, never echo it back into the terminal as a variable name
  if (text.includes("\0") || text.includes("\uFFFD"))
    throw new Error(`env file ${path} is not a text file of KEY=VALUE lines`);
  return text
    .split("\n")
    .map((l) => l.replace(/\r$/, ""))
    .filter((l) => l.trim() !== "" && !l.trimStart().startsWith("#"));
}

export function buildEnv(opts: {
  imageEnv: string[];
  hostname: string;
  home: string;
  tty: boolean;
  cli: string[];
  host: NodeJS.ProcessEnv;
}): string[] {
  const env = new Map<string, string>();
  env.set("PATH", DEFAULT_PATH);
  env.set("HOSTNAME", opts.hostname);
  for (const e of opts.imageEnv) {
    const kv = parseEntry(e, {});
    if (kv) env.set(kv[0], kv[1]);
  }
  if (opts.tty) env.set("TERM", "xterm");
  for (const e of opts.cli) {
    const kv = parseEntry(e, opts.host);
    if (kv) env.set(kv[0], kv[1]);
  }
  if (!env.has("HOME")) env.set("HOME", opts.home);
  return [...env].map(([k, v]) => `${k}=${v}`);
}
