// Volumes: named ones outlive their containers and are filled from the image when first used;
// anonymous ones go with rm -v; --tmpfs and --mount; the volume commands.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { hull, makeStore, removeStore, requireUnprivileged, ok } from "./helpers";

requireUnprivileged();
let root = "";
beforeAll(() => {
  root = makeStore();
});
afterAll(() => removeStore(root));

const h = (...args: string[]) => hull(args, { root });
test("a named volume is created on first use, filled from the image, and outlives the container", () => {
  ok(h("run", "--rm", "-v", "conf:/etc", "busybox", "sh", "-c", "echo mine > /etc/added"));
  expect(ok(h("volume", "ls", "-q")).trim()).toBe("conf");
  const out = ok(
    h("run", "--rm", "-v", "conf:/data", "busybox", "sh", "-c", "cat /data/added; stat -c %u /data/passwd"),
  );
  expect(out).toBe("mine\n0\n");
  const [info] = JSON.parse(ok(h("volume", "inspect", "conf")));
  expect(info.Mountpoint).toBe(join(root, "volumes", "conf", "_data"));
});

test("the copy keeps the image's owners, and a volume that is not empty is left as it is", () => {
  ok(h("run", "--rm", "-v", "homes:/home", "busybox", "sh", "-c", "mkdir -p /home/u && chown 1000:1000 /home/u"));
  expect(ok(h("run", "--rm", "-v", "homes:/home", "busybox", "stat", "-c", "%u:%g", "/home/u")).trim()).toBe(
    "1000:1000",
  );
  ok(h("run", "--rm", "-v", "homes:/etc", "busybox", "true"));
  expect(ok(h("run", "--rm", "-v", "homes:/x", "busybox", "ls", "/x")).trim()).toBe("u");
});

test("read-only volumes, --mount and --tmpfs", () => {
  const ro = h("run", "--rm", "-v", "conf:/c:ro", "busybox", "touch", "/c/new");
  expect(ro.code).not.toBe(0);
  expect(ro.stderr).toContain("Read-only file system");
  expect(
    ok(h("run", "--rm", "--mount", "type=volume,source=conf,target=/m,readonly", "busybox", "cat", "/m/added")),
  ).toBe("mine\n");
  const t = ok(
    h("run", "--rm", "--tmpfs", "/scratch:size=1m,mode=1777", "busybox", "grep", " /scratch ", "/proc/mounts"),
  );
  expect(t).toContain("tmpfs /scratch tmpfs");
  expect(t).toContain("size=1024k");
  expect(
    ok(h("run", "--rm", "--mount", "type=tmpfs,target=/t,tmpfs-size=2m", "busybox", "grep", " /t ", "/proc/mounts")),
  ).toContain("size=2048k");
  const bad = h("run", "--rm", "--mount", "type=nfs,target=/x", "busybox", "true");
  expect(bad.code).toBe(125);
  expect(bad.stderr).toContain("type must be bind, volume or tmpfs");
});

test("a volume in use cannot be removed; anonymous volumes go with rm -v", () => {
  ok(
    h(
      "run",
      "--name",
      "holder",
      "-v",
      "conf:/c",
      "--mount",
      "type=volume,target=/anon",
      "busybox",
      "sh",
      "-c",
      "echo a > /anon/f",
    ),
  );
  const inUse = h("volume", "rm", "conf");
  expect(inUse.code).toBe(1);
  expect(inUse.stderr).toContain("in use by container");
  const before = readdirSync(join(root, "volumes")).length;
  ok(h("rm", "-v", "holder"));
  expect(readdirSync(join(root, "volumes")).length).toBe(before - 1);
  expect(readdirSync(join(root, "volumes"))).toContain("conf");
  ok(h("volume", "rm", "conf"));
  ok(h("volume", "create", "spare"));
  expect(ok(h("volume", "prune", "-f"))).toContain("Nothing");
  expect(
    ok(h("volume", "prune", "-a", "-f"))
      .trim()
      .split("\n"),
  ).toContain("spare");
});

test("-v makes a missing host directory, as docker does; -v /path alone is an anonymous volume", () => {
  const made = join(root, "made", "by", "v");
  ok(h("run", "--rm", "-v", `${made}:/out`, "busybox", "touch", "/out/f"));
  expect(readdirSync(made)).toEqual(["f"]);
  ok(h("run", "--name", "anon", "-v", "/cache", "busybox", "sh", "-c", "echo kept > /cache/x"));
  const volumes = () =>
    ok(h("volume", "ls", "-q"))
      .trim()
      .split("\n")
      .filter(Boolean);
  const before = volumes();
  ok(h("rm", "-v", "anon"));
  expect(volumes()).toHaveLength(before.length - 1);
});

test("--volumes-from mounts another container's volumes and binds at the same paths; :ro makes them read-only", () => {
  const { mkdtempSync, rmSync, writeFileSync } = require("node:fs") as typeof import("node:fs");
  const dir = mkdtempSync(join(require("node:os").tmpdir(), "hull-vf-"));
  try {
    writeFileSync(join(dir, "host-file"), "from host\n");
    ok(
      h(
        "create",
        "--name",
        "vf-holder",
        "-v",
        "vf-named:/data",
        "-v",
        "/anon",
        "-v",
        `${dir}:/b`,
        "--tmpfs",
        "/t",
        "busybox",
        "true",
      ),
    );
    ok(
      h("run", "--rm", "--volumes-from", "vf-holder", "busybox", "sh", "-c", "echo one > /data/f; echo two > /anon/f"),
    );
    const seen = ok(
      h(
        "run",
        "--rm",
        "--volumes-from",
        "vf-holder",
        "busybox",
        "sh",
        "-c",
        "cat /data/f /anon/f /b/host-file; mount | grep -c ' /t ' || true",
      ),
    );
    // the tmpfs is the holder's own, as in docker: not shared
    expect(seen).toBe("one\ntwo\nfrom host\n0\n");
    const ro = h("run", "--rm", "--volumes-from", "vf-holder:ro", "busybox", "touch", "/data/g");
    expect(ro.code).not.toBe(0);
    expect(ro.stderr).toContain("Read-only file system");
    // a path given by -v wins over the one --volumes-from brings
    expect(
      ok(h("run", "--rm", "-v", "vf-other:/data", "--volumes-from", "vf-holder", "busybox", "ls", "/data")).trim(),
    ).toBe("");
    const [info] = JSON.parse(ok(h("inspect", "vf-holder")));
    expect(info.Mounts.map((m: { Type: string; Destination: string }) => `${m.Type} ${m.Destination}`).sort()).toEqual([
      "bind /b",
      "tmpfs /t",
      "volume /anon",
      "volume /data",
    ]);
    // rm -v of a consumer leaves the holder's anonymous volume
    ok(h("run", "--name", "vf-user", "--volumes-from", "vf-holder", "busybox", "true"));
    const anon = info.Mounts.find((m: { Destination: string }) => m.Destination === "/anon").Name;
    ok(h("rm", "-v", "vf-user"));
    expect(ok(h("volume", "ls", "-q"))).toContain(anon);
    const missing = h("run", "--rm", "--volumes-from", "nope", "busybox", "true");
    expect(missing.code).toBe(125);
    expect(missing.stderr).toContain("no such container: nope");
    ok(h("rm", "-v", "vf-holder"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
