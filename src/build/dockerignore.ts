// .dockerignore as Docker reads it (moby's patternmatcher): one pattern a line, `#` comments, paths
// cleaned (a leading / or ./ means nothing); `*` and `?` do not cross `/`, `**` crosses any number of
// directories, `[...]` is a class; `!pattern` re-includes; the last pattern that matches decides. A
// pattern that matches a directory also matches everything below it.

interface Pattern {
  negate: boolean;
  re: RegExp;
}

function clean(path: string): string {
  const parts: string[] = [];
  for (const p of path.split("/")) {
    if (p === "" || p === ".") continue;
    if (p === "..") parts.pop();
    else parts.push(p);
  }
  return parts.join("/");
}

function toRegExp(pattern: string): RegExp {
  let re = "^";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === "*") {
      if (pattern[i + 1] === "*") {
        // `**/` matches any number of directories, also none; a trailing `**` anything
        i++;
        if (pattern[i + 1] === "/") {
          i++;
          re += "(?:.*/)?";
        } else re += ".*";
      } else re += "[^/]*";
    } else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const close = pattern.indexOf("]", i + 1);
      if (close < 0) throw new Error(`.dockerignore: unclosed [ in ${pattern}`);
      let cls = pattern.slice(i + 1, close);
      if (cls.startsWith("!")) cls = `^${cls.slice(1)}`;
      re += `[${cls.replace(/\\/g, "\\\\")}]`;
      i = close;
    } else if (c === "\\" && i + 1 < pattern.length) {
      re += (pattern[++i] as string).replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  // a directory's pattern covers what is inside it
  return new RegExp(`${re}(?:/.*)?$`);
}

export class DockerIgnore {
  private patterns: Pattern[];

  constructor(text: string) {
    this.patterns = text
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("#"))
      .map((l) => {
        const negate = l.startsWith("!");
        const body = clean((negate ? l.slice(1) : l).trim());
        return { negate, re: toRegExp(body) };
      })
      .filter((p) => p.re.source !== "^(?:/.*)?$");
  }

  /** Are there exceptions (!pattern), which may bring back a path beneath one left out? */
  get hasExceptions(): boolean {
    return this.patterns.some((p) => p.negate);
  }

  /** Is PATH (relative to the context) left out of the build context? */
  ignores(path: string): boolean {
    const p = clean(path);
    let ignored = false;
    for (const pat of this.patterns) if (pat.re.test(p)) ignored = !pat.negate;
    return ignored;
  }
}
