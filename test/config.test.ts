import { expect, test } from "bun:test";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildEnv } from "../src/container/env";
import { parseRunOptions } from "../src/container/options";
import { resolveUser } from "../src/container/user";
import { findRange } from "../src/runtime/idmap";
import { parseImageConfig } from "../src/image/config";
import { entryPath } from "../src/image/unpack";

test("findRange: by name or uid, first valid line wins", () => {
  const text = "alice:100000:65536\n1001:200000:1000\nbad:x:y\n";
  expect(findRange(text, "alice", 1000)).toEqual({ start: 100000, count: 65536 });
  expect(findRange(text, "bob", 1001)).toEqual({ start: 200000, count: 1000 });
  expect(findRange(text, "carol", 1002)).toBeUndefined();
  expect(findRange(text, "bad", 1)).toBeUndefined();
});

test("resolveUser: names, ids, groups and supplementary groups from the image", () => {
  const layer = mkdtempSync(join(tmpdir(), "hull-user-"));
  mkdirSync(join(layer, "etc"));
  writeFileSync(join(layer, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n");
  writeFileSync(join(layer, "etc/group"), "root:x:0:\nwheel:x:10:app\napp:x:1000:\nstaff:x:50:\n");
  expect(resolveUser("", [layer])).toEqual({ uid: 0, gid: 0, groups: [0], home: "/root" });
  expect(resolveUser("app", [layer])).toEqual({ uid: 1000, gid: 1000, groups: [1000, 10], home: "/home/app" });
  expect(resolveUser("1000:staff", [layer])).toEqual({ uid: 1000, gid: 50, groups: [50], home: "/home/app" });
  expect(resolveUser("4242", [layer])).toEqual({ uid: 4242, gid: 0, groups: [0], home: "/" });
  expect(() => resolveUser("nobody", [layer])).toThrow("unable to find user nobody");
  expect(() => resolveUser("app:nogroup", [layer])).toThrow("unable to find group nogroup");
});

test("buildEnv: defaults, then image, then -e; HOME from the user; -e NAME passes the caller's value", () => {
  const env = buildEnv({
    imageEnv: ["PATH=/image/bin", "A=image"],
    hostname: "h",
    home: "/root",
    tty: true,
    cli: ["A=cli", "FROM_HOST", "MISSING"],
    host: { FROM_HOST: "yes" },
  });
  expect(env).toEqual(["PATH=/image/bin", "HOSTNAME=h", "A=cli", "TERM=xterm", "FROM_HOST=yes", "HOME=/root"]);
});

test("run options: bad values are refused with a message that says what is expected", () => {
  const ok = {
    rm: false,
    interactive: false,
    tty: false,
    init: false,
    readOnly: false,
    detach: false,
    env: [],
    envFiles: [],
    volumes: [],
    mounts: [],
    tmpfs: [],
    restart: "no",
    attach: [],
    network: "none",
    image: "busybox",
    command: [],
    pull: "missing",
    privileged: false,
    capAdd: [],
    capDrop: [],
    securityOpt: [],
    volumesFrom: [],
    labels: [],
  };
  expect(parseRunOptions(ok).network).toBe("none");
  expect(() => parseRunOptions({ ...ok, volumesFrom: ["a:rx"] })).toThrow("--volumes-from takes CONTAINER[:ro|:rw]");
  expect(() => parseRunOptions({ ...ok, labels: ["=v"] })).toThrow("--label takes KEY=VALUE or KEY");
  expect(() => parseRunOptions({ ...ok, workdir: "rel" })).toThrow("absolute path");
  expect(() => parseRunOptions({ ...ok, user: "a:b:c" })).toThrow("-u takes");
  expect(() => parseRunOptions({ ...ok, hostname: "bad host" })).toThrow("--hostname");
  expect(() => parseRunOptions({ ...ok, env: ["=x"] })).toThrow('-e "=x": takes KEY=VALUE or KEY');
  expect(() => parseRunOptions({ ...ok, pull: "sometimes" })).toThrow("--pull takes");
});

test("image config: schema-checked", () => {
  const good = JSON.stringify({
    config: { Cmd: ["sh"] },
    rootfs: { type: "layers", diff_ids: [`sha256:${"a".repeat(64)}`] },
  });
  expect(parseImageConfig(good, "t").config?.Cmd).toEqual(["sh"]);
  expect(() => parseImageConfig("{", "t")).toThrow("not JSON");
  expect(() => parseImageConfig(JSON.stringify({ rootfs: { type: "layers", diff_ids: ["md5:x"] } }), "t")).toThrow(
    "diff_id",
  );
});

test("layer entry names: leading / and ./ dropped, .. refused", () => {
  expect(entryPath("./bin/sh")).toBe("bin/sh");
  expect(entryPath("/etc//passwd")).toBe("etc/passwd");
  expect(() => entryPath("../etc/passwd")).toThrow("climbs out");
  expect(() => entryPath("a/../../b")).toThrow("climbs out");
});

test("a malformed manifest is one line naming where it is wrong, not a schema dump", () => {
  const { parseManifest } = require("../src/image/manifest") as typeof import("../src/image/manifest");
  const bad = new TextEncoder().encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { digest: 7 },
      layers: "x",
    }),
  );
  let message = "";
  try {
    parseManifest(bad, "application/vnd.oci.image.manifest.v1+json", "registry.example/app:1");
  } catch (e) {
    message = (e as Error).message;
  }
  expect(message).toMatch(
    /^manifest of registry\.example\/app:1 is invalid: config\.\w+: .+ \(and \d+ more problems?\)$/,
  );
  expect(message).not.toContain("\n");
});
