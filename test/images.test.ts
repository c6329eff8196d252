// Image management: tag, rmi, prune, inspect, history, save/load/import, login/logout, search,
// unshare. The registry parts use the real docker-registry; archives are checked with skopeo.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildLayout, busyboxLayer, file, push, skopeoInspect } from "./fixtures/oci";
import { type RegistryFixture, startRegistry } from "./fixtures/registry";
import { HULL, hostHas, hull, hullAsync, makeStore, removeStore, requireUnprivileged, ok } from "./helpers";

requireUnprivileged();
const tools = hostHas(
  Bun.which("docker-registry") !== null && Bun.which("skopeo") !== null,
  "image tests: docker-registry and skopeo are not installed (apt-get install docker-registry skopeo)",
);

let root = "";
let scratch = "";
beforeAll(() => {
  root = makeStore();
  scratch = mkdtempSync(join(tmpdir(), "hull-images-"));
});
afterAll(() => {
  removeStore(root);
  rmSync(scratch, { recursive: true, force: true });
});

const h = (...args: string[]) => hull(args, { root });

describe("tag, rmi, prune, inspect, history", () => {
  test("tag gives a second name; rmi of one name only untags; of the last it deletes", () => {
    ok(h("run", "--rm", "busybox", "true"));
    ok(h("tag", "busybox", "mine/box:1"));
    expect(ok(h("images"))).toContain("mine/box");
    expect(ok(h("rmi", "mine/box:1")).trim()).toBe("Untagged: mine/box:1");
    ok(h("tag", "busybox", "mine/box:2"));
    const id = JSON.parse(ok(h("image", "inspect", "busybox")))[0].Id as string;
    const byId = h("rmi", id.slice(7, 19));
    expect(byId.code).toBe(1); // docker's status for a refused removal
    expect(byId.stderr).toContain("referenced by 2 tags");
    const out = ok(h("rmi", "busybox", "mine/box:2"));
    expect(out).toContain("Untagged: busybox:latest");
    expect(out).toContain(`Deleted: ${id}`);
    expect(readdirSync(join(root, "layers"))).toEqual([]);
    expect(readdirSync(join(root, "blobs", "sha256"))).toEqual([]);
  });

  test("rmi is refused while a container uses the image, unless -f", () => {
    ok(h("run", "busybox", "true")); // no --rm: the container stays
    const r = h("rmi", "busybox");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("is used by container");
    expect(ok(h("rmi", "-f", "busybox")).trim()).toBe("Untagged: busybox:latest");
    // the container still has its layers
    expect(readdirSync(join(root, "layers")).length).toBe(1);
    ok(h("unshare", "rm", "-rf", join(root, "containers")));
    expect(ok(h("image", "prune", "-a", "-f"))).toContain("Deleted:");
    expect(readdirSync(join(root, "layers"))).toEqual([]);
  });

  test("inspect and history in Docker's shape", () => {
    ok(h("run", "--rm", "busybox", "true"));
    const [info] = JSON.parse(ok(h("image", "inspect", "busybox")));
    expect(info.RepoTags).toEqual(["busybox:latest"]);
    expect(info.Config.Cmd).toEqual(["sh"]);
    expect(info.RootFS.Layers).toHaveLength(1);
    const hist = ok(h("history", "busybox")).split("\n");
    expect(hist[0]).toMatch(/^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT/);
    expect(hist[1]).toContain(info.Id.slice(7, 19));
    expect(hist[1]).toContain("busybox-static");
    // docker's: a name not found is a line of its own, exit 1
    const missing = h("image", "inspect", "nope");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("no such image: nope");
  });
});

describe("save, load, import", () => {
  test("save writes an archive skopeo reads both ways; load brings it back", () => {
    ok(h("run", "--rm", "busybox", "true"));
    ok(h("tag", "busybox", "saved/box:7"));
    const archive = join(scratch, "box.tar");
    ok(h("save", "-o", archive, "saved/box:7"));
    // skopeo finds the image by the tag hull wrote into manifest.json, and not by another
    const docker = Bun.spawnSync(["skopeo", "inspect", `docker-archive:${archive}:saved/box:7`], { stderr: "pipe" });
    expect(docker.exitCode).toBe(0);
    expect(JSON.parse(docker.stdout.toString()).Name).toBe("docker.io/saved/box");
    expect(
      Bun.spawnSync(["skopeo", "inspect", `docker-archive:${archive}:saved/box:8`], { stderr: "pipe" }).exitCode,
    ).not.toBe(0);
    const ociDir = join(scratch, "oci");
    mkdirSync(ociDir);
    Bun.spawnSync(["tar", "-xf", archive, "-C", ociDir]);
    const oci = Bun.spawnSync(["skopeo", "inspect", `oci:${ociDir}`], { stderr: "pipe" });
    expect(oci.exitCode).toBe(0);
    const fresh = makeStore();
    try {
      expect(ok(hull(["load", "-i", archive], { root: fresh })).trim()).toBe("Loaded image: saved/box:7");
      expect(ok(hull(["run", "--rm", "saved/box:7", "echo", "loaded"], { root: fresh }))).toBe("loaded\n");
    } finally {
      removeStore(fresh);
    }
  });

  test("import makes a one-layer image from a root filesystem tarball", () => {
    const tarball = join(scratch, "rootfs.tar.gz");
    const src = join(scratch, "rootfs");
    mkdirSync(join(src, "bin"), { recursive: true });
    Bun.spawnSync(["cp", "/bin/busybox", join(src, "bin/busybox")]);
    writeFileSync(join(src, "hello"), "imported\n");
    Bun.spawnSync(["tar", "-czf", tarball, "-C", src, "."]);
    const id = ok(h("import", tarball, "imp/root:1")).trim();
    expect(id).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(ok(h("run", "--rm", "imp/root:1", "/bin/busybox", "cat", "/hello"))).toBe("imported\n");
  });

  // a layer of 1 MiB or more is decompressed and hashed by a worker thread, a smaller one in line:
  // both must refuse content that is not what the config's diff id names
  test("load checks every layer against its diff id, small and large (the worker's), leaving nothing", () => {
    for (const [kind, bytes] of [
      ["small", 4096],
      ["large", 3 * 1024 * 1024],
    ] as const) {
      const src = join(scratch, `diff-${kind}`);
      mkdirSync(src);
      writeFileSync(join(src, "data"), crypto.getRandomValues(new Uint8Array(bytes)));
      const layerTar = Bun.spawnSync(["tar", "-c", "-C", src, "."]).stdout;
      const layerGz = Bun.gzipSync(new Uint8Array(layerTar));
      const realDiff = `sha256:${new Bun.CryptoHasher("sha256").update(layerTar).digest("hex")}`;
      for (const diff of [`sha256:${"0".repeat(64)}`, realDiff]) {
        const config = JSON.stringify({
          architecture: "amd64",
          os: "linux",
          rootfs: { type: "layers", diff_ids: [diff] },
        });
        const dir = join(scratch, `archive-${kind}-${diff.slice(7, 12)}`);
        mkdirSync(dir);
        writeFileSync(join(dir, "config.json"), config);
        writeFileSync(join(dir, "layer.tar.gz"), layerGz);
        const tag = `diff/${kind}:${diff === realDiff ? "good" : "bad"}`;
        writeFileSync(
          join(dir, "manifest.json"),
          JSON.stringify([{ Config: "config.json", RepoTags: [tag], Layers: ["layer.tar.gz"] }]),
        );
        const archive = `${dir}.tar`;
        expect(Bun.spawnSync(["tar", "-cf", archive, "-C", dir, "."]).exitCode).toBe(0);
        const r = h("load", "-i", archive);
        if (diff === realDiff) {
          expect(r.code).toBe(0);
          // no shell in this image: the file comes out with cp
          const cid = ok(h("create", tag, "none")).trim();
          ok(h("cp", `${cid}:/data`, join(scratch, `out-${kind}`)));
          ok(h("rm", cid));
          expect(Bun.file(join(scratch, `out-${kind}`)).size).toBe(bytes);
          expect(Buffer.compare(readFileSync(join(scratch, `out-${kind}`)), readFileSync(join(src, "data")))).toBe(0);
        } else {
          expect(r.code).toBe(125);
          expect(r.stderr).toContain(`content of ${diff} hashes to ${realDiff}`);
          expect(h("image", "inspect", tag).code).toBe(1);
        }
        expect(readdirSync(join(root, "tmp"))).toEqual([]);
      }
    }
  });

  test("load refuses what is not an image archive, leaving nothing behind", () => {
    const junk = join(scratch, "junk.tar");
    const src = join(scratch, "junk");
    mkdirSync(src);
    writeFileSync(join(src, "x"), "x");
    Bun.spawnSync(["tar", "-cf", junk, "-C", src, "."]);
    const r = h("load", "-i", junk);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain("neither a Docker archive");
    expect(readdirSync(join(root, "tmp"))).toEqual([]);
  });
});

describe.if(tools)("registry accounts and search", () => {
  let registry: RegistryFixture;
  beforeAll(async () => {
    registry = await startRegistry({ htpasswd: { user: "bob", password: "pw" } });
  });
  afterAll(async () => {
    await registry.stop();
  });

  test("login checks the credentials, keeps them 0600, and pull uses them; logout forgets", async () => {
    const authFile = join(scratch, "auth.json");
    const env = { HULL_AUTH_FILE: authFile };
    const layout = await buildLayout({ layers: [busyboxLayer(), [file("secret", "s\n")]] });
    push(layout, `${registry.host}/team/app:1`, { creds: "bob:pw" });
    const wrong = await hullAsync(["login", "-u", "bob", "-p", "nope", registry.host], { root, env });
    expect(wrong.code).toBe(125);
    expect(wrong.stderr).toContain("refused");
    expect(existsSync(authFile)).toBe(false);
    ok(await hullAsync(["login", "-u", "bob", "-p", "pw", registry.host], { root, env }));
    expect(statSync(authFile).mode & 0o777).toBe(0o600);
    expect(ok(await hullAsync(["run", "--rm", `${registry.host}/team/app:1`, "cat", "/secret"], { root, env }))).toBe(
      "s\n",
    );
    expect(skopeoInspect(`${registry.host}/team/app:1`, { creds: "bob:pw" }).Digest).toBe(layout.manifestDigest);
    ok(await hullAsync(["logout", registry.host], { root, env }));
    const after = await hullAsync(["pull", `${registry.host}/team/app:1`], { root, env });
    expect(after.code).toBe(125);
    layout.cleanup();
  });

  test("search lists the catalog's matches", async () => {
    const env = { HULL_AUTH_FILE: join(scratch, "auth2.json") };
    ok(await hullAsync(["login", "-u", "bob", "-p", "pw", registry.host], { root, env }));
    const layout = await buildLayout({ layers: [busyboxLayer()] });
    push(layout, `${registry.host}/team/findme:1`, { creds: "bob:pw" });
    const out = ok(await hullAsync(["search", `${registry.host}/find`], { root, env }));
    expect(out.trim().split("\n")).toEqual(["NAME", `${registry.host}/team/findme`]);
    layout.cleanup();
  });
});

test("hull unshare runs a command as root in the user namespace", () => {
  expect(ok(hull(["unshare", "id", "-u"], { root })).trim()).toBe("0");
  expect(HULL).toBeTruthy();
});

test("search shows a registry's names with their control characters escaped: no escape sequence, no fake row", async () => {
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const url = new URL(req.url);
      if (url.pathname === "/v2/_catalog")
        return Response.json({ repositories: ["xa\u001b]0;PWNED\u0007b", "xline\nfake/row"] });
      return Response.json({});
    },
  });
  try {
    const out = ok(await hullAsync(["search", `127.0.0.1:${server.port}/x`], { root }));
    expect(out.trim().split("\n")).toEqual([
      "NAME",
      `127.0.0.1:${server.port}/xa\\x1b]0;PWNED\\x07b`,
      `127.0.0.1:${server.port}/xline\\x0afake/row`,
    ]);
  } finally {
    server.stop(true);
  }
});

test("load of an archive whose tag is no name stores nothing: no untagged image is left", () => {
  ok(h("run", "--rm", "busybox", "true"));
  const before = ok(h("images", "-q", "-a"));
  const archive = join(scratch, "badtag.tar");
  const work = join(scratch, "badtag");
  ok(h("save", "-o", archive, "busybox"));
  mkdirSync(work);
  expect(Bun.spawnSync(["tar", "-xf", archive, "-C", work]).exitCode).toBe(0);
  const manifest = JSON.parse(readFileSync(join(work, "manifest.json"), "utf8"));
  // another config (a label), so the image would be new
  const config = JSON.parse(readFileSync(join(work, manifest[0].Config), "utf8"));
  config.config.Labels = { fresh: "1" };
  writeFileSync(join(work, "other.json"), JSON.stringify(config));
  manifest[0].Config = "other.json";
  manifest[0].RepoTags = ["bad\u001b:tag"];
  writeFileSync(join(work, "manifest.json"), JSON.stringify(manifest));
  const bad = join(scratch, "badtag-2.tar");
  expect(Bun.spawnSync(["tar", "-cf", bad, "-C", work, "."]).exitCode).toBe(0);
  const r = h("load", "-i", bad);
  expect(r.code).toBe(125);
  expect(r.stderr).toContain("invalid image reference");
  expect(ok(h("images", "-q", "-a"))).toBe(before);
  expect(readdirSync(join(root, "tmp"))).toEqual([]);
});
