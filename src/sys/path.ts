// POSIX path arithmetic with node:path's answers (test/path.test.ts compares the two on generated
// paths), for hull's own modules. Loading node:path costs every command ~1.3 ms of start, measured
// in a compiled program that only imports it: Bun builds it, and its argument validators, in JS at
// first import. hull runs on Linux only, so node:path is node:path/posix there and this is all of it
// that hull uses.

/** The segments of P with "." and empty ones gone and ".." applied; a relative path keeps leading "..". */
function segments(p: string, absolute: boolean): string[] {
  const out: string[] = [];
  for (const s of p.split("/")) {
    if (s === "" || s === ".") continue;
    if (s !== "..") out.push(s);
    else if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
    else if (!absolute) out.push("..");
  }
  return out;
}

/** node:path's refusal of what is not a string: a stray undefined must not become a path ("root/") */
function strings(parts: unknown[]): void {
  for (const p of parts)
    if (typeof p !== "string") throw new TypeError(`The "path" argument must be of type string. Received ${typeof p}`);
}

export function isAbsolute(p: string): boolean {
  return p.startsWith("/");
}

/** A path with no "." or ".." segment and no doubled slash: normalize leaves it as it is. */
const UNCLEAN = /\/\/|(^|\/)\.\.?(\/|$)/;

export function normalize(p: string): string {
  strings([p]);
  if (p === "") return ".";
  // the common case, by one regular expression rather than a split and a join (`hull ps` joins
  // a few paths for each container)
  if (!UNCLEAN.test(p)) return p;
  const absolute = isAbsolute(p);
  let body = segments(p, absolute).join("/");
  if (body === "" && !absolute) body = ".";
  if (body !== "" && p.endsWith("/")) body += "/";
  return absolute ? `/${body}` : body;
}

export function join(...parts: string[]): string {
  strings(parts);
  const given = parts.filter((p) => p !== "");
  return given.length === 0 ? "." : normalize(given.join("/"));
}

/** The absolute path PARTS name, from the right until one is absolute, else from the working directory. */
export function resolve(...parts: string[]): string {
  strings(parts);
  let path = "";
  for (let i = parts.length - 1; i >= 0 && !isAbsolute(path); i--) {
    const p = parts[i] as string;
    if (p !== "") path = path === "" ? p : `${p}/${path}`;
  }
  if (!isAbsolute(path)) path = path === "" ? process.cwd() : `${process.cwd()}/${path}`;
  if (!UNCLEAN.test(path)) return path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
  return `/${segments(path, true).join("/")}`;
}

/** Everything before P's last segment, as node:path gives it (which keeps a doubled slash there: "/a//b" is "/a/"). */
export function dirname(p: string): string {
  if (p === "") return ".";
  const rooted = p.startsWith("/");
  let end = -1;
  let inTrailingSlashes = true;
  for (let i = p.length - 1; i >= 1; i--) {
    if (p[i] === "/") {
      if (!inTrailingSlashes) {
        end = i;
        break;
      }
    } else inTrailingSlashes = false;
  }
  if (end === -1) return rooted ? "/" : ".";
  if (rooted && end === 1) return "//";
  return p.slice(0, end);
}

/** P's last segment, trailing slashes aside. */
export function basename(p: string): string {
  let end = p.length;
  while (end > 0 && p[end - 1] === "/") end--;
  if (end === 0) return "";
  return p.slice(p.lastIndexOf("/", end - 1) + 1, end);
}

/** The path from FROM to TO ("" when they are the same), both resolved first. */
export function relative(from: string, to: string): string {
  const a = segments(resolve(from), true);
  const b = segments(resolve(to), true);
  let common = 0;
  while (common < a.length && common < b.length && a[common] === b[common]) common++;
  return [...a.slice(common).map(() => ".."), ...b.slice(common)].join("/");
}

/** As node:path's `posix`, which on Linux is node:path itself. */
export const posix = { basename, dirname, isAbsolute, join, normalize, relative, resolve };
