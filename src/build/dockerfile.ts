// The Dockerfile reference's syntax: parser directives (escape, syntax), comments, line continuation,
// heredocs (<<EOF, <<-EOF, quoted), --flags, JSON and shell forms, FROM ... AS stages, ARG before
// FROM; and the variable substitution the builder applies ($VAR, ${VAR}, ${VAR:-x}, ${VAR:+x}).
// Errors name the line and column.

export class DockerfileError extends Error {
  // `docker build` exits 1 for a bad Dockerfile, as for a failing step
  readonly exitCode = 1;

  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`Dockerfile:${line}:${column}: ${message}`);
  }
}

export interface Heredoc {
  name: string;
  body: string;
  /** <<-: leading tabs are stripped from the body */
  stripTabs: boolean;
  /** <<"EOF" or <<'EOF': no variable expansion in the body */
  quoted: boolean;
}

export interface Instruction {
  /** upper case: RUN, COPY, ... */
  cmd: string;
  /** --name=value flags before the arguments (the last, for a flag given more than once) */
  flags: Record<string, string>;
  /** every --mount of a RUN, in order */
  mounts: string[];
  /** the arguments after the flags, as written */
  args: string;
  /** the JSON form's strings, when the arguments are one */
  json?: string[];
  heredocs: Heredoc[];
  line: number;
}

export interface Stage {
  /** the image or stage it starts from, as written (variables not yet expanded) */
  from: string;
  name?: string;
  platform?: string;
  instructions: Instruction[];
  line: number;
}

export interface Dockerfile {
  escape: string;
  syntax?: string;
  /** ARG instructions before the first FROM */
  globalArgs: Instruction[];
  stages: Stage[];
}

const KNOWN = new Set([
  "FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME",
  "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL",
]);
const TAKES_FLAGS = new Set(["FROM", "RUN", "ADD", "COPY", "HEALTHCHECK"]);
const JSON_FORM = new Set(["RUN", "CMD", "ENTRYPOINT", "SHELL", "ADD", "COPY", "VOLUME"]);
const HEREDOC = new Set(["RUN", "COPY", "ADD"]);

interface RawLine {
  text: string;
  line: number;
}

/** Leading `# key=value` comments, before anything else, are parser directives. */
function directives(lines: string[]): { escape: string; syntax?: string; first: number } {
  let escape = "\\";
  let syntax: string | undefined;
  let i = 0;
  for (; i < lines.length; i++) {
    const m = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.*?)\s*$/.exec(lines[i] as string);
    if (!m) break;
    const key = (m[1] as string).toLowerCase();
    if (key === "escape") {
      if (m[2] !== "\\" && m[2] !== "`") throw new DockerfileError(`escape must be \\ or \`, not ${m[2]}`, i + 1, 1);
      escape = m[2] as string;
    } else if (key === "syntax") syntax = m[2];
    else break;
  }
  return { escape, syntax, first: i };
}

const HEREDOC_RE = /<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_]*)\2/g;

/** Join continued lines, drop comments and blanks, read heredoc bodies. */
function logicalLines(lines: string[], first: number, escape: string): Array<RawLine & { heredocs: Heredoc[] }> {
  const out: Array<RawLine & { heredocs: Heredoc[] }> = [];
  let i = first;
  while (i < lines.length) {
    const start = i;
    let text = (lines[i] as string).trimStart();
    i++;
    if (text === "" || text.startsWith("#")) continue;
    // a line ending in the escape character goes on; comment lines inside are dropped
    while (text.trimEnd().endsWith(escape) && !text.trimEnd().endsWith(escape + escape)) {
      text = text.trimEnd().slice(0, -1);
      while (i < lines.length && (lines[i] as string).trimStart().startsWith("#")) i++;
      if (i >= lines.length) break;
      text += lines[i];
      i++;
    }
    const heredocs: Heredoc[] = [];
    const word = /^\S+/.exec(text)?.[0]?.toUpperCase() ?? "";
    if (HEREDOC.has(word)) {
      for (const m of text.matchAll(HEREDOC_RE)) {
        const name = m[3] as string;
        const stripTabs = m[1] === "-";
        const body: string[] = [];
        for (;;) {
          if (i >= lines.length) throw new DockerfileError(`heredoc <<${name} is not closed`, start + 1, (m.index ?? 0) + 1);
          const l = lines[i++] as string;
          if ((stripTabs ? l.replace(/^\t+/, "") : l) === name) break;
          body.push(stripTabs ? l.replace(/^\t+/, "") : l);
        }
        heredocs.push({ name, body: `${body.join("\n")}\n`, stripTabs, quoted: m[2] !== "" });
      }
    }
    out.push({ text, line: start + 1, heredocs });
  }
  return out;
}

/** Leading --flag=value words (and --flag alone, as "true"). */
function takeFlags(
  rest: string,
  line: number,
  column: number,
): { flags: Record<string, string>; mounts: string[]; rest: string } {
  const flags: Record<string, string> = {};
  const mounts: string[] = [];
  let s = rest;
  for (;;) {
    const m = /^--([a-zA-Z][a-zA-Z0-9-]*)(?:=("[^"]*"|\S*))?\s*/.exec(s);
    if (!m) break;
    const value = m[2] === undefined ? "true" : (m[2] as string).replace(/^"(.*)"$/, "$1");
    if (value === "" && m[2] !== '""') throw new DockerfileError(`flag --${m[1]} needs a value`, line, column);
    flags[m[1] as string] = value;
    if (m[1] === "mount") mounts.push(value);
    s = s.slice(m[0].length);
  }
  return { flags, mounts, rest: s };
}

function jsonForm(args: string): string[] | undefined {
  if (!args.startsWith("[")) return undefined;
  try {
    const v = JSON.parse(args) as unknown;
    if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v as string[];
  } catch {}
  return undefined;
}

export function parseDockerfile(text: string): Dockerfile {
  const lines = text.replace(/\r\n/g, "\n").split("\n");
  const { escape, syntax, first } = directives(lines);
  const df: Dockerfile = { escape, syntax, globalArgs: [], stages: [] };
  for (const raw of logicalLines(lines, first, escape)) {
    const m = /^(\S+)(\s+|$)/.exec(raw.text);
    const word = (m?.[1] ?? "").toUpperCase();
    if (!KNOWN.has(word)) throw new DockerfileError(`unknown instruction: ${m?.[1] ?? raw.text}`, raw.line, 1);
    const argColumn = (m?.[0].length ?? 0) + 1;
    let rest = raw.text.slice(m?.[0].length ?? 0).trim();
    let flags: Record<string, string> = {};
    let mounts: string[] = [];
    if (TAKES_FLAGS.has(word)) ({ flags, mounts, rest } = takeFlags(rest, raw.line, argColumn));
    const ins: Instruction = {
      cmd: word,
      flags,
      mounts,
      args: rest,
      json: JSON_FORM.has(word) ? jsonForm(rest) : undefined,
      heredocs: raw.heredocs,
      line: raw.line,
    };
    if (word === "FROM") {
      const parts = rest.split(/\s+/).filter(Boolean);
      if (parts.length === 0) throw new DockerfileError("FROM needs an image", raw.line, argColumn);
      if (parts.length !== 1 && !(parts.length === 3 && (parts[1] as string).toUpperCase() === "AS")) {
        throw new DockerfileError("FROM takes IMAGE [AS NAME]", raw.line, argColumn);
      }
      const name = parts[2]?.toLowerCase();
      if (name && df.stages.some((s) => s.name === name)) throw new DockerfileError(`stage name ${name} is used twice`, raw.line, argColumn);
      df.stages.push({ from: parts[0] as string, name, platform: flags.platform, instructions: [], line: raw.line });
      continue;
    }
    const stage = df.stages.at(-1);
    if (!stage) {
      if (word !== "ARG") throw new DockerfileError(`${word} before the first FROM (only ARG may come first)`, raw.line, 1);
      df.globalArgs.push(ins);
      continue;
    }
    if (rest === "" && ins.heredocs.length === 0 && word !== "HEALTHCHECK") {
      throw new DockerfileError(`${word} needs arguments`, raw.line, argColumn);
    }
    stage.instructions.push(ins);
  }
  if (df.stages.length === 0) throw new DockerfileError("no FROM: a Dockerfile starts with FROM (ARG may come before)", lines.length, 1);
  return df;
}

/**
 * The builder's variable substitution: $VAR, ${VAR}, ${VAR:-word} (word when unset or empty),
 * ${VAR:+word} (word when set and not empty), ${VAR-word}/${VAR+word} (set at all); ESCAPE before $
 * keeps a literal $. Unset variables expand to nothing.
 */
export function expand(word: string, vars: Map<string, string>, escape = "\\"): string {
  let out = "";
  for (let i = 0; i < word.length; i++) {
    const c = word[i] as string;
    if (c === escape && word[i + 1] === "$") {
      out += "$";
      i++;
      continue;
    }
    if (c !== "$") {
      out += c;
      continue;
    }
    if (word[i + 1] === "{") {
      // the matching brace: a default may hold another ${...}
      let close = -1;
      for (let j = i + 2, depth = 1; j < word.length; j++) {
        if (word[j] === "{" && word[j - 1] === "$") depth++;
        else if (word[j] === "}" && --depth === 0) {
          close = j;
          break;
        }
      }
      if (close < 0) throw new Error(`missing } in ${word}`);
      const body = word.slice(i + 2, close);
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-+])(.*))?$/s.exec(body);
      if (!m) throw new Error(`bad substitution \${${body}}`);
      const [, name, colon, op, alt] = m as unknown as [string, string, string, string | undefined, string];
      const value = vars.get(name);
      const set = colon ? value !== undefined && value !== "" : value !== undefined;
      if (op === "-") out += set ? (value as string) : expand(alt, vars, escape);
      else if (op === "+") out += set ? expand(alt, vars, escape) : "";
      else out += value ?? "";
      i = close;
      continue;
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(word.slice(i + 1));
    if (!m) {
      out += "$";
      continue;
    }
    out += vars.get(m[0]) ?? "";
    i += m[0].length;
  }
  return out;
}
