// Crafted archives must not write outside the layer directory.
import { afterEach, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packTar, type TarEntry } from "modern-tar";
import { unpackLayer } from "../src/image/unpack";
import { lgetxattr } from "../src/sys/libc";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "hull-unpack-"));
  dirs.push(d);
  return d;
}

async function unpack(entries: TarEntry[], into: string): Promise<void> {
  const tar = await packTar(entries);
  await unpackLayer(new Blob([tar]).stream(), into);
}

test("files, directories, modes, symlinks and hardlinks land beneath the root", async () => {
  const root = join(tmp(), "root");
  await unpack(
    [
      { header: { name: "bin/", type: "directory", size: 0, mode: 0o755 } },
      { header: { name: "bin/tool", size: 3, mode: 0o4755 }, body: "abc" },
      { header: { name: "bin/alias", type: "symlink", size: 0, linkname: "/bin/tool" } },
      { header: { name: "bin/hard", type: "link", size: 0, linkname: "bin/tool" } },
    ],
    root,
  );
  expect(readFileSync(join(root, "bin/tool"), "utf8")).toBe("abc");
  expect(lstatSync(join(root, "bin/tool")).mode & 0o7777).toBe(0o4755);
  expect(readlinkSync(join(root, "bin/alias"))).toBe("/bin/tool");
  expect(lstatSync(join(root, "bin/hard")).ino).toBe(lstatSync(join(root, "bin/tool")).ino);
});

test("long names, user xattrs, whiteouts and opaque directories", async () => {
  const root = join(tmp(), "root");
  const deep = `${"d".repeat(90)}/${"e".repeat(90)}/${"f".repeat(120)}`;
  await unpack(
    [
      { header: { name: deep, size: 4 }, body: "long" },
      { header: { name: "tagged", size: 1, pax: { "SCHILY.xattr.user.hull": "yes" } }, body: "t" },
      { header: { name: "dir/", type: "directory", size: 0 } },
      { header: { name: "dir/.wh..wh..opq", size: 0 } },
      { header: { name: ".wh.gone", size: 0 } },
    ],
    root,
  );
  expect(readFileSync(join(root, deep), "utf8")).toBe("long");
  expect(new TextDecoder().decode(lgetxattr(join(root, "tagged"), "user.hull"))).toBe("yes");
  expect(new TextDecoder().decode(lgetxattr(join(root, "dir"), "user.overlay.opaque"))).toBe("y");
  const st = lstatSync(join(root, "gone"));
  expect(st.isCharacterDevice()).toBe(true);
  expect(st.rdev).toBe(0);
  expect(existsSync(join(root, "dir/.wh..wh..opq"))).toBe(false);
});

test("an entry that climbs out with .. is refused", async () => {
  const base = tmp();
  const root = join(base, "root");
  await expect(unpack([{ header: { name: "../escaped", size: 1 }, body: "x" }], root)).rejects.toThrow("climbs out");
  expect(existsSync(join(base, "escaped"))).toBe(false);
});

test("an entry written through a symlink planted by an earlier entry is refused", async () => {
  const base = tmp();
  const outside = join(base, "outside");
  const root = join(base, "root");
  await expect(
    unpack(
      [
        { header: { name: "evil", type: "symlink", size: 0, linkname: outside } },
        { header: { name: "evil/owned", size: 1 }, body: "x" },
      ],
      root,
    ),
  ).rejects.toThrow("through symlink");
  expect(existsSync(join(outside, "owned"))).toBe(false);
});

test("absolute entry names are taken relative to the layer", async () => {
  const base = tmp();
  const root = join(base, "root");
  await unpack([{ header: { name: "/etc/motd", size: 2 }, body: "hi" }], root);
  expect(readFileSync(join(root, "etc/motd"), "utf8")).toBe("hi");
});
