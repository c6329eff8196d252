// Docker-style argument parsing for commands that run a program: hull's flags come first, the first
// positional (the image) ends them, and everything after belongs to the container's command, so
// `hull run busybox sh -c 'ls -l'` never mistakes -c or -l for hull flags. Flags given more than once
// (-e, -v) keep every value. The flag table is the command's citty ArgsDef, so help and parsing agree.
import type { ArgsDef } from "citty";
import { dockerOnlyFlag } from "./docker-flags";

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export interface ParsedCommandLine {
  /** flag name (the ArgsDef key) -> every value given, in order; booleans as "true"/"false" */
  values: Map<string, string[]>;
  positionals: string[];
}

/** INTERMIXED: flags may also follow positionals (`hull build . -t app`), as in commands with no command line of their own. */
export function parseInterspersed(raw: string[], def: ArgsDef, command: string, intermixed = false): ParsedCommandLine {
  const positionals: string[] = [];
  const byName = new Map<string, { key: string; type: string }>();
  for (const [key, d] of Object.entries(def)) {
    if (d.type === "positional") continue;
    const entry = { key, type: d.type ?? "string" };
    byName.set(key, entry);
    const aliases = "alias" in d && d.alias ? (Array.isArray(d.alias) ? d.alias : [d.alias]) : [];
    for (const a of aliases) byName.set(a, entry);
  }
  const values = new Map<string, string[]>();
  const add = (key: string, v: string) => {
    const list = values.get(key);
    if (list) list.push(v);
    else values.set(key, [v]);
  };
  const unknown = (flag: string) => {
    const why = dockerOnlyFlag(command, flag);
    return new UsageError(
      why
        ? `${flag} is not supported by hull ${command}: ${why}`
        : `unknown flag: ${flag} (see 'hull ${command} --help')`,
    );
  };
  const needValue = (flag: string) => new UsageError(`flag needs an argument: ${flag}`);

  for (let i = 0; i < raw.length; i++) {
    const tok = raw[i] as string;
    if (tok === "--") return { values, positionals: [...positionals, ...raw.slice(i + 1)] };
    if (tok.startsWith("--")) {
      const eq = tok.indexOf("=");
      const name = tok.slice(2, eq < 0 ? undefined : eq);
      const f = byName.get(name);
      if (!f && name.startsWith("no-") && byName.get(name.slice(3))?.type === "boolean") {
        add((byName.get(name.slice(3)) as { key: string }).key, "false");
        continue;
      }
      if (!f) throw unknown(`--${name}`);
      if (f.type === "boolean") {
        const v = eq < 0 ? "true" : tok.slice(eq + 1);
        if (v !== "true" && v !== "false") throw new UsageError(`--${name} takes true or false, not ${v}`);
        add(f.key, v);
      } else if (eq >= 0) add(f.key, tok.slice(eq + 1));
      else {
        if (i + 1 >= raw.length) throw needValue(`--${name}`);
        add(f.key, raw[++i] as string);
      }
      continue;
    }
    if (tok.startsWith("-") && tok.length > 1) {
      // a cluster of short flags: -it, -e K=V, -eK=V
      for (let j = 1; j < tok.length; j++) {
        const ch = tok[j] as string;
        const f = byName.get(ch);
        if (!f) throw unknown(`-${ch}`);
        if (f.type === "boolean") {
          add(f.key, "true");
          continue;
        }
        const rest = tok.slice(j + 1);
        if (rest) add(f.key, rest.startsWith("=") ? rest.slice(1) : rest);
        else {
          if (i + 1 >= raw.length) throw needValue(`-${ch}`);
          add(f.key, raw[++i] as string);
        }
        break;
      }
      continue;
    }
    if (!intermixed) return { values, positionals: raw.slice(i) };
    positionals.push(tok);
  }
  return { values, positionals };
}

export const last = (p: ParsedCommandLine, key: string): string | undefined => p.values.get(key)?.at(-1);
export const flag = (p: ParsedCommandLine, key: string): boolean => last(p, key) === "true";
export const all = (p: ParsedCommandLine, key: string): string[] => p.values.get(key) ?? [];

/**
 * The `args` a command's run() reads, from hull's own parse P of its words, as citty would hand
 * them: each flag's last value (booleans as booleans) under its key, its camelCase form and its
 * aliases; `_` every positional; each positional of DEF by name, in order. citty's own parser
 * loads node:util and re-derives every name's case forms: ~4 ms of each command's start.
 */
export function commandArgs(p: ParsedCommandLine, def: ArgsDef, command: string): Record<string, unknown> {
  const out: Record<string, unknown> = { _: p.positionals };
  const camel = (k: string) => k.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
  const left = [...p.positionals];
  for (const [key, d] of Object.entries(def)) {
    if (d.type === "positional") {
      const word = left.shift();
      if (word === undefined && d.required !== false)
        throw new UsageError(`hull ${command} needs ${key.toUpperCase()} (see 'hull ${command} --help')`);
      out[key] = word;
      continue;
    }
    const given = p.values.get(key)?.at(-1);
    if (given === undefined) continue;
    const value = d.type === "boolean" ? given === "true" : given;
    out[key] = value;
    out[camel(key)] = value;
    for (const a of "alias" in d && d.alias ? [d.alias].flat() : []) out[a] = value;
  }
  return out;
}
