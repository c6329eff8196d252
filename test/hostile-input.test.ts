// Hostile images, layers and Dockerfiles, end to end through the built binary: none may change a
// host file outside the store, hang hull, or exhaust its memory. Each test failed before its fix.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packTar, type TarEntry } from "modern-tar";
import { busyboxLayer, dir, file, link } from "./fixtures/oci";
import { HULL, hull, hullAsync, hullEnv, makeStore, ok, removeStore, requireUnprivileged } from "./helpers";

requireUnprivileged();

let root = "";
let work = "";

beforeAll(() => {
  root = makeStore();
  work = mkdtempSync(join(tmpdir(), "hull-hostile-"));
  ok(hull(["run", "--rm", "busybox", "true"], { root }));
});

afterAll(() => {
  removeStore(root);
  rmSync(work, { recursive: true, force: true });
});

let n = 0;
/** ENTRIES as a rootfs tarball, imported as an image; the import's result. */
async function importTar(entries: TarEntry[], name: string) {
  const path = join(work, `layer-${n++}.tar`);
  writeFileSync(path, await packTar(entries));
  return hull(["import", path, name], { root });
}

describe("layers", () => {
  test("a symlink planted over a directory cannot carry its mode to a host file", async () => {
    const victim = join(work, "victim-rc");
    writeFileSync(victim, "alias ls='ls'\n", { mode: 0o644 });
    await importTar(
      [...busyboxLayer(), { header: { name: "d/", type: "directory", size: 0, mode: 0o4777 } }, link("d", victim)],
      "planted:1",
    );
    expect(statSync(victim).mode & 0o7777).toBe(0o644);
  });

  test("a whiteout of '..' is refused and leaves the store usable", async () => {
    const r = await importTar([...busyboxLayer(), dir("x/"), file("x/.wh...", "")], "wh:1");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("whiteout of no file");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    // the store's tmp/ is still a directory: the next import works
    expect(statSync(join(root, "tmp")).isDirectory()).toBe(true);
    ok(await importTar([...busyboxLayer(), file("ok", "fine\n")], "after:1"));
    expect(ok(hull(["run", "--rm", "after:1", "cat", "/ok"], { root }))).toBe("fine\n");
  });

  test("fifos in a layer are kept", async () => {
    ok(
      await importTar(
        [...busyboxLayer(), dir("run/"), { header: { name: "run/pipe", type: "fifo", size: 0, mode: 0o600 } }],
        "fifo:1",
      ),
    );
    expect(ok(hull(["run", "--rm", "fifo:1", "sh", "-c", "test -p /run/pipe && echo fifo"], { root }))).toBe("fifo\n");
  });
});

describe("the working directory", () => {
  // a compiled Bun program loads .env (and bunfig.toml) from where it is started: hull run in a
  // checkout whose .env sets PATH would start the checkout's "pasta", a HULL_CONFIG its config
  test("a .env where hull starts sets nothing in hull", () => {
    const checkout = mkdtempSync(join(work, "checkout-"));
    writeFileSync(join(checkout, ".env"), "FROM_DOTENV=leaked\nHULL_CONFIG=/nonexistent/hull.toml\n");
    writeFileSync(join(checkout, ".env.local"), "FROM_DOTENV_LOCAL=leaked\n");
    const r = Bun.spawnSync(
      [
        HULL,
        "run",
        "--rm",
        "-e",
        "FROM_DOTENV",
        "-e",
        "FROM_DOTENV_LOCAL",
        "busybox",
        "sh",
        "-c",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: the container's shell expands it
        'echo "${FROM_DOTENV:-unset} ${FROM_DOTENV_LOCAL:-unset}"',
      ],
      { cwd: checkout, env: hullEnv({ root }), stdout: "pipe", stderr: "pipe" },
    );
    expect(r.stderr.toString()).toBe("");
    expect(r.stdout.toString()).toBe("unset unset\n");
    const info = Bun.spawnSync([HULL, "info"], {
      cwd: checkout,
      env: hullEnv({ root }),
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(info.stdout.toString()).not.toContain("/nonexistent/hull.toml");
  });
});

describe("volume names", () => {
  test("a volume name with ../ names no directory outside the store", () => {
    const outside = join(work, "vdir");
    const { mkdirSync } = require("node:fs") as typeof import("node:fs");
    mkdirSync(outside, { recursive: true });
    writeFileSync(join(outside, "volume.json"), "{}");
    const rel = `../../../../../../../..${outside}`;
    for (const args of [
      ["volume", "rm", rel],
      ["volume", "inspect", rel],
    ]) {
      const r = hull(args, { root });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain("no such volume");
    }
    expect(existsSync(join(outside, "volume.json"))).toBe(true);
  });
});

describe("archives hull loads", () => {
  test("a Docker archive whose manifest.json names files outside it, or links out, stores no host file", async () => {
    const secret = join(work, "secret");
    writeFileSync(secret, "the user's private key\n");
    const secretDigest = new Bun.CryptoHasher("sha256").update("the user's private key\n").digest("hex");
    const cases: Record<string, TarEntry[]> = {
      traversal: [file("manifest.json", JSON.stringify([{ Config: `../../../../../../../..${secret}`, Layers: [] }]))],
      absolute: [file("manifest.json", JSON.stringify([{ Config: "c.json", Layers: [secret] }]))],
      "linked-blob": [
        file("manifest.json", JSON.stringify([{ Config: "c.json", Layers: ["layer.tar"] }])),
        file("c.json", "{}"),
        link("layer.tar", secret),
      ],
      "linked-dir": [file("manifest.json", JSON.stringify([{ Config: "d/c.json", Layers: [] }])), link("d", work)],
      "not-a-manifest": [file("manifest.json", JSON.stringify({ Config: 1 }))],
    };
    for (const [name, entries] of Object.entries(cases)) {
      const tar = join(work, `archive-${name}.tar`);
      writeFileSync(tar, await packTar(entries));
      const r = hull(["load", "-i", tar], { root });
      expect(r.code, name).toBe(125);
      expect(r.stderr.trim().split("\n"), name).toHaveLength(1);
      expect(existsSync(join(root, "blobs", "sha256", secretDigest)), name).toBe(false);
    }
  });
});

describe("damaged records and bad imports", () => {
  test("import refuses a text file, random bytes and a truncated tar, and makes no image", async () => {
    const images = ok(hull(["images", "-q"], { root }));
    const text = join(work, "notes.txt");
    writeFileSync(text, "just some text\n");
    const random = join(work, "random.bin");
    writeFileSync(random, crypto.getRandomValues(new Uint8Array(4096)));
    const whole = await packTar([...busyboxLayer()]);
    const truncated = join(work, "truncated.tar");
    writeFileSync(truncated, whole.subarray(0, Math.floor(whole.length / 2)));
    const gzTruncated = join(work, "truncated.tar.gz");
    writeFileSync(gzTruncated, Bun.gzipSync(whole).subarray(0, 3000));
    for (const [f, says] of [
      [text, "is not a tar archive"],
      [random, "is not a tar archive"],
      [truncated, "truncated"],
      [gzTruncated, "broken"],
    ] as const) {
      const r = hull(["import", f, "bad:1"], { root });
      expect(r.code, f).toBe(125);
      expect(r.stderr, f).toContain(says);
      expect(r.stderr.trim().split("\n"), f).toHaveLength(1);
    }
    expect(ok(hull(["images", "-q"], { root }))).toBe(images);
  });

  test("one damaged image record or tag index is named, and the rest of the store still works", async () => {
    const store = makeStore();
    try {
      ok(hull(["run", "--rm", "busybox", "true"], { root: store }));
      const tar = join(work, "other.tar");
      writeFileSync(tar, await packTar([...busyboxLayer(), file("other", "o\n")]));
      const id = ok(hull(["import", tar, "other:1"], { root: store })).trim();
      writeFileSync(join(store, "images", `${id.slice(7)}.json`), "{ damaged");
      const list = hull(["images"], { root: store });
      expect(list.code).toBe(0);
      expect(list.stdout).toContain("busybox");
      expect(list.stderr).toContain(`${id.slice(7)}.json is damaged (not JSON): run hull system check --repair`);
      ok(hull(["run", "--rm", "busybox", "true"], { root: store }));
      writeFileSync(join(store, "repositories.json"), "[garbage");
      const noTags = hull(["images"], { root: store });
      expect(noTags.code).toBe(0);
      expect(noTags.stderr).toContain("repositories.json is damaged");
      const tag = hull(["tag", "busybox", "x:1"], { root: store });
      expect(tag.code).toBe(125);
      expect(tag.stderr).toContain("run hull system check --repair");
      ok(hull(["system", "check", "--repair"], { root: store }));
      expect(ok(hull(["run", "--rm", "busybox", "echo", "again"], { root: store }))).toBe("again\n");
    } finally {
      removeStore(store);
    }
  });

  test("a container with a damaged record is named by ps, and rm -f removes it and frees its name", () => {
    const store = makeStore();
    try {
      ok(hull(["create", "--name", "broken", "busybox", "true"], { root: store }));
      const id = ok(hull(["ps", "-aq"], { root: store })).trim();
      const full = JSON.parse(ok(hull(["container", "inspect", "broken"], { root: store })))[0].Id as string;
      writeFileSync(join(store, "containers", full, "container.json"), "\u0000\u0001");
      const ps = hull(["ps", "-a"], { root: store });
      expect(ps.code).toBe(0);
      expect(ps.stderr).toContain(`container ${id} has a damaged record: hull rm -f ${id} removes it`);
      expect(hull(["rm", "broken"], { root: store }).stderr).toContain("hull rm -f");
      ok(hull(["rm", "-f", "broken"], { root: store }));
      ok(hull(["create", "--name", "broken", "busybox", "true"], { root: store }));
      expect(ok(hull(["system", "check"], { root: store }))).toContain("the store is consistent");
    } finally {
      removeStore(store);
    }
  });
});

describe("files hull reads from an image on the host", () => {
  test("/etc/passwd -> /dev/zero: -u NAME fails at once instead of reading forever", async () => {
    const base = busyboxLayer().filter((e) => e.header.name !== "etc/passwd");
    ok(await importTar([...base, link("etc/passwd", "/dev/zero")], "zero:1"));
    const started = Date.now();
    const r = hull(["run", "--rm", "-u", "someone", "zero:1", "true"], { root });
    expect(r.code).toBe(125);
    expect(r.stderr).toContain("unable to find user someone");
    expect(Date.now() - started).toBeLessThan(10000);
  });

  test("/etc/passwd as a link to a host file is read inside the image, not on the host", async () => {
    const hostPasswd = join(work, "host-passwd");
    writeFileSync(hostPasswd, "intruder:x:4242:4242::/:/bin/sh\n");
    const base = busyboxLayer().filter((e) => e.header.name !== "etc/passwd");
    ok(await importTar([...base, link("etc/passwd", hostPasswd)], "hostlink:1"));
    const r = hull(["run", "--rm", "-u", "intruder", "hostlink:1", "id", "-u"], { root });
    expect(r.code).toBe(125);
    expect(r.stderr).toContain("unable to find user intruder");
  });

  test("a fifo at /etc/passwd does not hang hull exec -u", async () => {
    ok(
      hull(
        ["run", "-d", "--name", "fifo-passwd", "busybox", "sh", "-c", "rm /etc/passwd; mkfifo /etc/passwd; sleep 60"],
        { root },
      ),
    );
    try {
      for (
        let i = 0;
        i < 100 &&
        !ok(hull(["exec", "fifo-passwd", "sh", "-c", "test -p /etc/passwd && echo y || true"], { root })).includes("y");
        i++
      )
        await Bun.sleep(20);
      const r = await Promise.race([
        hullAsync(["exec", "-u", "nobody", "fifo-passwd", "true"], { root }),
        Bun.sleep(15000).then(() => ({ code: -1, stdout: "", stderr: "timed out" })),
      ]);
      expect(r.stderr).toContain("unable to find user nobody");
    } finally {
      ok(hull(["rm", "-f", "fifo-passwd"], { root }));
    }
  });
});

describe("registries", () => {
  test("a manifest larger than 4 MiB is refused without being held in memory", async () => {
    const big = new Uint8Array(16 * 1024 * 1024).fill(0x20);
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (req) =>
        new URL(req.url).pathname === "/v2/"
          ? new Response("{}")
          : new Response(big, { headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" } }),
    });
    try {
      const r = await hullAsync(["pull", `127.0.0.1:${server.port}/huge:1`], { root });
      expect(r.code).toBe(125);
      expect(r.stderr).toContain("more than the 4194304 hull accepts");
    } finally {
      server.stop(true);
    }
  });

  test("a registry that accepts the connection and then says nothing ends the pull", async () => {
    const silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      const started = Date.now();
      const r = await hullAsync(["pull", `127.0.0.1:${silent.port}/stalled:1`], {
        root,
        env: { HULL_REGISTRY_TIMEOUT: "1" },
      });
      expect(r.code).toBe(125);
      expect(r.stderr).toContain("no answer from 127.0.0.1");
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(Date.now() - started).toBeLessThan(20000);
    } finally {
      silent.stop(true);
    }
  });

  test("the token realm a registry names gets the credentials, even on another host", async () => {
    const realm = Bun.serve({
      hostname: "127.0.0.2",
      port: 0,
      fetch: (req) =>
        req.headers.get("authorization") === `Basic ${btoa("ann:pw")}`
          ? Response.json({ token: "granted" })
          : new Response("no", { status: 401 }),
    });
    const registry = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (req) =>
        req.headers.get("authorization") === "Bearer granted"
          ? Response.json({})
          : new Response(null, {
              status: 401,
              headers: { "www-authenticate": `Bearer realm="http://127.0.0.2:${realm.port}/token",service="t"` },
            }),
    });
    try {
      const auth = join(work, "realm-auth.json");
      const r = await hullAsync(["login", "-u", "ann", "-p", "pw", `127.0.0.1:${registry.port}`], {
        root,
        env: { HULL_AUTH_FILE: auth },
      });
      expect(r.code, r.stderr).toBe(0);
    } finally {
      registry.stop(true);
      realm.stop(true);
    }
  });

  test("credentials never go to an upload Location on another host", async () => {
    const seen: string[] = [];
    // the blob upload is sent to 127.0.0.2: another host, as a registry's storage backend would be
    const elsewhere = Bun.serve({
      hostname: "127.0.0.2",
      port: 0,
      fetch: (req) => {
        seen.push(req.headers.get("authorization") ?? "none");
        return new Response(null, { status: req.method === "PUT" ? 201 : 202, headers: { location: req.url } });
      },
    });
    const registry = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (req) => {
        if (req.headers.get("authorization") !== `Basic ${btoa("eve:pw")}`)
          return new Response(null, { status: 401, headers: { "www-authenticate": 'Basic realm="r"' } });
        const path = new URL(req.url).pathname;
        if (req.method === "HEAD") return new Response(null, { status: 404 });
        if (req.method === "POST" && path.endsWith("/blobs/uploads/"))
          return new Response(null, {
            status: 202,
            headers: { location: `http://127.0.0.2:${elsewhere.port}/upload/1` },
          });
        if (req.method === "PUT" && path.includes("/manifests/")) return new Response(null, { status: 201 });
        return new Response(null, { status: 404 });
      },
    });
    try {
      const auth = join(work, "auth.json");
      writeFileSync(auth, JSON.stringify({ auths: { [`127.0.0.1:${registry.port}`]: { auth: btoa("eve:pw") } } }));
      const ref = `127.0.0.1:${registry.port}/creds:1`;
      ok(hull(["tag", "busybox", ref], { root }));
      const r = await hullAsync(["push", ref], { root, env: { HULL_AUTH_FILE: auth } });
      expect(r.code, r.stderr).toBe(0);
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.every((a) => a === "none")).toBe(true);
    } finally {
      registry.stop(true);
      elsewhere.stop(true);
    }
  });
});

describe("Dockerfiles", () => {
  test("ADD <url> from a server that goes silent ends the build instead of hanging it", async () => {
    const silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    // headers, then a body that never comes
    const stalled = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () =>
        new Response(
          new ReadableStream({
            start: (c) => c.enqueue(new TextEncoder().encode("the first bytes")),
            pull: () => new Promise(() => {}),
          }),
        ),
    });
    const ctx = mkdtempSync(join(tmpdir(), "hull-ctx-"));
    try {
      for (const [port, says] of [
        [silent.port, "no answer from 127.0.0.1"],
        [stalled.port, "nothing received for 1 s"],
      ] as const) {
        writeFileSync(join(ctx, "Dockerfile"), `FROM busybox\nADD http://127.0.0.1:${port}/f /f\n`);
        const started = Date.now();
        const r = await hullAsync(["build", ctx], { root, env: { HULL_REGISTRY_TIMEOUT: "1" } });
        expect(r.code).toBe(1);
        expect(r.stderr).toContain(says);
        expect(Date.now() - started).toBeLessThan(20000);
      }
    } finally {
      silent.stop(true);
      stalled.stop(true);
      rmSync(ctx, { recursive: true, force: true });
    }
  });

  test("ADD <url> takes the decoded last segment as the name and never writes outside the build", async () => {
    const marker = `PWNED-${process.pid}-${Date.now()}`;
    const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("payload\n") });
    const ctx = mkdtempSync(join(tmpdir(), "hull-ctx-"));
    try {
      const url = `http://127.0.0.1:${server.port}/x/..%2F..%2F..%2F..%2F..%2F..%2Ftmp%2F${marker}`;
      writeFileSync(join(ctx, "Dockerfile"), `FROM busybox\nADD ${url} /t/\n`);
      const r = await hullAsync(["build", "-t", "addurl:1", ctx], { root });
      expect(r.code, r.stderr).toBe(0);
      expect(existsSync(join("/tmp", marker))).toBe(false);
      expect(ok(hull(["run", "--rm", "addurl:1", "cat", `/t/${marker}`], { root }))).toBe("payload\n");
      // a name that decodes to '..' is refused
      writeFileSync(join(ctx, "Dockerfile"), `FROM busybox\nADD http://127.0.0.1:${server.port}/a/b%2F.. /t/\n`);
      const bad = await hullAsync(["build", ctx], { root });
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain("cannot take a file name from the URL");
    } finally {
      server.stop(true);
      rmSync(ctx, { recursive: true, force: true });
      rmSync(join("/tmp", marker), { force: true });
    }
  });
});
