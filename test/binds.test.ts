// -v, --mount and --tmpfs as Docker reads them: an option hull does not know is an error, never a
// mount that differs from what was asked (`readonly=yes` gave a writable mount).
import { expect, test } from "bun:test";
import { parseMountFlag, parseTmpfsFlag, parseVolumeFlag } from "../src/container/binds";

test("--mount readonly takes Docker's values only", () => {
  const ro = (v: string) => parseMountFlag(`type=volume,source=data,target=/d,${v}`);
  for (const v of ["readonly", "ro", "readonly=true", "readonly=1", "ro=true"])
    expect(ro(v)).toMatchObject({ readonly: true });
  for (const v of ["readonly=false", "readonly=0", "ro=0"]) expect(ro(v)).toMatchObject({ readonly: false });
  for (const v of ["readonly=yes", "readonly=maybe", "ro=TRUE"])
    expect(() => ro(v)).toThrow("takes true, false, 1 or 0");
});

test("--mount refuses unknown, repeated and unsupported options by name", () => {
  expect(() => parseMountFlag("type=volume,target=/d,readOnly")).toThrow('unknown option "readOnly"');
  expect(() => parseMountFlag("type=volume,target=/d,target=/e")).toThrow("target given twice");
  expect(() => parseMountFlag("type=bind,source=/tmp,target=/d,bind-propagation=shared")).toThrow(
    "bind-propagation is not supported",
  );
  expect(() => parseMountFlag("type=volume,source=data,target=/d,tmpfs-size=1m")).toThrow("go with type=tmpfs");
  expect(() => parseMountFlag("type=tmpfs,target=/t,tmpfs-size=abc")).toThrow("tmpfs-size takes bytes");
  expect(parseMountFlag("type=tmpfs,target=/t,tmpfs-size=64m,tmpfs-mode=1777")).toEqual({
    kind: "tmpfs",
    target: "/t",
    options: "size=64m,mode=1777",
  });
});

test("-v takes Docker's option list: ro/rw, and z, Z, cached, delegated, consistent as no-ops", () => {
  expect(parseVolumeFlag("data:/d:ro,z")).toEqual({ kind: "volume", name: "data", target: "/d", readonly: true });
  expect(parseVolumeFlag("data:/d:Z")).toMatchObject({ readonly: false });
  expect(parseVolumeFlag("/tmp:/d:cached")).toMatchObject({ kind: "bind", source: "/tmp", readonly: false });
  expect(() => parseVolumeFlag("data:/d:ro,rw")).toThrow("give ro or rw once");
  expect(() => parseVolumeFlag("data:/d:rox")).toThrow('unknown option "rox"');
  expect(() => parseVolumeFlag("data:/d:shared")).toThrow("shared is not supported");
  expect(() => parseVolumeFlag(":/d")).toThrow("the source is empty");
  expect(() => parseTmpfsFlag("relative")).toThrow("must be absolute");
});

test("--tmpfs options are Docker's, each checked: a bad one is an error, never a container that cannot start", () => {
  expect(parseTmpfsFlag("/t:size=64m,mode=1777,noexec")).toEqual({
    kind: "tmpfs",
    target: "/t",
    options: "size=64m,mode=1777",
    flags: 2 | 4 | 8, // nosuid, nodev (the default), noexec
  });
  expect(parseTmpfsFlag("/t:ro,exec,suid")).toMatchObject({ flags: 1 | 4 });
  expect(() => parseTmpfsFlag("/t:size=abc")).toThrow("size takes a number");
  expect(() => parseTmpfsFlag("/t:mode=rwx")).toThrow("mode takes an octal mode");
  expect(() => parseTmpfsFlag("/t:huge=1")).toThrow('unknown option "huge=1"');
});

test("-v of a missing host path asks for it to be made (docker makes it); -v /path alone is an anonymous volume", () => {
  expect(parseVolumeFlag("/nonexistent/hull-made:/d")).toEqual({
    kind: "bind",
    source: "/nonexistent/hull-made",
    target: "/d",
    readonly: false,
    create: true,
  });
  expect(parseVolumeFlag("/app/node_modules")).toEqual({
    kind: "volume",
    name: "",
    target: "/app/node_modules",
    readonly: false,
  });
  expect(() => parseMountFlag("type=bind,source=/nonexistent/x,target=/d")).toThrow("does not exist");
});

test("--mount's names for one key are one key: readonly=false,ro is refused, not writable", () => {
  for (const more of ["readonly=false,ro", "ro=true,readonly=false", "src=/tmp", "dst=/e", "destination=/e"])
    expect(() => parseMountFlag(`type=bind,source=/tmp,target=/d,${more}`)).toThrow("given twice");
});
