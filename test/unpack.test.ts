// Crafted archives must not write outside the layer directory.
import { afterEach, expect, test } from "bun:test";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
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

// Issue 15: a directory's mode and time are applied after its contents; a later entry that puts a
// symlink in its place must not carry them to the link's target on the host.
test("a symlink planted over a directory does not take the directory's mode to a host file", async () => {
  const base = tmp();
  const victim = join(base, "victim");
  writeFileSync(victim, "mine\n", { mode: 0o644 });
  const hostDir = join(base, "hostdir");
  mkdirSync(join(hostDir, "b"), { recursive: true, mode: 0o755 });
  chmodSync(join(hostDir, "b"), 0o755);
  await unpack(
    [
      { header: { name: "d/", type: "directory", size: 0, mode: 0o4777 } },
      { header: { name: "d", type: "symlink", size: 0, linkname: victim } },
      { header: { name: "a/", type: "directory", size: 0, mode: 0o755 } },
      { header: { name: "a/b/", type: "directory", size: 0, mode: 0o777 } },
      { header: { name: "a", type: "symlink", size: 0, linkname: hostDir } },
    ],
    join(base, "root"),
  );
  expect(statSync(victim).mode & 0o7777).toBe(0o644);
  expect(statSync(join(hostDir, "b")).mode & 0o7777).toBe(0o755);
  expect(readlinkSync(join(base, "root", "d"))).toBe(victim);
});

test("whiteouts of '.' or '..' are refused and remove nothing", async () => {
  for (const name of ["sub/.wh..", "sub/.wh...", ".wh..", ".wh...", "sub/.wh."]) {
    const base = tmp();
    const root = join(base, "layer");
    writeFileSync(join(base, "sibling"), "keep\n");
    await expect(
      unpack([{ header: { name: "sub/", type: "directory", size: 0 } }, { header: { name, size: 0 } }], root),
    ).rejects.toThrow(/whiteout of no file/);
    expect(readFileSync(join(base, "sibling"), "utf8")).toBe("keep\n");
    expect(lstatSync(root).isDirectory()).toBe(true);
  }
});

test("fifos are kept; aufs bookkeeping entries are skipped", async () => {
  const root = join(tmp(), "root");
  await unpack(
    [
      { header: { name: "run/", type: "directory", size: 0 } },
      { header: { name: "run/pipe", type: "fifo", size: 0, mode: 0o640 } },
      { header: { name: ".wh..wh.plnk/", type: "directory", size: 0 } },
      { header: { name: ".wh..wh.aufs", size: 0 } },
    ],
    root,
  );
  const st = lstatSync(join(root, "run/pipe"));
  expect(st.isFIFO()).toBe(true);
  expect(st.mode & 0o7777).toBe(0o640);
  expect(existsSync(join(root, ".wh..wh.plnk"))).toBe(false);
  expect(existsSync(join(root, ".wh..wh.aufs"))).toBe(false);
});

test("a large file is written as it streams", async () => {
  const root = join(tmp(), "root");
  const big = new Uint8Array(48 * 1024 * 1024).fill(7);
  await unpack([{ header: { name: "big", size: big.length }, body: big }], root);
  const st = statSync(join(root, "big"));
  expect(st.size).toBe(big.length);
});
