// Go's text/template, as docker's --format uses it: `{{.State.Running}}`, `{{range .Mounts}}`,
// `{{json .Config}}`, `{{.Label "k"}}`. Scripts written for docker pass these templates verbatim, so
// the semantics are Go's: a pipeline's value goes in as the next command's last argument, a missing
// map key prints "<no value>", empty values are false, maps range in key order, `{{-` and `-}}` trim
// the spaces beside them. Data is what JSON gives (objects, arrays, strings, numbers, booleans,
// null), plus functions standing for docker's methods (`.Label`), called with the command's words.

export class TemplateError extends Error {}

type Fn = (...args: any[]) => unknown;

/** A value that prints as Go's %v of a missing map key */
const NO_VALUE = undefined;

// ---- lexing -------------------------------------------------------------------------------------

type Tok =
  | { t: "field"; names: string[] } // .A.B (names empty: ".")
  | { t: "var"; name: string; names: string[] } // $x.A
  | { t: "ident"; v: string }
  | { t: "str"; v: string }
  | { t: "num"; v: number }
  | { t: "bool"; v: boolean }
  | { t: "nil" }
  | { t: "(" }
  | { t: ")" }
  | { t: "|" }
  | { t: ":=" }
  | { t: "=" }
  | { t: "," }
  | { t: "chain"; names: string[] }; // .A.B right after ")"

function unquote(body: string, at: number): string {
  let out = "";
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string;
    if (c !== "\\") {
      out += c;
      continue;
    }
    const e = body[++i];
    const simple: Record<string, string> = {
      n: "\n",
      t: "\t",
      r: "\r",
      '"': '"',
      "\\": "\\",
      "'": "'",
      a: "\x07",
      b: "\b",
      f: "\f",
      v: "\v",
    };
    if (e !== undefined && simple[e] !== undefined) out += simple[e];
    else if (e === "x" || e === "u" || e === "U") {
      const n = e === "x" ? 2 : e === "u" ? 4 : 8;
      const hex = body.slice(i + 1, i + 1 + n);
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== n) throw new TemplateError(`bad escape in string at ${at}`);
      out += String.fromCodePoint(Number.parseInt(hex, 16));
      i += n;
    } else throw new TemplateError(`unknown escape \\${e ?? ""} in string at ${at}`);
  }
  return out;
}

function lexAction(src: string, at: number): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  const fieldNames = (): string[] => {
    const names: string[] = [];
    while (src[i] === ".") {
      const m = /^\.([A-Za-z_][A-Za-z0-9_]*)/.exec(src.slice(i));
      if (!m) break;
      names.push(m[1] as string);
      i += m[0].length;
    }
    return names;
  };
  while (i < src.length) {
    const c = src[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "(" || c === ")" || c === "|" || c === ",") {
      toks.push({ t: c });
      i++;
      if (c === ")" && src[i] === ".") toks.push({ t: "chain", names: fieldNames() });
      continue;
    }
    if (src.startsWith(":=", i)) {
      toks.push({ t: ":=" });
      i += 2;
      continue;
    }
    if (c === "=") {
      toks.push({ t: "=" });
      i++;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"') j += src[j] === "\\" ? 2 : 1;
      if (j >= src.length) throw new TemplateError(`unterminated quoted string at ${at}`);
      toks.push({ t: "str", v: unquote(src.slice(i + 1, j), at) });
      i = j + 1;
      continue;
    }
    if (c === "`") {
      const j = src.indexOf("`", i + 1);
      if (j < 0) throw new TemplateError(`unterminated raw quoted string at ${at}`);
      toks.push({ t: "str", v: src.slice(i + 1, j) });
      i = j + 1;
      continue;
    }
    if (c === "'") {
      const m = /^'(\\.|[^'\\])'/.exec(src.slice(i));
      if (!m) throw new TemplateError(`bad character constant at ${at}`);
      toks.push({ t: "num", v: unquote((m[1] as string) === "\\'" ? "'" : (m[1] as string), at).codePointAt(0) ?? 0 });
      i += m[0].length;
      continue;
    }
    if (c === ".") {
      if (!/[A-Za-z_]/.test(src[i + 1] ?? "")) {
        toks.push({ t: "field", names: [] });
        i++;
        continue;
      }
      toks.push({ t: "field", names: fieldNames() });
      continue;
    }
    if (c === "$") {
      const m = /^\$[A-Za-z0-9_]*/.exec(src.slice(i)) as RegExpExecArray;
      i += m[0].length;
      toks.push({ t: "var", name: m[0], names: fieldNames() });
      continue;
    }
    const num = /^[-+]?(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|(\d[\d_]*)?\.?\d[\d_]*([eE][-+]?\d+)?)/.exec(
      src.slice(i),
    );
    if (num && /[\d.]/.test(c + (src[i + 1] ?? ""))) {
      const text = num[0].replace(/_/g, "");
      const v = /^[-+]?0[xXbBoO]/.test(text)
        ? (text.startsWith("-") ? -1 : 1) * Number(text.replace(/^[-+]/, "").replace(/^0[oO]/, "0o"))
        : Number(text);
      if (Number.isNaN(v)) throw new TemplateError(`bad number syntax: ${num[0]}`);
      toks.push({ t: "num", v });
      i += num[0].length;
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
    if (id) {
      const w = id[0];
      if (w === "true" || w === "false") toks.push({ t: "bool", v: w === "true" });
      else if (w === "nil") toks.push({ t: "nil" });
      else toks.push({ t: "ident", v: w });
      i += w.length;
      continue;
    }
    throw new TemplateError(`unexpected "${c}" in command`);
  }
  return toks;
}

// ---- parsing ------------------------------------------------------------------------------------

type Arg =
  | { k: "field"; names: string[] }
  | { k: "var"; name: string; names: string[] }
  | { k: "ident"; name: string }
  | { k: "lit"; v: unknown }
  | { k: "pipe"; pipe: Pipe; names: string[] };
type Cmd = Arg[];
interface Pipe {
  decl: string[];
  assign: boolean;
  cmds: Cmd[];
}
type Node =
  | { n: "text"; v: string }
  | { n: "out"; pipe: Pipe }
  | { n: "if" | "with"; pipe: Pipe; body: Node[]; else: Node[] }
  | { n: "range"; pipe: Pipe; body: Node[]; else: Node[] }
  | { n: "break" | "continue" };

interface Action {
  toks: Tok[];
  at: number;
}
type Piece = { text: string } | Action;

function split(src: string): Piece[] {
  const pieces: Piece[] = [];
  let i = 0;
  let trimNext = false;
  while (i < src.length) {
    const open = src.indexOf("{{", i);
    let text = src.slice(i, open < 0 ? src.length : open);
    if (trimNext) text = text.replace(/^\s+/, "");
    trimNext = false;
    if (open < 0) {
      if (text) pieces.push({ text });
      break;
    }
    let start = open + 2;
    if (/^-[ \t\r\n]/.test(src.slice(start))) {
      text = text.replace(/\s+$/, "");
      start += 1;
    }
    if (text) pieces.push({ text });
    // a comment: {{/* ... */}}
    const body = src.slice(start);
    if (/^\s*\/\*/.test(body)) {
      const end = src.indexOf("*/", start);
      if (end < 0) throw new TemplateError("unclosed comment");
      const close = /^\s*(-?)}}/.exec(src.slice(end + 2));
      if (!close) throw new TemplateError("comment ends before closing delimiter");
      trimNext = close[1] === "-";
      i = end + 2 + close[0].length;
      continue;
    }
    // the action's end: the first }} outside a quoted string
    let j = start;
    let quote = "";
    for (; j < src.length; j++) {
      const c = src[j];
      if (quote) {
        if (c === "\\" && quote === '"') j++;
        else if (c === quote) quote = "";
      } else if (c === '"' || c === "`") quote = c;
      else if (src.startsWith("}}", j)) break;
    }
    if (j >= src.length) throw new TemplateError(`unclosed action at ${open}`);
    let inner = src.slice(start, j);
    if (/[ \t\r\n]-$/.test(inner)) {
      inner = inner.slice(0, -1);
      trimNext = true;
    }
    pieces.push({ toks: lexAction(inner, open), at: open });
    i = j + 2;
  }
  return pieces;
}

class Parser {
  private pos = 0;
  constructor(private pieces: Piece[]) {}

  parse(): Node[] {
    const { nodes, end } = this.list();
    if (end) throw new TemplateError(`unexpected {{${end}}}`);
    return nodes;
  }

  /** nodes up to an {{else...}} or {{end}} (which is returned, consumed) or the end */
  private list(): { nodes: Node[]; end?: "else" | "end"; rest?: Tok[] } {
    const nodes: Node[] = [];
    while (this.pos < this.pieces.length) {
      const p = this.pieces[this.pos++] as Piece;
      if ("text" in p) {
        nodes.push({ n: "text", v: p.text });
        continue;
      }
      const first = p.toks[0];
      const word = first?.t === "ident" ? first.v : undefined;
      if (word === "end") return { nodes, end: "end" };
      if (word === "else") return { nodes, end: "else", rest: p.toks.slice(1) };
      if (word === "if" || word === "with" || word === "range") {
        nodes.push(this.control(word, p.toks.slice(1)));
        continue;
      }
      if (word === "break" || word === "continue") {
        nodes.push({ n: word });
        continue;
      }
      if (word === "define" || word === "template" || word === "block")
        throw new TemplateError(`{{${word}}} is not supported in --format`);
      if (p.toks.length === 0) throw new TemplateError("missing value for command");
      nodes.push({ n: "out", pipe: pipeline(p.toks) });
    }
    return { nodes };
  }

  private control(kind: "if" | "with" | "range", toks: Tok[]): Node {
    const pipe = pipeline(toks);
    const { nodes: body, end, rest } = this.list();
    if (!end) throw new TemplateError(`unexpected EOF: {{${kind}}} has no {{end}}`);
    let elseNodes: Node[] = [];
    if (end === "else") {
      const next = rest?.[0];
      if (next?.t === "ident" && (next.v === "if" || next.v === "with") && kind !== "range") {
        // {{else if ...}}: an if inside the else, sharing its {{end}}
        elseNodes = [this.control(next.v, (rest as Tok[]).slice(1))];
      } else {
        if (rest && rest.length > 0) throw new TemplateError("unexpected words after {{else}}");
        const tail = this.list();
        if (tail.end !== "end") throw new TemplateError(`{{${kind}}}'s {{else}} has no {{end}}`);
        elseNodes = tail.nodes;
      }
    }
    return { n: kind, pipe, body, else: elseNodes };
  }
}

const FUNCS_NAMES = new Set<string>();
/** the functions of the template being parsed: a name that is none of them is a parse error, as in Go */
let parsingFuncs: Record<string, Fn> = {};

function pipeline(toks: Tok[]): Pipe {
  let i = 0;
  const decl: string[] = [];
  let assign = false;
  // $x := or $i, $e :=
  const declEnd = toks.findIndex((t) => t.t === ":=" || t.t === "=");
  if (declEnd > 0 && toks.slice(0, declEnd).every((t) => t.t === "var" || t.t === ",")) {
    for (const t of toks.slice(0, declEnd)) if (t.t === "var") decl.push(t.name);
    assign = (toks[declEnd] as Tok).t === "=";
    i = declEnd + 1;
  }
  const cmds: Cmd[] = [];
  let cmd: Cmd = [];
  const operand = (): Arg => {
    const t = toks[i++] as Tok;
    switch (t.t) {
      case "field":
        return { k: "field", names: t.names };
      case "var":
        return { k: "var", name: t.name, names: t.names };
      case "ident":
        if (!FUNCS_NAMES.has(t.v) && !Object.hasOwn(parsingFuncs, t.v))
          throw new TemplateError(`function "${t.v}" not defined`);
        return { k: "ident", name: t.v };
      case "str":
      case "num":
      case "bool":
        return { k: "lit", v: t.v };
      case "nil":
        return { k: "lit", v: null };
      case "(": {
        let depth = 1;
        const start = i;
        while (i < toks.length && depth > 0) {
          const x = toks[i++] as Tok;
          if (x.t === "(") depth++;
          if (x.t === ")") depth--;
        }
        if (depth > 0) throw new TemplateError("unclosed left paren");
        const inner = pipeline(toks.slice(start, i - 1));
        const chain = toks[i]?.t === "chain" ? (toks[i++] as { names: string[] }).names : [];
        return { k: "pipe", pipe: inner, names: chain };
      }
      default:
        throw new TemplateError(`unexpected "${t.t}" in operand`);
    }
  };
  while (i < toks.length) {
    const t = toks[i] as Tok;
    if (t.t === "|") {
      if (cmd.length === 0) throw new TemplateError("missing command before |");
      cmds.push(cmd);
      cmd = [];
      i++;
      continue;
    }
    cmd.push(operand());
  }
  if (cmd.length === 0)
    throw new TemplateError(cmds.length > 0 ? "missing command after |" : "missing value for command");
  cmds.push(cmd);
  return { decl, assign, cmds };
}

// ---- values -------------------------------------------------------------------------------------

/** Go's truth: false, 0, nil, and empty strings, arrays and maps are false. */
export function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === "") return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === "object") return Object.keys(v).length > 0;
  return true;
}

/** Go's %v of V. */
export function show(v: unknown): string {
  if (v === undefined) return "<no value>";
  if (v === null) return "<nil>";
  if (typeof v === "string") return v;
  if (typeof v === "number") return goNumber(v);
  if (typeof v === "boolean" || typeof v === "bigint") return String(v);
  if (typeof v === "function") return "<func>";
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? "<nil>" : show(x))).join(" ")}]`;
  const o = v as Record<string, unknown>;
  return `map[${Object.keys(o)
    .filter((k) => typeof o[k] !== "function")
    .sort()
    .map((k) => `${k}:${o[k] === undefined ? "<nil>" : show(o[k])}`)
    .join(" ")}]`;
}

function goNumber(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return String(n);
  if (!Number.isFinite(n)) return n > 0 ? "+Inf" : n < 0 ? "-Inf" : "NaN";
  // %v of a float64: the shortest form, exponent with at least two digits
  const s = String(n);
  return s.replace(/e([+-])(\d)$/, "e$10$2");
}

const utf8Length = (s: string) => new TextEncoder().encode(s).length;

// ---- printf -------------------------------------------------------------------------------------

/** Go's fmt.Sprintf for the verbs templates use: %v %s %d %q %t %x %X %o %b %f %e %g %c %%. */
export function sprintf(fmt: string, args: unknown[]): string {
  let out = "";
  let argi = 0;
  const re = /%([-+# 0]*)(\d+|\*)?(?:\.(\d+|\*)?)?([a-zA-Z%])/g;
  let last = 0;
  for (let m = re.exec(fmt); m; m = re.exec(fmt)) {
    out += fmt.slice(last, m.index);
    last = re.lastIndex;
    const [, flags = "", w, p, verb] = m as unknown as [string, string, string | undefined, string | undefined, string];
    if (verb === "%") {
      out += "%";
      continue;
    }
    const width = w === "*" ? count(args[argi++], "printf") : w ? count(w, "printf") : undefined;
    const prec =
      p === "*"
        ? count(args[argi++], "printf")
        : p !== undefined
          ? count(p, "printf")
          : m[0].includes(".")
            ? 0
            : undefined;
    if (argi >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const a = args[argi++];
    let s: string;
    const num = typeof a === "number" ? a : typeof a === "boolean" ? Number.NaN : Number(a);
    switch (verb) {
      case "v":
        s = flags.includes("#") && typeof a === "string" ? JSON.stringify(a) : show(a);
        break;
      case "s":
        s = show(a);
        if (prec !== undefined) s = [...s].slice(0, prec).join("");
        break;
      case "q":
        s =
          typeof a === "number"
            ? JSON.stringify(String.fromCodePoint(a)).replace(/^"|"$/g, "'")
            : JSON.stringify(show(a));
        break;
      case "t":
        s = typeof a === "boolean" ? String(a) : `%!t(${typeof a}=${show(a)})`;
        break;
      case "d":
        s = typeof a === "number" && Number.isInteger(a) ? String(a) : `%!d(${typeof a}=${show(a)})`;
        if (flags.includes("+") && typeof a === "number" && a >= 0) s = `+${s}`;
        break;
      case "x":
      case "X":
      case "o":
      case "b": {
        const base = { x: 16, X: 16, o: 8, b: 2 }[verb];
        s =
          typeof a === "string"
            ? [...new TextEncoder().encode(a)].map((b) => b.toString(16).padStart(2, "0")).join("")
            : Number.isInteger(num)
              ? num.toString(base)
              : `%!${verb}(${typeof a}=${show(a)})`;
        if (verb === "X") s = s.toUpperCase();
        if (flags.includes("#") && verb !== "b") s = (verb === "o" ? "0" : verb === "x" ? "0x" : "0X") + s;
        break;
      }
      case "f":
      case "F":
        s = Number.isNaN(num) ? `%!f(${typeof a}=${show(a)})` : num.toFixed(Math.min(prec ?? 6, 100));
        if (flags.includes("+") && num >= 0) s = `+${s}`;
        break;
      case "e":
      case "E":
        s = Number.isNaN(num)
          ? `%!e(${typeof a}=${show(a)})`
          : num.toExponential(Math.min(prec ?? 6, 100)).replace(/e([+-])(\d)$/, "e$10$2");
        if (verb === "E") s = s.toUpperCase();
        break;
      case "g":
      case "G":
        s = Number.isNaN(num)
          ? `%!g(${typeof a}=${show(a)})`
          : prec !== undefined
            ? String(Number(num.toPrecision(Math.min(Math.max(prec, 1), 100))))
            : goNumber(num);
        break;
      case "c":
        s = typeof a === "number" ? String.fromCodePoint(a) : `%!c(${typeof a}=${show(a)})`;
        break;
      default:
        s = `%!${verb}(${typeof a}=${show(a)})`;
    }
    if (width !== undefined && [...s].length < width) {
      const pad = width - [...s].length;
      if (flags.includes("-")) s = s + " ".repeat(pad);
      else if (flags.includes("0") && "dfFeEgGxXob".includes(verb)) {
        const sign = /^[-+]/.test(s) ? (s[0] as string) : "";
        s = sign + "0".repeat(pad) + s.slice(sign.length);
      } else s = " ".repeat(pad) + s;
    }
    out += s;
  }
  out += fmt.slice(last);
  if (argi < args.length)
    out += `%!(EXTRA ${args
      .slice(argi)
      .map((a) => `${typeof a}=${show(a)}`)
      .join(", ")})`;
  return out;
}

/** Go's fmt.Sprint: a space between two operands when neither is a string. */
function sprint(args: unknown[]): string {
  let out = "";
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== "string" && typeof args[i - 1] !== "string") out += " ";
    out += show(a);
  });
  return out;
}

// ---- functions ----------------------------------------------------------------------------------

function compare(a: unknown, b: unknown, name: string): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  throw new TemplateError(`error calling ${name}: incompatible types for comparison`);
}

function basicEqual(a: unknown, b: unknown): boolean {
  if (a === undefined) a = null;
  if (b === undefined) b = null;
  if (typeof a === "object" && a !== null) throw new TemplateError("error calling eq: non-comparable type");
  if (typeof b === "object" && b !== null) throw new TemplateError("error calling eq: non-comparable type");
  if (a !== null && b !== null && typeof a !== typeof b)
    throw new TemplateError("error calling eq: incompatible types for comparison");
  return a === b;
}

function indexInto(v: unknown, keys: unknown[]): unknown {
  let cur = v;
  for (const k of keys) {
    if (cur === null || cur === undefined) throw new TemplateError("error calling index: index of untyped nil");
    if (Array.isArray(cur) || typeof cur === "string") {
      if (typeof k !== "number" || !Number.isInteger(k))
        throw new TemplateError("error calling index: cannot index slice/array with non-integer");
      if (k < 0 || k >= cur.length) throw new TemplateError(`error calling index: index out of range: ${k}`);
      cur = typeof cur === "string" ? new TextEncoder().encode(cur)[k] : cur[k];
    } else if (typeof cur === "object") {
      cur = Object.hasOwn(cur, String(k)) ? (cur as Record<string, unknown>)[String(k)] : undefined;
      if (typeof cur === "function") cur = undefined;
    } else throw new TemplateError(`error calling index: can't index item of type ${typeof cur}`);
  }
  return cur;
}

const strArg = (v: unknown, fn: string): string => {
  if (typeof v !== "string")
    throw new TemplateError(`error calling ${fn}: wrong type for value; expected string; got ${show(v)}`);
  return v;
};

/** A width, a padding or a precision: a whole number from 0 to 10000 (a bigger one is a mistake, not a wish) */
function count(v: unknown, fn: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 10000)
    throw new TemplateError(`error calling ${fn}: ${show(v)} is not a count from 0 to 10000`);
  return n;
}

/** Go's builtins and docker's own (github.com/docker/cli/templates). */
const BUILTINS: Record<string, Fn> = {
  // and/or are evaluated lazily by the executor; these are for completeness
  not: (v: unknown) => !truthy(v),
  len: (v: unknown) => {
    if (typeof v === "string") return utf8Length(v);
    if (Array.isArray(v)) return v.length;
    if (v && typeof v === "object") return Object.keys(v).length;
    throw new TemplateError(`error calling len: len of type ${v === null || v === undefined ? "<nil>" : typeof v}`);
  },
  index: (v: unknown, ...keys: unknown[]) => indexInto(v, keys),
  slice: (v: unknown, ...idx: unknown[]) => {
    if (typeof v !== "string" && !Array.isArray(v)) throw new TemplateError("error calling slice: can't slice item");
    const [from = 0, to = v.length] = idx as number[];
    if (!Number.isInteger(from) || !Number.isInteger(to))
      throw new TemplateError("error calling slice: non-integer index");
    if (from < 0 || to > v.length || from > to)
      throw new TemplateError(`error calling slice: index out of range: ${to}`);
    return v.slice(from, to);
  },
  print: (...a: unknown[]) => sprint(a),
  printf: (f: unknown, ...a: unknown[]) => sprintf(strArg(f, "printf"), a),
  println: (...a: unknown[]) => `${a.map(show).join(" ")}\n`,
  eq: (a: unknown, ...bs: unknown[]) => {
    if (bs.length === 0) throw new TemplateError("error calling eq: missing argument for comparison");
    return bs.some((b) => basicEqual(a, b));
  },
  ne: (a: unknown, b: unknown) => !basicEqual(a, b),
  lt: (a: unknown, b: unknown) => compare(a, b, "lt") < 0,
  le: (a: unknown, b: unknown) => compare(a, b, "le") <= 0,
  gt: (a: unknown, b: unknown) => compare(a, b, "gt") > 0,
  ge: (a: unknown, b: unknown) => compare(a, b, "ge") >= 0,
  urlquery: (...a: unknown[]) => encodeURIComponent(sprint(a)).replace(/%20/g, "+"),
  html: (...a: unknown[]) =>
    sprint(a).replace(
      /[&<>"']/g,
      (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;" })[c] as string,
    ),
  js: (...a: unknown[]) => JSON.stringify(sprint(a)).slice(1, -1).replace(/'/g, "\\'"),
  call: (f: unknown, ...a: unknown[]) => {
    if (typeof f !== "function") throw new TemplateError("error calling call: non-function");
    return f(...a);
  },
  // docker's
  json: (v: unknown) =>
    v === undefined ? "null" : JSON.stringify(v, (_k, x) => (typeof x === "function" ? undefined : x)),
  join: (list: unknown, sep: unknown) => {
    if (!Array.isArray(list))
      throw new TemplateError(`error calling join: wrong type for value; expected []string; got ${show(list)}`);
    return list.map((x) => strArg(x, "join")).join(strArg(sep, "join"));
  },
  split: (s: unknown, sep: unknown) => {
    const str = strArg(s, "split");
    const by = strArg(sep, "split");
    return by === "" ? [...str] : str.split(by);
  },
  title: (s: unknown) =>
    strArg(s, "title").replace(/(^|[^\p{L}\p{N}'_])(\p{L})/gu, (_m, a: string, b: string) => a + b.toUpperCase()),
  lower: (s: unknown) => strArg(s, "lower").toLowerCase(),
  upper: (s: unknown) => strArg(s, "upper").toUpperCase(),
  pad: (s: unknown, before: unknown, after: unknown) =>
    " ".repeat(count(before, "pad")) + strArg(s, "pad") + " ".repeat(count(after, "pad")),
  truncate: (s: unknown, n: unknown) => {
    const str = strArg(s, "truncate");
    return [...str].length > Number(n) ? [...str].slice(0, Number(n)).join("") : str;
  },
};
for (const k of [...Object.keys(BUILTINS), "and", "or"]) FUNCS_NAMES.add(k);

// ---- execution ----------------------------------------------------------------------------------

class Break {}
class Continue {}

interface Scope {
  vars: Map<string, unknown>[];
}

function lookupVar(s: Scope, name: string): unknown {
  for (let i = s.vars.length - 1; i >= 0; i--)
    if ((s.vars[i] as Map<string, unknown>).has(name)) return s.vars[i]?.get(name);
  throw new TemplateError(`undefined variable: ${name}`);
}

function setVar(s: Scope, name: string, v: unknown): void {
  for (let i = s.vars.length - 1; i >= 0; i--)
    if ((s.vars[i] as Map<string, unknown>).has(name)) {
      s.vars[i]?.set(name, v);
      return;
    }
  throw new TemplateError(`undefined variable: ${name}`);
}

/** Marks data as a Go struct named by its value (a listing's row): a field it lacks is an error. */
export const STRUCT: unique symbol = Symbol("struct");

/** .A.B on V; ARGS go to the last name when its value is a function (a method). */
function walk(v: unknown, names: string[], args: unknown[], label: string): unknown {
  let cur = v;
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string;
    if (cur === null || cur === undefined)
      throw new TemplateError(`executing at <${label}>: nil pointer evaluating interface {}.${name}`);
    if (typeof cur !== "object" || Array.isArray(cur))
      throw new TemplateError(
        `executing at <${label}>: can't evaluate field ${name} in type ${Array.isArray(cur) ? "[]interface {}" : typeof cur}`,
      );
    // own fields only: .constructor or .__proto__ are no field of the data (nor a way to its functions)
    const own = Object.hasOwn(cur, name);
    // a struct (a listing's row) has only its fields: Go refuses another name, where a map prints <no value>
    const struct = (cur as Record<symbol, unknown>)[STRUCT];
    if (!own && typeof struct === "string")
      throw new TemplateError(`executing at <${label}>: can't evaluate field ${name} in type ${struct}`);
    const next = own ? (cur as Record<string, unknown>)[name] : undefined;
    if (typeof next === "function") {
      const last = i === names.length - 1;
      const want = (next as Fn).length;
      if (struct !== undefined && (last ? args.length : 0) !== want)
        throw new TemplateError(
          `executing at <${label}>: wrong number of args for ${name}: want ${want} got ${last ? args.length : 0}`,
        );
      cur = (next as Fn).apply(cur, last ? args : []);
      if (last) return cur;
      continue;
    }
    cur = own ? next : NO_VALUE;
  }
  if (args.length > 0)
    throw new TemplateError(`executing at <${label}>: ${label} has arguments but cannot be invoked as function`);
  return cur;
}

class Exec {
  constructor(private funcs: Record<string, Fn>) {}

  run(nodes: Node[], dot: unknown, s: Scope, out: string[]): void {
    for (const node of nodes) {
      switch (node.n) {
        case "text":
          out.push(node.v);
          break;
        case "out": {
          const v = this.pipe(node.pipe, dot, s);
          if (node.pipe.decl.length === 0) out.push(show(v));
          break;
        }
        case "if":
        case "with": {
          s.vars.push(new Map());
          const v = this.pipe(node.pipe, dot, s);
          try {
            if (truthy(v)) this.run(node.body, node.n === "with" ? v : dot, s, out);
            else this.run(node.else, dot, s, out);
          } finally {
            s.vars.pop();
          }
          break;
        }
        case "range":
          this.range(node, dot, s, out);
          break;
        case "break":
          throw new Break();
        case "continue":
          throw new Continue();
      }
    }
  }

  private range(node: Extract<Node, { n: "range" }>, dot: unknown, s: Scope, out: string[]): void {
    const decl = node.pipe.decl;
    const v = this.pipe({ ...node.pipe, decl: [] }, dot, s);
    let items: Iterable<[unknown, unknown]> & { length: number };
    if (Array.isArray(v)) items = v.map((x, i) => [i, x] as [unknown, unknown]);
    else if (v && typeof v === "object")
      items = Object.keys(v)
        .filter((k) => typeof (v as Record<string, unknown>)[k] !== "function")
        .sort()
        .map((k) => [k, (v as Record<string, unknown>)[k]] as [unknown, unknown]);
    else if (typeof v === "number" && Number.isInteger(v)) {
      // Go 1.22's range over an integer, one at a time: a big N takes time, never memory
      const n = Math.max(0, v);
      items = {
        length: n,
        *[Symbol.iterator]() {
          for (let i = 0; i < n; i++) yield [i, i] as [unknown, unknown];
        },
      };
    } else if (v === undefined || v === null) items = [];
    else throw new TemplateError(`range can't iterate over ${show(v)}`);
    if (items.length === 0) {
      this.run(node.else, dot, s, out);
      return;
    }
    for (const [k, x] of items) {
      const frame = new Map<string, unknown>();
      if (decl.length === 1) frame.set(decl[0] as string, x);
      if (decl.length === 2) {
        frame.set(decl[0] as string, k);
        frame.set(decl[1] as string, x);
      }
      s.vars.push(frame);
      try {
        this.run(node.body, x, s, out);
      } catch (e) {
        if (e instanceof Break) break;
        if (!(e instanceof Continue)) throw e;
      } finally {
        s.vars.pop();
      }
    }
  }

  private pipe(p: Pipe, dot: unknown, s: Scope): unknown {
    let v: unknown;
    let have = false;
    for (const cmd of p.cmds) {
      v = this.cmd(cmd, dot, s, have ? [v] : []);
      have = true;
    }
    if (p.decl.length > 0) {
      if (p.assign) setVar(s, p.decl[0] as string, v);
      else (s.vars[s.vars.length - 1] as Map<string, unknown>).set(p.decl[0] as string, v);
    }
    return v;
  }

  private arg(a: Arg, dot: unknown, s: Scope): unknown {
    switch (a.k) {
      case "lit":
        return a.v;
      case "field":
        return walk(dot, a.names, [], `.${a.names.join(".")}`);
      case "var":
        return walk(lookupVar(s, a.name), a.names, [], a.name + a.names.map((n) => `.${n}`).join(""));
      case "pipe":
        return walk(this.pipe(a.pipe, dot, s), a.names, [], `(...).${a.names.join(".")}`);
      case "ident":
        return this.call(a.name, [], dot, s, []);
    }
  }

  private cmd(cmd: Cmd, dot: unknown, s: Scope, piped: unknown[]): unknown {
    const [head, ...rest] = cmd as [Arg, ...Arg[]];
    if (head.k === "ident") return this.call(head.name, rest, dot, s, piped);
    if (head.k === "field" || head.k === "var") {
      const args = [...rest.map((a) => this.arg(a, dot, s)), ...piped];
      const base = head.k === "field" ? dot : lookupVar(s, head.name);
      const label = head.k === "field" ? `.${head.names.join(".")}` : head.name;
      return walk(base, head.names, args, label);
    }
    if (rest.length > 0 || piped.length > 0)
      throw new TemplateError(`can't give argument to non-function ${show(this.arg(head, dot, s))}`);
    return this.arg(head, dot, s);
  }

  private call(name: string, argNodes: Arg[], dot: unknown, s: Scope, piped: unknown[]): unknown {
    if (name === "and" || name === "or") {
      // evaluated one at a time, stopping at the first that decides (Go 1.18)
      const all = [...argNodes.map((a) => () => this.arg(a, dot, s)), ...piped.map((p) => () => p)];
      if (all.length === 0) throw new TemplateError(`wrong number of args for ${name}: want at least 1 got 0`);
      let v: unknown;
      for (const get of all) {
        v = get();
        if (name === "and" ? !truthy(v) : truthy(v)) return v;
      }
      return v;
    }
    const fn = this.funcs[name] ?? BUILTINS[name];
    if (!fn) throw new TemplateError(`function "${name}" not defined`);
    return fn(...argNodes.map((a) => this.arg(a, dot, s)), ...piped);
  }
}

export interface Template {
  /** the text for DATA; a TemplateError when the template cannot be applied to it */
  execute(data: unknown): string;
}

/** Parse TEXT (a Go template); FUNCS adds functions (docker's listings add none, for now). */
export function parseTemplate(text: string, funcs: Record<string, Fn> = {}): Template {
  let nodes: Node[];
  parsingFuncs = funcs;
  try {
    nodes = new Parser(split(text)).parse();
  } catch (e) {
    if (e instanceof TemplateError) throw new TemplateError(`template parsing error: ${e.message}`);
    throw e;
  } finally {
    parsingFuncs = {};
  }
  return {
    execute(data: unknown): string {
      const out: string[] = [];
      try {
        new Exec(funcs).run(nodes, data, { vars: [new Map([["$", data]])] }, out);
      } catch (e) {
        // a JavaScript error of a function is the template's error, said as one
        if (e instanceof TemplateError) throw e;
        throw new TemplateError(`executing: ${(e as Error)?.message ?? String(e)}`);
      }
      return out.join("");
    },
  };
}
