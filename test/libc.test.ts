// The FFI module's own calls, against node:fs on the same files: readDir replaced readdirSync on
// the listings' path, and the C strings of every call now share two scratch buffers.
import { expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readDir, readFileText, rename } from "../src/sys/libc";

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
