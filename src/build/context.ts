// The build context: the directory `hull build` is given, less what .dockerignore leaves out. It is
// only ever read. COPY and ADD sources are matched here (wildcards as Go's filepath.Match: `*` and `?`
// stay within one path component), and hashed by content for the cache.
import { lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync } from "node:fs";
import { join } from "../sys/path";
import * as v from "valibot";
import { writeFileAtomic } from "../store/atomic";
import { readFileText } from "../sys/libc";
import { DockerIgnore } from "./dockerignore";

export interface ContextEntry {
  /** path relative to the context, "" for its root */
  rel: string;
  type: "file" | "dir" | "symlink";
}

/** A matched source: a path of the context and, for a directory, what beneath it is in the context. */
export interface ContextSource {
  rel: string;
  type: ContextEntry["type"];
  /** for a directory: the paths beneath it that are copied, relative to it */
  include?: string[];
  /** the name it is copied under, when a symlink named it (the link's own name) */
  name?: string;
}

function globToRegExp(pattern: string): RegExp {
  let re = "^";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const close = pattern.indexOf("]", i + 1);
      if (close < 0) throw new Error(`bad pattern ${pattern}: [ without ]`);
      let cls = pattern.slice(i + 1, close);
      if (cls.startsWith("^")) cls = `!${cls.slice(1)}`;
      re += `[${cls.replace(/^!/, "^").replace(/\\/g, "\\\\")}]`;
      i = close;
    } else if (c === "\\" && i + 1 < pattern.length) re += (pattern[++i] as string).replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    else re += c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return new RegExp(`${re}$`);
}

/** "./a//b/" -> "a/b"; "" for the root. Refuses a path that leaves the context. */
export function contextPath(src: string): string {
  const out: string[] = [];
  for (const part of src.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length === 0) throw new Error(`${src} is outside the build context`);
      out.pop();
    } else out.push(part);
  }
  return out.join("/");
}

const StatCache = v.record(v.string(), v.tuple([v.number(), v.number(), v.number(), v.string()]));

export class BuildContext {
  private all?: Map<string, ContextEntry>;
  private readonly ignore: DockerIgnore;
  /** rel -> [size, ino, ctime in ms, sha256 of the content], from earlier builds */
  private known?: v.InferOutput<typeof StatCache>;
  private knownChanged = false;
  private readonly started = Date.now();

  /**
   * IGNORE_TEXT: the .dockerignore that applies, if any. STAT_CACHE: a file where the digests of
   * the context's files are kept by size, inode and ctime, so a rebuild reads only what changed.
   */
  constructor(
    readonly dir: string,
    ignoreText = "",
    private readonly statCache?: string,
  ) {
    this.ignore = new DockerIgnore(ignoreText);
  }

  /** The content digest of the file REL: from the stat cache while size, inode and ctime agree. */
  private fileDigest(rel: string, path: string, st: { size: number; ino: number; ctimeMs: number }): string {
    if (!this.known) {
      this.known = {};
      const text = this.statCache ? readFileText(this.statCache) : undefined;
      if (text) {
        try {
          const r = v.safeParse(StatCache, JSON.parse(text));
          if (r.success) this.known = r.output;
        } catch {}
      }
    }
    const k = this.known[rel];
    if (k && k[0] === st.size && k[1] === st.ino && k[2] === st.ctimeMs) return k[3];
    const digest = new Bun.CryptoHasher("sha256").update(readFileSync(path)).digest("hex");
    // a file changed in the last seconds could change again within the same ctime tick: not kept
    if (st.ctimeMs < this.started - 2000) {
      this.known[rel] = [st.size, st.ino, st.ctimeMs, digest];
      this.knownChanged = true;
    }
    return digest;
  }

  /** Keep what this build learnt of the context's files for the next one. */
  saveStatCache(): void {
    if (!this.statCache || !this.knownChanged || !this.known) return;
    const { mkdirSync } = require("node:fs") as typeof import("node:fs");
    mkdirSync(join(this.statCache, ".."), { recursive: true });
    // a cache: losing it to a crash costs one re-read, so no fsync
    writeFileAtomic(this.statCache, JSON.stringify(this.known), 0o600, false);
    this.knownChanged = false;
  }

  /** Every path of the context that .dockerignore keeps (with the directories above them). */
  entries(): Map<string, ContextEntry> {
    if (this.all) return this.all;
    const all = new Map<string, ContextEntry>([["", { rel: "", type: "dir" }]]);
    const walk = (rel: string) => {
      for (const name of readdirSync(join(this.dir, rel)).sort()) {
        const sub = rel ? `${rel}/${name}` : name;
        const st = lstatSync(join(this.dir, sub));
        const type = st.isDirectory() ? "dir" : st.isSymbolicLink() ? "symlink" : st.isFile() ? "file" : undefined;
        if (!type) continue;
        const kept = !this.ignore.ignores(sub);
        if (kept) all.set(sub, { rel: sub, type });
        // an ignored directory is walked still: an exception (!pattern) may bring back what is inside
        if (type === "dir" && (kept || this.ignore.hasExceptions)) {
          walk(sub);
          if (!kept && [...all.keys()].some((k) => k.startsWith(`${sub}/`))) all.set(sub, { rel: sub, type });
        }
      }
    };
    walk("");
    this.all = all;
    return all;
  }

  /** The context's paths SRC names: one path, or every match of a wildcard pattern. */
  match(src: string): ContextSource[] {
    const rel = contextPath(src);
    const all = this.entries();
    let hits: ContextEntry[];
    if (/[*?[]/.test(rel)) {
      const re = globToRegExp(rel);
      hits = [...all.values()].filter((e) => e.rel !== "" && re.test(e.rel));
    } else {
      const e = all.get(rel);
      hits = e ? [e] : [];
    }
    if (hits.length === 0) {
      throw new Error(`${src}: no such file in the build context (or .dockerignore leaves it out)`);
    }
    return hits.map((h) => {
      // a source that is a symlink is followed, as Docker does; it must stay inside the context
      const e = h.type === "symlink" ? this.followed(h, src) : h;
      const name = e === h ? undefined : (h.rel.split("/").at(-1) as string);
      if (e.type !== "dir") return { rel: e.rel, type: e.type, name };
      const prefix = e.rel === "" ? "" : `${e.rel}/`;
      const include = [...all.keys()].filter((k) => k !== e.rel && k.startsWith(prefix)).map((k) => k.slice(prefix.length));
      return { rel: e.rel, type: e.type, include, name };
    });
  }

  /**
   * SOURCE as a path to bind read-only: the context's own path when .dockerignore leaves nothing out
   * beneath it, else a copy of what it keeps under SCRATCH, so a RUN --mount=type=bind sees what
   * COPY would.
   */
  view(source: ContextSource, scratch: string): string {
    const { chmodSync, copyFileSync, mkdirSync, symlinkSync } = require("node:fs") as typeof import("node:fs");
    const path = join(this.dir, source.rel);
    if (source.type !== "dir") return path;
    const kept = new Set(source.include);
    let complete = true;
    const count = (rel: string) => {
      for (const name of readdirSync(join(path, rel))) {
        const sub = rel ? `${rel}/${name}` : name;
        if (!kept.has(sub)) complete = false;
        else if (lstatSync(join(path, sub)).isDirectory()) count(sub);
        if (!complete) return;
      }
    };
    count("");
    if (complete) return path;
    mkdirSync(scratch, { recursive: true });
    for (const rel of [...kept].sort()) {
      const from = join(path, rel);
      const to = join(scratch, rel);
      const st = lstatSync(from);
      if (st.isDirectory()) mkdirSync(to, { mode: st.mode & 0o7777 });
      else if (st.isSymbolicLink()) symlinkSync(readlinkSync(from), to);
      else {
        // copied, not linked: a link would change the context's inodes (their ctime)
        copyFileSync(from, to);
        chmodSync(to, st.mode & 0o7777);
      }
    }
    return scratch;
  }

  private followed(link: ContextEntry, src: string): ContextEntry {
    let real: string;
    try {
      real = realpathSync(join(this.dir, link.rel));
    } catch {
      throw new Error(`${src}: the symlink ${link.rel} points at nothing`);
    }
    const root = realpathSync(this.dir);
    if (real !== root && !real.startsWith(`${root}/`)) throw new Error(`${src}: the symlink ${link.rel} points outside the build context`);
    const rel = real.slice(root.length + 1);
    const e = this.entries().get(rel);
    if (!e) throw new Error(`${src}: the symlink ${link.rel} points at ${rel}, which .dockerignore leaves out`);
    return e;
  }

  /** A digest of what SOURCES would copy: names, types, modes and contents; not times or owners. */
  hash(sources: ContextSource[]): string {
    const h = new Bun.CryptoHasher("sha256");
    const add = (rel: string) => {
      const path = join(this.dir, rel);
      const st = lstatSync(path);
      h.update(`${rel}\0${st.mode}\0`);
      if (st.isSymbolicLink()) h.update(readlinkSync(path));
      else if (st.isFile()) h.update(this.fileDigest(rel, path, st));
      h.update("\0");
    };
    for (const s of sources) {
      h.update(`source ${s.rel}\0`);
      add(s.rel);
      for (const sub of s.include ?? []) add(s.rel ? `${s.rel}/${sub}` : sub);
    }
    return `sha256:${h.digest("hex")}`;
  }
}
