// The FFI module's own calls, against node:fs on the same files: readDir replaced readdirSync on
// the listings' path, and the C strings of every call now share two scratch buffers.
import { expect, test } from "bun:test";
import {
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readDir, readFileText, removeOwnTree, rename, treeBytes } from "../src/sys/libc";

test("readDir lists what readdirSync lists: odd names, and more than one buffer of entries", () => {
  const dir = mkdtempSync(join(tmpdir(), "hull-readdir-"));
  try {
    const odd = ["a b", "línea\nnueva", "日本語", ".hidden", "-dash", "x".repeat(255), "é".repeat(127)];
    for (const n of odd) writeFileSync(join(dir, n), "");
    mkdirSync(join(dir, "sub"));
    symlinkSync("/nowhere", join(dir, "dangling"));
    // 3,000 names of ~60 bytes: ~250 KB of dirents, four reads of the 64 KiB buffer
    for (let i = 0; i < 3000; i++) writeFileSync(join(dir, `${String(i).padStart(40, "0")}-file`), "");
    const ours = readDir(dir);
    expect(ours).toEqual(readdirSync(dir));
    expect(ours).not.toContain(".");
    expect(ours).not.toContain("..");
    expect(readDir(join(dir, "missing"))).toBeUndefined();
    expect(() => readDir(join(dir, "a b"))).toThrow(/ENOTDIR/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("two paths in one call each keep their own buffer; a path longer than the buffer still works", () => {
  const dir = mkdtempSync(join(tmpdir(), "hull-carg-"));
  try {
    writeFileSync(join(dir, "from"), "moved");
    rename(join(dir, "from"), join(dir, "to"));
    expect(readFileText(join(dir, "to"))).toBe("moved");
    expect(readFileText(join(dir, "from"))).toBeUndefined();
    // 5,000 bytes: past the 4 KiB scratch buffer, so a Buffer of its own (and ENAMETOOLONG from the kernel)
    expect(() => readFileText(`${dir}/${"d/".repeat(2500)}`)).toThrow(/ENAMETOOLONG/);
    // a short path right after: the scratch buffer holds it whole, with nothing of the long one
    expect(readFileText(join(dir, "to"))).toBe("moved");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A chain of 500 directories, as a path */
const CHAIN = Array(500).fill("d").join("/");

/** COUNT chains of 500 directories under TOP, each moved into the next: TOP/c{COUNT-1} is 501 x COUNT deep, AT_BOTTOM's files at its bottom */
function deepTree(top: string, count: number, atBottom?: (dir: string) => void): void {
  for (let i = 0; i < count; i++) mkdirSync(join(top, `c${i}`, CHAIN), { recursive: true });
  atBottom?.(join(top, "c0", CHAIN));
  for (let i = 1; i < count; i++) renameSync(join(top, `c${i - 1}`), join(top, `c${i}`, CHAIN, "c"));
}

test("removeOwnTree: any depth and width, names that are not UTF-8, mode 000, and links removed, never followed", () => {
  const dir = mkdtempSync(join(tmpdir(), "hull-rmtree-"));
  const outside = mkdtempSync(join(tmpdir(), "hull-rmtree-outside-"));
  try {
    writeFileSync(join(outside, "keep"), "k");
    const tree = join(dir, "tree");
    mkdirSync(tree);
    // 3,000 directories deep, past PATH_MAX from the top: chains of 500 moved into each other
    deepTree(tree, 6);
    writeFileSync(join(tree, "c5", CHAIN, "f"), "x");
    // a name of bytes that are not UTF-8, a directory of mode 000 with a file in it, links out
    writeFileSync(Buffer.from([...Buffer.from(`${tree}/`), 0xff, 0xfe, 0x0a]), "");
    mkdirSync(join(tree, "locked"));
    writeFileSync(join(tree, "locked", "f"), "");
    Bun.spawnSync(["chmod", "000", join(tree, "locked")]);
    symlinkSync(outside, join(tree, "dir-link"));
    symlinkSync(join(outside, "keep"), join(tree, "file-link"));
    for (let i = 0; i < 100; i++) writeFileSync(join(tree, `wide-${i}`), "");
    // and wide: 2,000 directories side by side, each with a file and one more directory in it
    for (let i = 0; i < 2000; i++) {
      mkdirSync(join(tree, "side", `d${i}`, "inner"), { recursive: true });
      writeFileSync(join(tree, "side", `d${i}`, "f"), "");
    }
    expect(removeOwnTree(tree)).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
    expect(readdirSync(outside)).toEqual(["keep"]);
    // what is not there is gone already; a file or a link in the tree's place is removed itself
    expect(removeOwnTree(join(dir, "missing"))).toBe(true);
    symlinkSync(outside, join(dir, "a-link"));
    expect(removeOwnTree(join(dir, "a-link"))).toBe(true);
    expect(readdirSync(outside)).toEqual(["keep"]);
    // an entry it may not remove (its directory is read-only and not 000): false, the rest left whole
    const stuck = join(dir, "stuck");
    mkdirSync(join(stuck, "ro"), { recursive: true });
    writeFileSync(join(stuck, "ro", "f"), "");
    Bun.spawnSync(["chmod", "555", join(stuck, "ro")]);
    expect(removeOwnTree(stuck)).toBe(false);
    expect(readdirSync(join(stuck, "ro"))).toEqual(["f"]);
    Bun.spawnSync(["chmod", "755", join(stuck, "ro")]);
  } finally {
    // (node's rmSync would take the square of a deep tree's depth: removeOwnTree removed it above)
    rmSync(dir, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  }
});

test("treeBytes counts what lies past PATH_MAX, a file of two names once, a link by its length", () => {
  const dir = mkdtempSync(join(tmpdir(), "hull-treebytes-"));
  try {
    // 3,000 deep, with 1 MiB at the bottom: a walk by paths never reached it
    deepTree(dir, 6, (bottom) => writeFileSync(join(bottom, "big"), new Uint8Array(1 << 20)));
    writeFileSync(join(dir, "small"), "12345");
    linkSync(join(dir, "small"), join(dir, "small-again"));
    symlinkSync("abc", join(dir, "link"));
    expect(treeBytes(dir)).toBe((1 << 20) + 5 + 3);
    expect(treeBytes(join(dir, "missing"))).toBe(0);
    // a measure changes nothing: a directory it may not read keeps its mode, and counts 0
    mkdirSync(join(dir, "shut"));
    Bun.spawnSync(["chmod", "000", join(dir, "shut")]);
    expect(treeBytes(join(dir, "shut"))).toBe(0);
    expect(statSync(join(dir, "shut")).mode & 0o777).toBe(0);
    Bun.spawnSync(["chmod", "755", join(dir, "shut")]);
    expect(treeBytes(join(dir, "small"))).toBe(0);
  } finally {
    removeOwnTree(dir);
  }
});
