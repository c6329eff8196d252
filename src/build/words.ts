// How the builder reads an instruction's arguments, as Docker's shell lexer does: words split on
// unquoted white space; single quotes keep everything literal; double quotes keep white space and
// still expand variables; the escape character keeps the next character literal. Variables expand
// with the rules of expand() in dockerfile.ts.
import { expand } from "./dockerfile";

/** The variable at TEXT[I] ("$NAME", "${...}"): its value and the index of its last character. */
function variable(text: string, i: number, vars: Map<string, string>, escape: string): [string, number] {
  if (text[i + 1] === "{") {
    let depth = 0;
    for (let j = i + 1; j < text.length; j++) {
      if (text[j] === "{" && text[j - 1] === "$") depth++;
      else if (text[j] === "}" && --depth === 0) return [expand(text.slice(i, j + 1), vars, escape), j];
    }
    throw new Error(`missing } in ${text.slice(i)}`);
  }
  const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1));
  if (!m) return ["$", i];
  return [vars.get(m[0]) ?? "", i + m[0].length];
}

/** TEXT as words, quotes removed and variables expanded (VARS undefined: no expansion). */
export function lex(text: string, vars?: Map<string, string>, escape = "\\"): string[] {
  const words: string[] = [];
  let cur = "";
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = "";
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === escape) {
      if (i + 1 < text.length) cur += text[++i];
      continue;
    }
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unmatched ' in ${text}`);
      cur += text.slice(i + 1, end);
      i = end;
      continue;
    }
    if (c === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) {
        const d = text[i] as string;
        if (d === escape && i + 1 < text.length && ['"', escape, "$"].includes(text[i + 1] as string)) {
          cur += text[++i];
        } else if (d === "$" && vars) {
          const [value, end] = variable(text, i, vars, escape);
          cur += value;
          i = end;
        } else cur += d;
      }
      if (i >= text.length) throw new Error(`unmatched " in ${text}`);
      continue;
    }
    if (c === "$" && vars) {
      const [value, end] = variable(text, i, vars, escape);
      cur += value;
      i = end;
      continue;
    }
    cur += c;
  }
  if (inWord) words.push(cur);
  return words;
}

/**
 * ENV, LABEL and ARG arguments: KEY=VALUE pairs; or, for ENV and LABEL, the old form "KEY VALUE ..."
 * (one pair, the value the rest of the line). ARG allows a KEY with no value.
 */
export function keyValues(
  text: string,
  vars: Map<string, string> | undefined,
  escape: string,
  what: "ENV" | "LABEL" | "ARG",
): Array<[string, string | undefined]> {
  const first = /^\S+/.exec(text)?.[0] ?? "";
  if (what !== "ARG" && !first.includes("=")) {
    const rest = text.slice(first.length).trim();
    if (rest === "") throw new Error(`${what} ${first} needs a value: ${what} ${first}=VALUE`);
    return [[lex(first, vars, escape).join(""), lex(rest, vars, escape).join(" ")]];
  }
  return lex(text, vars, escape).map((word) => {
    const eq = word.indexOf("=");
    if (eq < 0) {
      if (what === "ARG") return [word, undefined];
      throw new Error(`${what} takes KEY=VALUE pairs, not ${word}`);
    }
    if (eq === 0) throw new Error(`${what} ${word}: the name before = is empty`);
    return [word.slice(0, eq), word.slice(eq + 1)];
  });
}
