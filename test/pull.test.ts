// hull pull against a real registry (Debian's docker-registry on 127.0.0.1), with images built here
// from busybox-static and pushed by skopeo; what hull stores is checked against skopeo inspect.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type BuiltImage,
  buildLayout,
  busyboxLayer,
  dir,
  file,
  hardlink,
  type ImageSpec,
  push,
  skopeoInspect,
} from "./fixtures/oci";
import { forward, type RegistryFixture, startRegistry, startTokenServer } from "./fixtures/registry";
import {
  containersLeft,
  HULL,
  hostHas,
  hull,
  hullAsync,
  hullOnTerminal,
  makeStore,
  removeStore,
  requireUnprivileged,
  shimProcesses,
  ok,
  userProcesses,
} from "./helpers";

requireUnprivileged();
const tools = hostHas(
  Bun.which("docker-registry") !== null && Bun.which("skopeo") !== null,
  "registry tests: docker-registry and skopeo are not installed (apt-get install docker-registry skopeo)",
);

let registry: RegistryFixture;
let root = "";
const layouts: BuiltImage[] = [];

async function publish(name: string, ...specs: ImageSpec[]): Promise<BuiltImage> {
  const layout = await buildLayout(...specs);
  layouts.push(layout);
  push(layout, `${registry.host}/${name}`);
  return layout;
}

/** One file NAME of BYTES random bytes (nothing compresses it), as a layer; and the bytes. */
function randomLayer(name: string, bytes: number): [ImageSpec["layers"][number], Uint8Array] {
  const data = crypto.getRandomValues(new Uint8Array(bytes));
  return [[{ header: { name, size: data.length, mode: 0o644 }, body: data }], data];
}

/** WHOLE as a slow registry sends it: 256 KiB every MS, and nothing past END (a body cut short). */
function slowly(whole: Uint8Array, ms: number, end = whole.length): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    async pull(ctl) {
      await Bun.sleep(ms);
      if (at >= end) return ctl.close();
      ctl.enqueue(whole.slice(at, Math.min(end, at + 256 * 1024)));
      at += 256 * 1024;
    },
  });
}

beforeAll(async () => {
  if (!tools) return;
  registry = await startRegistry();
  root = makeStore();
});

afterAll(async () => {
  if (!tools) return;
  await registry.stop();
  removeStore(root);
  for (const l of layouts) l.cleanup();
});

describe.if(tools)("hull pull", () => {
  test("on a terminal, a live line per layer: bytes, rate, and when done the time it took", async () => {
    await publish("test/tty:1", { layers: [busyboxLayer()] });
    const ttyRoot = makeStore();
    const plainRoot = makeStore();
    try {
      const r = hullOnTerminal(`${HULL} pull ${registry.host}/test/tty:1`, ttyRoot);
      expect(r.code).toBe(0);
      // the layer's line redrawn in place, ending with its total
      expect(r.stdout).toContain("\x1b[2K");
      expect(r.stdout).toMatch(/[0-9a-f]{12}: done \d+\.\d MB in \d+\.\ds \(\d+\.\d MB\/s\)/);
      // not on a terminal: plain lines a log can keep
      const plain = hull(["pull", `${registry.host}/test/tty:1`], { root: plainRoot });
      expect(plain.stderr).toMatch(/[0-9a-f]{12}: downloaded \d+ bytes/);
      expect(plain.stderr).not.toContain("\x1b[");
    } finally {
      removeStore(ttyRoot);
      removeStore(plainRoot);
    }
  });

  test("registries.search: a short name is looked for in each registry in turn, here and at pull", async () => {
    await publish("team/searched:1", { layers: [busyboxLayer()] });
    const cfgDir = mkdtempSync(join(tmpdir(), "hull-search-"));
    const config = join(cfgDir, "config.toml");
    // nothing listens on 127.0.0.1:9: the first registry fails, the second has it
    writeFileSync(config, `[registries]\nsearch = ["127.0.0.1:9", "${registry.host}"]\n`);
    const env = { HULL_CONFIG: config };
    try {
      const r = hull(["pull", "team/searched:1"], { root, env });
      expect(r.code).toBe(0);
      expect(r.stderr).toContain("Trying to pull 127.0.0.1:9/team/searched:1...");
      expect(r.stderr).toContain(`Trying to pull ${registry.host}/team/searched:1...`);
      expect(ok(hull(["images"], { root }))).toContain(`${registry.host}/team/searched   1`);
      // images NAME: the short name lists it, as podman does; without the search list it does not
      expect(ok(hull(["images", "--format", "{{.Repository}}", "team/searched"], { root, env })).trim()).toBe(
        `${registry.host}/team/searched`,
      );
      expect(ok(hull(["images", "-q", "team/searched"], { root }))).toBe("");
      // here: the short name finds it without a registry asked
      expect(ok(hull(["run", "--rm", "--pull", "never", "team/searched:1", "echo", "found"], { root, env }))).toBe(
        "found\n",
      );
      expect(ok(hull(["rmi", "team/searched:1"], { root, env }))).toContain(
        `Untagged: ${registry.host}/team/searched:1`,
      );
      const none = hull(["pull", "team/nowhere:1"], { root, env });
      expect(none.code).not.toBe(0);
      expect(none.stderr).toContain("team/nowhere:1 is in none of the registries of registries.search");
      expect(none.stderr).toContain(`${registry.host}/team/nowhere:1:`);
      // a name with its registry is only that registry's
      expect(hull(["pull", "127.0.0.1:9/team/searched:1"], { root, env }).stderr).not.toContain("Trying to pull");
      // a short name of hex letters is a name too, never sent past the list to docker.io
      const hex = hull(["pull", "cafe:1"], { root, env });
      expect(hex.stderr).toContain("Trying to pull 127.0.0.1:9/cafe:1...");
      expect(hex.stderr).toContain(`Trying to pull ${registry.host}/cafe:1...`);
      writeFileSync(config, `[registries]\nsearch = ["registry"]\n`);
      expect(hull(["pull", "team/searched:1"], { root, env }).stderr).toContain("with a dot or a port");
      writeFileSync(config, `[registries]\nsearch = ["not a host"]\n`);
      expect(hull(["pull", "team/searched:1"], { root, env }).stderr).toContain(
        "registries.search.0: a registry is host[:port]",
      );
    } finally {
      rmSync(cfgDir, { recursive: true, force: true });
    }
  });

  test("a one-layer image: stored as skopeo sees it, listed, and run", async () => {
    const layout = await publish("test/one:1", { layers: [busyboxLayer()] });
    const ref = `${registry.host}/test/one:1`;
    const id = ok(hull(["pull", "-q", ref], { root })).trim();
    expect(id).toBe(layout.configDigest);
    const seen = skopeoInspect(ref);
    expect(seen.Digest).toBe(layout.manifestDigest);
    const record = JSON.parse(await Bun.file(join(root, "images", `${id.slice(7)}.json`)).text());
    expect(record.manifestDigest).toBe(seen.Digest);
    expect(record.layers.map((l: { digest: string }) => l.digest)).toEqual(seen.Layers);
    expect(ok(hull(["images"], { root }))).toContain(`${registry.host}/test/one   1`);
    expect(ok(hull(["run", "--rm", ref, "echo", "from-registry"], { root }))).toBe("from-registry\n");
  });

  test("ownership, setuid bits and hard links survive, as the image's ids inside the container", async () => {
    await publish("test/owners:1", {
      layers: [
        [
          ...busyboxLayer(),
          dir("home/", 0o755),
          dir("home/user/", 0o750, 1000, 1000),
          file("home/user/note", "mine\n", { uid: 1000, gid: 1000, mode: 0o600 }),
          file("srv/nobody", "n\n", { uid: 65534, gid: 65534 }),
          file("bin/suid", "#!/bin/sh\n", { mode: 0o4755 }),
          hardlink("bin/suid-link", "bin/suid"),
        ],
      ],
    });
    const out = ok(
      hull(
        [
          "run",
          "--rm",
          `${registry.host}/test/owners:1`,
          "sh",
          "-c",
          "stat -c '%u:%g %a %n' /home/user /home/user/note /srv/nobody /bin/suid; stat -c %i /bin/suid /bin/suid-link",
        ],
        { root },
      ),
    );
    const lines = out.trim().split("\n");
    expect(lines.slice(0, 4)).toEqual([
      "1000:1000 750 /home/user",
      "1000:1000 600 /home/user/note",
      "65534:65534 644 /srv/nobody",
      "0:0 4755 /bin/suid",
    ]);
    expect(lines[4]).toBe(lines[5]);
  });

  for (const overlay of ["kernel", "fuse"]) {
    test(`whiteouts and opaque directories hide lower content (${overlay} overlay)`, async () => {
      if (overlay === "fuse" && !existsSync("/usr/bin/fuse-overlayfs")) return;
      await publish("test/whiteout:1", {
        layers: [
          [
            ...busyboxLayer(),
            file("etc/gone", "x\n"),
            file("etc/kept", "k\n"),
            dir("opt/"),
            dir("opt/d/"),
            file("opt/d/old", "o\n"),
          ],
          [file("etc/.wh.gone", ""), dir("opt/d/"), file("opt/d/.wh..wh..opq", ""), file("opt/d/new", "n\n")],
        ],
      });
      const out = ok(
        hull(["run", "--rm", `${registry.host}/test/whiteout:1`, "sh", "-c", "ls /etc; echo --; ls /opt/d"], {
          root,
          env: { HULL_OVERLAY: overlay },
        }),
      );
      const [etc, opt] = out.split("--\n");
      expect(etc?.split("\n")).toContain("kept");
      expect(etc?.split("\n")).not.toContain("gone");
      expect(opt?.trim()).toBe("new");
    });
  }

  test("a layer shared with an image already pulled is neither downloaded nor unpacked again", async () => {
    const base = busyboxLayer();
    await publish("test/base:1", { layers: [base] });
    await publish("test/derived:1", { layers: [base, [file("extra", "e\n")]] });
    ok(hull(["pull", `${registry.host}/test/base:1`], { root }));
    const layersBefore = readdirSync(join(root, "layers")).length;
    const r = hull(["pull", `${registry.host}/test/derived:1`], { root });
    expect(r.stderr).toContain("2 layers, 1 to download");
    expect(readdirSync(join(root, "layers")).length).toBe(layersBefore + 1);
  });

  test("by digest, and zstd and uncompressed layers", async () => {
    const z = await publish("test/zstd:1", { layers: [busyboxLayer(), [file("z", "zstd\n")]], compression: "zstd" });
    const n = await publish("test/plain:1", { layers: [busyboxLayer(), [file("p", "plain\n")]], compression: "none" });
    expect(ok(hull(["run", "--rm", `${registry.host}/test/zstd@${z.manifestDigest}`, "cat", "/z"], { root }))).toBe(
      "zstd\n",
    );
    expect(ok(hull(["run", "--rm", `${registry.host}/test/plain:1`, "cat", "/p"], { root }))).toBe("plain\n");
    expect(n.manifestDigest).toMatch(/^sha256:/);
  });

  test("a multi-platform index: the host's platform by default, another with --platform", async () => {
    await publish(
      "test/multi:1",
      { layers: [[...busyboxLayer(), file("arch", "amd64\n")]], architecture: "amd64" },
      { layers: [[...busyboxLayer(), file("arch", "arm64\n")]], architecture: "arm64" },
    );
    const ref = `${registry.host}/test/multi:1`;
    expect(ok(hull(["run", "--rm", ref, "cat", "/arch"], { root }))).toBe("amd64\n");
    const armId = ok(hull(["pull", "-q", "--platform", "linux/arm64", ref], { root })).trim();
    expect(armId).toMatch(/^sha256:/);
    const r = hull(["pull", "--platform", "linux/s390x", ref], { root });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("no image for linux/s390x");
    expect(r.stderr).toContain("linux/amd64");
  });

  test("Docker schema 2 manifests and manifest lists (converted by skopeo)", async () => {
    const single = await buildLayout({ layers: [busyboxLayer(), [file("fmt", "docker\n")]] });
    const multi = await buildLayout(
      { layers: [[...busyboxLayer(), file("arch", "amd64-v2s2\n")]], architecture: "amd64" },
      { layers: [[...busyboxLayer(), file("arch", "arm64-v2s2\n")]], architecture: "arm64" },
    );
    layouts.push(single, multi);
    push(single, `${registry.host}/test/docker:1`, { docker: true });
    push(multi, `${registry.host}/test/dockerlist:1`, { docker: true });
    const raw = Bun.spawnSync([
      "skopeo",
      "inspect",
      "--raw",
      "--tls-verify=false",
      `docker://${registry.host}/test/docker:1`,
    ]);
    expect(JSON.parse(raw.stdout.toString()).mediaType).toBe("application/vnd.docker.distribution.manifest.v2+json");
    expect(ok(hull(["run", "--rm", `${registry.host}/test/docker:1`, "cat", "/fmt"], { root }))).toBe("docker\n");
    const rawList = Bun.spawnSync([
      "skopeo",
      "inspect",
      "--raw",
      "--tls-verify=false",
      `docker://${registry.host}/test/dockerlist:1`,
    ]);
    expect(JSON.parse(rawList.stdout.toString()).mediaType).toBe(
      "application/vnd.docker.distribution.manifest.list.v2+json",
    );
    expect(ok(hull(["run", "--rm", `${registry.host}/test/dockerlist:1`, "cat", "/arch"], { root }))).toBe(
      "amd64-v2s2\n",
    );
  });

  test("a pull that fails on one layer keeps the others, and the next pull fetches only that one", async () => {
    const layout = await publish("test/flaky:1", { layers: [busyboxLayer(), [file("a", "1\n")], [file("b", "2\n")]] });
    const broken = layout.layerDigests[2] as string;
    let fail = true;
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req): Promise<Response> {
        const url = new URL(req.url);
        if (fail && url.pathname.endsWith(`/blobs/${broken}`)) return new Response("down", { status: 503 });
        return forward(req, registry.host);
      },
    });
    const fresh = makeStore();
    try {
      const first = await hullAsync(["pull", `127.0.0.1:${server.port}/test/flaky:1`], { root: fresh });
      expect(first.code).toBe(125);
      expect(first.stderr).toContain("503");
      expect(existsSync(join(fresh, "blobs", "sha256", broken.slice(7)))).toBe(false);
      expect(readdirSync(join(fresh, "tmp"))).toEqual([]);
      fail = false;
      const second = await hullAsync(["pull", `127.0.0.1:${server.port}/test/flaky:1`], { root: fresh });
      expect(second.code).toBe(0);
      expect(second.stderr).toContain("3 layers, 1 to download");
    } finally {
      server.stop(true);
      removeStore(fresh);
    }
  });

  // a layer of 1 MiB or more is unpacked while it downloads: the unpacker follows the blob's temp file
  test("a large layer unpacks while it downloads, slowly; a download cut short stops both, leaving nothing", async () => {
    const [layer, data] = randomLayer("data", 3 * 1024 * 1024);
    await publish("test/big:1", { layers: [busyboxLayer(), layer] });
    const big = skopeoInspect(`${registry.host}/test/big:1`).Layers[1] as string;
    let cut = true;
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req): Promise<Response> {
        const url = new URL(req.url);
        if (req.method !== "GET" || !url.pathname.endsWith(`/blobs/${big}`)) return forward(req, registry.host);
        const whole = new Uint8Array(await (await forward(req, registry.host)).arrayBuffer());
        // cut: the body ends after 2 MiB
        return new Response(slowly(whole, 20, cut ? 2 * 1024 * 1024 : whole.length));
      },
    });
    const fresh = makeStore();
    try {
      const ref = `127.0.0.1:${server.port}/test/big:1`;
      const first = await hullAsync(["pull", ref], { root: fresh });
      expect(first.code).toBe(125);
      // the download's own error, not the unpacker's
      expect(first.stderr).toContain(`content of ${big} hashes to`);
      expect(existsSync(join(fresh, "blobs", "sha256", big.slice(7)))).toBe(false);
      expect(readdirSync(join(fresh, "tmp"))).toEqual([]);
      expect(readdirSync(join(fresh, "layers")).length).toBeLessThanOrEqual(1);
      // no unpacker left waiting for the rest of the blob
      expect(userProcesses((n) => n === "hull")).toEqual([]);
      cut = false;
      expect((await hullAsync(["pull", ref], { root: fresh })).code).toBe(0);
      const sum = ok(hull(["run", "--rm", ref, "busybox", "sha256sum", "/data"], { root: fresh })).split(" ")[0];
      expect(sum).toBe(new Bun.CryptoHasher("sha256").update(data).digest("hex"));
      expect(readdirSync(join(fresh, "tmp"))).toEqual([]);
    } finally {
      server.stop(true);
      removeStore(fresh);
    }
  });

  test("a layer that fails while a large one still downloads: hull waits for it, and leaves no temp file", async () => {
    await publish("test/mixed:1", { layers: [randomLayer("data", 3 * 1024 * 1024)[0], [file("small", "s\n")]] });
    const [big, small] = skopeoInspect(`${registry.host}/test/mixed:1`).Layers as [string, string];
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req): Promise<Response> {
        const url = new URL(req.url);
        if (url.pathname.endsWith(`/blobs/${small}`)) {
          // once the large one is well under way
          await Bun.sleep(300);
          // content that is not the digest: no retry, the pull fails at once
          return new Response(Bun.gzipSync(new TextEncoder().encode("forged")));
        }
        if (req.method !== "GET" || !url.pathname.endsWith(`/blobs/${big}`)) return forward(req, registry.host);
        const whole = new Uint8Array(await (await forward(req, registry.host)).arrayBuffer());
        // 256 KiB every 60 ms: the small layer's failure comes long before the end
        return new Response(slowly(whole, 60));
      },
    });
    const fresh = makeStore();
    try {
      const r = await hullAsync(["pull", `127.0.0.1:${server.port}/test/mixed:1`], { root: fresh });
      expect(r.code).toBe(125);
      expect(r.stderr).toContain(`content of ${small} hashes to`);
      expect(readdirSync(join(fresh, "tmp"))).toEqual([]);
      // the large one finished and is kept for the next pull
      expect(existsSync(join(fresh, "blobs", "sha256", big.slice(7)))).toBe(true);
      expect(userProcesses((n) => n === "hull")).toEqual([]);
    } finally {
      server.stop(true);
      removeStore(fresh);
    }
  });

  test("a connection that breaks in the middle of a blob is one line naming the blob and the registry", async () => {
    await publish("test/reset:1", { layers: [randomLayer("d", 2 * 1024 * 1024)[0]] });
    const [blob] = skopeoInspect(`${registry.host}/test/reset:1`).Layers as [string];
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req): Promise<Response> {
        const url = new URL(req.url);
        if (req.method !== "GET" || !url.pathname.endsWith(`/blobs/${blob}`)) return forward(req, registry.host);
        const whole = new Uint8Array(await (await forward(req, registry.host)).arrayBuffer());
        let sent = false;
        const body = new ReadableStream<Uint8Array>({
          pull(ctl) {
            if (sent) return ctl.error(new Error("reset by the test"));
            sent = true;
            ctl.enqueue(whole.slice(0, 512 * 1024));
          },
        });
        return new Response(body, { headers: { "content-length": String(whole.length) } });
      },
      error: () => new Response("", { status: 500 }),
    });
    const fresh = makeStore();
    try {
      const r = await hullAsync(["pull", `127.0.0.1:${server.port}/test/reset:1`], { root: fresh });
      expect(r.code).toBe(125);
      const last = r.stderr.trim().split("\n").at(-1) ?? "";
      expect(last).toStartWith(`hull: blob ${blob} from 127.0.0.1:${server.port}: `);
      expect(last).not.toContain("verbose");
      expect(readdirSync(join(fresh, "tmp"))).toEqual([]);
    } finally {
      server.stop(true);
      removeStore(fresh);
    }
  });

  test("two pulls of the same image at once leave one consistent store", async () => {
    await publish("test/race:1", { layers: [busyboxLayer(), [file("r1", "1\n")], [file("r2", "2\n")]] });
    const fresh = makeStore();
    try {
      const start = () =>
        Bun.spawn([HULL, "pull", "-q", `${registry.host}/test/race:1`], {
          env: { ...process.env, HULL_ROOT: fresh },
          stdout: "pipe",
          stderr: "pipe",
        });
      const ps = [start(), start()];
      expect(await Promise.all(ps.map((p) => p.exited))).toEqual([0, 0]);
      expect(readdirSync(join(fresh, "layers"))).toHaveLength(3);
      expect(readdirSync(join(fresh, "tmp"))).toEqual([]);
      expect(ok(hull(["run", "--rm", `${registry.host}/test/race:1`, "cat", "/r1", "/r2"], { root: fresh }))).toBe(
        "1\n2\n",
      );
    } finally {
      removeStore(fresh);
    }
  });

  test("hull run pulls a missing image; --pull never refuses", async () => {
    await publish("test/auto:1", { layers: [busyboxLayer()] });
    const fresh = makeStore();
    try {
      const never = hull(["run", "--rm", "--pull", "never", `${registry.host}/test/auto:1`, "true"], { root: fresh });
      expect(never.code).toBe(125);
      expect(never.stderr).toContain("not found locally");
      expect(ok(hull(["run", "--rm", `${registry.host}/test/auto:1`, "echo", "pulled"], { root: fresh }))).toBe(
        "pulled\n",
      );
    } finally {
      removeStore(fresh);
    }
  });

  test("errors: an unknown image, a malformed name, an unreachable registry", () => {
    const missing = hull(["pull", `${registry.host}/test/nothing:1`], { root });
    expect(missing.code).toBe(125);
    expect(missing.stderr).toContain("not found");
    const bad = hull(["pull", "Bad/Name"], { root });
    expect(bad.code).toBe(125);
    expect(bad.stderr).toContain("lowercase");
    const down = hull(["pull", "127.0.0.1:1/x/y:1"], { root });
    expect(down.code).toBe(125);
    expect(down.stderr).toContain("cannot reach 127.0.0.1:1");
    expect(down.stderr.trim().split("\n")).toHaveLength(1);
  });

  test("device nodes in a layer are skipped, with a note; fifos are kept", async () => {
    await publish("test/devices:1", {
      layers: [
        [
          ...busyboxLayer(),
          { header: { name: "dev/null", type: "character-device", size: 0, mode: 0o666 } },
          { header: { name: "tmp/fifo", type: "fifo", size: 0, mode: 0o600 } },
        ],
      ],
    });
    const r = hull(["pull", `${registry.host}/test/devices:1`], { root });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("1 device node(s) skipped");
    expect(r.stderr).toContain("dev/null");
    expect(ok(hull(["run", "--rm", `${registry.host}/test/devices:1`, "test", "-p", "/tmp/fifo"], { root }))).toBe("");
  });

  test("the image's VOLUME paths become anonymous volumes, filled from the image; its STOPSIGNAL is what stop sends", async () => {
    await publish("test/volumes:1", {
      layers: [[...busyboxLayer(), dir("data/"), file("data/seed", "from image\n")]],
      volumes: ["/data"],
      stopSignal: "SIGHUP",
    });
    const ref = `${registry.host}/test/volumes:1`;
    ok(hull(["run", "--name", "vol1", ref, "sh", "-c", "cat /data/seed; echo more >> /data/seed"], { root }));
    const vols = ok(hull(["volume", "ls", "-q"], { root }))
      .trim()
      .split("\n");
    expect(vols).toHaveLength(1);
    const [info] = JSON.parse(ok(hull(["volume", "inspect", vols[0] as string], { root })));
    expect(info.Anonymous).toBe(true);
    expect(await Bun.file(join(info.Mountpoint, "seed")).text()).toBe("from image\nmore\n");
    ok(hull(["rm", "-v", "vol1"], { root }));
    expect(ok(hull(["volume", "ls", "-q"], { root })).trim()).toBe("");
    // STOPSIGNAL HUP: a shell that traps HUP exits 9 at once, where SIGTERM would need the timeout
    ok(
      hull(["run", "-d", "--name", "sig", ref, "sh", "-c", "trap 'exit 9' HUP; while :; do sleep 0.1; done"], { root }),
    );
    await Bun.sleep(200);
    const t0 = Date.now();
    ok(hull(["stop", "-t", "10", "sig"], { root }));
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(ok(hull(["wait", "sig"], { root })).trim()).toBe("9");
    ok(hull(["rm", "sig"], { root }));
  });

  test("images -q and --format json", () => {
    const ids = ok(hull(["images", "-q"], { root }))
      .trim()
      .split("\n");
    expect(ids.every((i) => /^[a-f0-9]{12}$/.test(i))).toBe(true);
    const rows = ok(hull(["images", "--format", "json"], { root }))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const one = rows.find((r) => r.Repository === `${registry.host}/test/one`);
    expect(one).toMatchObject({ Tag: "1" });
    expect(one.ID).toMatch(/^[a-f0-9]{12}$/);
    // docker's rule: whole ids with --no-trunc; a template reads the same fields
    const whole = JSON.parse(
      ok(hull(["images", "--no-trunc", "--format", "{{json .}}", `${registry.host}/test/one:1`], { root })),
    );
    expect(whole.ID.startsWith(`sha256:${one.ID}`)).toBe(true);
    expect(
      ok(hull(["images", "--format", "{{.Repository}}:{{.Tag}}", `${registry.host}/test/one`], { root })).trim(),
    ).toBe(`${registry.host}/test/one:1`);
  });

  test("nothing is left behind", () => {
    expect(containersLeft(root)).toEqual([]);
    expect(shimProcesses()).toEqual([]);
    expect(readdirSync(join(root, "tmp"))).toEqual([]);
  });
});

describe.if(tools)("registries that check who asks", () => {
  test("basic auth: refused without credentials, pulled with them from an auth file", async () => {
    const creds = { user: "alice", password: "s3cret" };
    const secured = await startRegistry({ htpasswd: creds });
    const fresh = makeStore();
    const home = mkdtempSync(join(tmpdir(), "hull-auth-"));
    try {
      const layout = await buildLayout({ layers: [busyboxLayer()] });
      layouts.push(layout);
      push(layout, `${secured.host}/private/app:1`, { creds: `${creds.user}:${creds.password}` });
      const denied = hull(["pull", `${secured.host}/private/app:1`], {
        root: fresh,
        env: { HULL_AUTH_FILE: join(home, "none.json") },
      });
      expect(denied.code).toBe(125);
      expect(denied.stderr).toContain(`hull login ${secured.host}`);
      const authFile = join(home, "auth.json");
      writeFileSync(
        authFile,
        JSON.stringify({ auths: { [secured.host]: { auth: btoa(`${creds.user}:${creds.password}`) } } }),
      );
      const id = ok(
        hull(["pull", "-q", `${secured.host}/private/app:1`], { root: fresh, env: { HULL_AUTH_FILE: authFile } }),
      ).trim();
      expect(id).toBe(layout.configDigest);
      expect(skopeoInspect(`${secured.host}/private/app:1`, { creds: `${creds.user}:${creds.password}` }).Digest).toBe(
        layout.manifestDigest,
      );
    } finally {
      await secured.stop();
      removeStore(fresh);
      rmSync(home, { recursive: true, force: true });
    }
  });

  test("the Bearer token flow: challenge, token from the realm, retry with the token", async () => {
    // the token server in front of the real registry wants the user's credentials
    const layout = await publish("test/token:1", { layers: [busyboxLayer()] });
    const server = startTokenServer(registry.host, "carol", "tok-pw", "pull");
    const { port, scopes } = server;
    const fresh = makeStore();
    const authFile = join(tmpdir(), `hull-token-auth-${process.pid}.json`);
    try {
      const anonymous = await hullAsync(["pull", "-q", `127.0.0.1:${port}/test/token:1`], {
        root: fresh,
        env: { HULL_AUTH_FILE: `${authFile}.none` },
      });
      expect(anonymous.code).toBe(125);
      expect(anonymous.stderr).toContain(`hull login 127.0.0.1:${port}`);
      writeFileSync(authFile, JSON.stringify({ auths: { [`127.0.0.1:${port}`]: { auth: btoa("carol:tok-pw") } } }));
      const id = ok(
        await hullAsync(["pull", "-q", `127.0.0.1:${port}/test/token:1`], {
          root: fresh,
          env: { HULL_AUTH_FILE: authFile },
        }),
      ).trim();
      expect(id).toBe(layout.configDigest);
      expect(scopes.length).toBeGreaterThan(0);
      expect(scopes[0]).toBe("repository:test/token:pull");
    } finally {
      server.stop();
      removeStore(fresh);
      rmSync(authFile, { force: true });
    }
  });

  test("a blob that does not match its digest is refused and nothing of it is stored", async () => {
    const layout = await publish("test/liar:1", { layers: [busyboxLayer(), [file("x", "truth\n")]] });
    const lie = layout.layerDigests[1] as string;
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      async fetch(req) {
        const url = new URL(req.url);
        if (url.pathname.endsWith(`/blobs/${lie}`))
          return new Response(Bun.gzipSync(new TextEncoder().encode("forged")));
        return forward(req, registry.host);
      },
    });
    const fresh = makeStore();
    try {
      const r = await hullAsync(["pull", `127.0.0.1:${server.port}/test/liar:1`], { root: fresh });
      expect(r.code).toBe(125);
      expect(r.stderr).toContain(lie);
      expect(existsSync(join(fresh, "blobs", "sha256", lie.slice(7)))).toBe(false);
      expect(readdirSync(join(fresh, "tmp"))).toEqual([]);
      expect(existsSync(join(fresh, "repositories.json"))).toBe(false);
    } finally {
      server.stop(true);
      removeStore(fresh);
    }
  });
});
