// src/sys/path.ts answers as node:path does: every function, on paths built from the pieces that
// make path arithmetic go wrong (empty segments, doubled and trailing slashes, ".", "..", dots in names).
import { expect, test } from "bun:test";
import * as node from "node:path";
import * as ours from "../src/sys/path";

const PIECES = ["", "/", "//", "a", "b", ".", "..", "c.d", "...", ".e", "a/", "/.."];

/** Every string of up to N pieces, joined as they come (so "a" + "b" is "ab" as well as "a/b"). */
function paths(n: number): string[] {
  const out = new Set<string>([""]);
  let level = [""];
  for (let i = 0; i < n; i++) {
    const next: string[] = [];
    for (const p of level)
      for (const q of PIECES) for (const s of [`${p}${q}`, `${p}/${q}`]) if (!out.has(s)) next.push(s);
    for (const s of next) out.add(s);
    level = next;
  }
  return [...out];
}

const all = paths(3);
const few = paths(2);

test(`normalize, dirname, basename and isAbsolute of ${all.length} paths`, () => {
  for (const p of all) {
    expect([p, ours.normalize(p)]).toEqual([p, node.normalize(p)]);
    expect([p, ours.dirname(p)]).toEqual([p, node.dirname(p)]);
    expect([p, ours.basename(p)]).toEqual([p, node.basename(p)]);
    expect([p, ours.isAbsolute(p)]).toEqual([p, node.isAbsolute(p)]);
  }
});

test("join, resolve and relative of pairs and triples", () => {
  for (const a of few)
    for (const b of few) {
      expect([a, b, ours.join(a, b)]).toEqual([a, b, node.join(a, b)]);
      expect([a, b, ours.resolve(a, b)]).toEqual([a, b, node.resolve(a, b)]);
      expect([a, b, ours.relative(a, b)]).toEqual([a, b, node.relative(a, b)]);
      for (const c of ["", "x", "/y", ".."]) {
        expect([a, b, c, ours.join(a, b, c)]).toEqual([a, b, c, node.join(a, b, c)]);
        expect([a, b, c, ours.resolve(a, b, c)]).toEqual([a, b, c, node.resolve(a, b, c)]);
      }
    }
  expect(ours.join()).toBe(node.join());
  expect(ours.resolve()).toBe(node.resolve());
});

test("posix is the same functions", () => {
  expect(ours.posix.join("/a", "../b")).toBe(node.posix.join("/a", "../b"));
  expect(ours.posix.resolve("/a", "b/")).toBe(node.posix.resolve("/a", "b/"));
  expect(ours.posix.dirname("/a//b")).toBe(node.posix.dirname("/a//b"));
  expect(ours.posix.basename("/a/b//")).toBe(node.posix.basename("/a/b//"));
});

test("what is not a string is refused, as node:path refuses it", () => {
  for (const bad of [undefined, 5, [".."], null])
    for (const f of [
      (x: unknown) => ours.join("/r", x as string),
      (x: unknown) => ours.normalize(x as string),
      (x: unknown) => ours.resolve("/r", x as string),
    ])
      expect(() => f(bad)).toThrow(TypeError);
});
