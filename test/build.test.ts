// hull build end to end: the multi-stage fixture in test/fixtures/build/app, built rootless on the
// embedded busybox; the cache's hits and misses; build args, --target, reproducible digests; ADD;
// bad Dockerfiles; and the pushed result read by skopeo and run by rootless podman.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { busyboxLayer, buildLayout, file, push, skopeoInspect } from "./fixtures/oci";
import { type RegistryFixture, startRegistry } from "./fixtures/registry";
import {
  fuseUsable,
  HULL,
  hostHas,
  hull,
  hullAsync,
  hullOnTerminal,
  makeStore,
  ok,
  type PodmanSandbox,
  podmanSandbox,
  removeStore,
  requireUnprivileged,
  shimProcesses,
} from "./helpers";

requireUnprivileged();

const FIXTURE = join(import.meta.dir, "fixtures", "build", "app");
let root = "";
let ctx = "";

/** Every path of DIR with its type, size and mtime: to show the build never writes the context. */
function snapshot(dir: string): string {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const n of readdirSync(join(dir, rel)).sort()) {
      const sub = join(rel, n);
      const st = lstatSync(join(dir, sub));
      out.push(`${sub} ${st.mode} ${st.size} ${st.mtimeMs}`);
      if (st.isDirectory()) walk(sub);
    }
  };
  walk("");
  return out.join("\n");
}

/** The steps a build printed: "STEP n/m: TEXT" followed by "Using cache" or a new id. */
function steps(stderr: string): Array<{ text: string; cached: boolean }> {
  const lines = stderr.split("\n");
  const out: Array<{ text: string; cached: boolean }> = [];
  lines.forEach((l, i) => {
    const m = /^STEP \d+\/\d+: (.*)$/.exec(l);
    if (!m) return;
    const next = lines.slice(i + 1).find((x) => x.startsWith("-->") || x.startsWith("STEP "));
    out.push({ text: m[1] as string, cached: next?.startsWith("--> Using cache") ?? false });
  });
  return out;
}

const ran = (s: ReturnType<typeof steps>) =>
  s.filter((x) => !x.cached && !/^(FROM|ARG) /.test(x.text)).map((x) => x.text.split(" ")[0]);

beforeAll(() => {
  root = makeStore();
  ctx = mkdtempSync(join(tmpdir(), "hull-ctx-"));
  cpSync(FIXTURE, ctx, { recursive: true });
});
afterAll(() => {
  removeStore(root);
  rmSync(ctx, { recursive: true, force: true });
});

describe("hull build", () => {
  let firstId = "";

  test("builds the multi-stage fixture; the image runs and has the Dockerfile's config", () => {
    const before = snapshot(ctx);
    const r = hull(["build", "-t", "app:1", ctx], { root });
    expect(r.code, r.stderr).toBe(0);
    firstId = r.stdout.trim();
    expect(firstId).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(snapshot(ctx)).toBe(before);
    // the stage the final one does not need is never built
    expect(r.stderr).not.toContain("this stage is not needed");
    expect(r.stderr).toContain("Successfully tagged app:1");

    expect(ok(hull(["run", "--rm", "app:1"], { root }))).toBe("hello, world\n");
    const listing = ok(
      hull(
        [
          "run",
          "--rm",
          "--entrypoint",
          "sh",
          "app:1",
          "-c",
          "cd /app && ls -ln conf && cat state; id -u; test -e /etc/os-release || echo gone",
        ],
        { root },
      ),
    );
    expect(listing).toMatch(/-rw-r-----\s+1 1000\s+1000\s+\d+ .* app\.conf/);
    expect(listing).not.toContain("secret.key");
    expect(listing).toContain("built\n1000\ngone\n");

    const [info] = JSON.parse(ok(hull(["image", "inspect", "app:1"], { root })));
    expect(info.Id).toBe(firstId);
    expect(info.Config.User).toBe("1000");
    expect(info.Config.WorkingDir).toBe("/app");
    expect(info.Config.Entrypoint).toEqual(["/app/show"]);
    expect(info.Config.Cmd ?? null).toBeNull();
    expect(info.Config.ExposedPorts).toEqual({ "8080/tcp": {} });
    expect(info.Config.StopSignal).toBe("SIGINT");
    expect(info.Config.Labels["org.example.role"]).toBe("multistage fixture");
    expect(info.Config.Env).toContain("APP=/app");
    // busybox's one layer, then WORKDIR, COPY --from, COPY and RUN: one layer each
    expect(info.RootFS.Layers).toHaveLength(5);
    expect(shimProcesses()).toEqual([]);
    expect(readdirSync(join(root, "tmp"))).toEqual([]);
  });

  test("a rebuild with nothing changed takes every step from the cache", () => {
    const r = hull(["build", "-t", "app:1", ctx], { root });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(firstId);
    expect(ran(steps(r.stderr))).toEqual([]);
    expect(r.stderr).toContain("--> Using cache");
  });

  test("on a terminal each step made says how long it took; --progress plain keeps podman's lines", () => {
    const r = hullOnTerminal(`${HULL} build --no-cache -t app:tty ${ctx}`, root);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toMatch(/--> [0-9a-f]{12} \d+\.\ds\n/);
    const plain = hullOnTerminal(`${HULL} build --no-cache --progress plain -t app:tty ${ctx}`, root);
    expect(plain.stdout).toMatch(/--> [0-9a-f]{12}\n/);
    expect(plain.stdout).not.toMatch(/--> [0-9a-f]{12} \d/);
    ok(hull(["rmi", "app:tty"], { root }));
  });

  test("changing one source file reruns from the step that copies it, and no earlier", () => {
    writeFileSync(join(ctx, "greeting.txt"), "there\n");
    const r = hull(["build", "-t", "app:2", ctx], { root });
    expect(r.code, r.stderr).toBe(0);
    const s = steps(r.stderr);
    // builder: WORKDIR cached; COPY greeting.txt and RUN again. final: LABEL, ENV, WORKDIR cached;
    // COPY --from (its source changed) and everything after again
    expect(ran(s)).toEqual(["COPY", "RUN", "COPY", "COPY", "RUN", "USER", "EXPOSE", "STOPSIGNAL", "ENTRYPOINT"]);
    expect(s.find((x) => x.text.startsWith("LABEL"))?.cached).toBe(true);
    expect(ok(hull(["run", "--rm", "app:2"], { root }))).toBe("hello, there\n");
    // a .dockerignore'd file changing changes nothing
    writeFileSync(join(ctx, "conf", "secret.key"), "rotated\n");
    const again = hull(["build", "-t", "app:2", ctx], { root });
    expect(ran(steps(again.stderr))).toEqual([]);
  });

  test("--build-arg reaches RUN and reruns it; --target builds one stage; unused args are named", () => {
    const r = hull(
      ["build", "--build-arg", "GREETING=hi", "--build-arg", "NOBODY=1", "--target", "builder", "-t", "b:1", ctx],
      { root },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(ran(steps(r.stderr))).toEqual(["RUN"]);
    expect(r.stderr).toContain("[Warning] One or more build-args [NOBODY] were not consumed");
    expect(r.stderr).not.toMatch(/STEP \d+\/\d+: LABEL/);
    expect(ok(hull(["run", "--rm", "b:1", "cat", "/src/out.txt"], { root }))).toBe("hi, there\n");
    // the build arg does not stay in the image
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the container's shell expands it
    expect(ok(hull(["run", "--rm", "b:1", "sh", "-c", "echo ${GREETING:-unset}"], { root }))).toBe("unset\n");
  });

  test("--no-cache runs every step; with SOURCE_DATE_EPOCH two such builds give the same digest", () => {
    const env = { SOURCE_DATE_EPOCH: "1700000000" };
    const a = hull(["build", "--no-cache", "-q", ctx], { root, env });
    expect(a.code, a.stderr).toBe(0);
    expect(a.stderr).toBe("");
    // --timestamp is the same as SOURCE_DATE_EPOCH
    const b = hull(["build", "--no-cache", "--timestamp", "1700000000", ctx], { root });
    expect(b.code, b.stderr).toBe(0);
    expect(steps(b.stderr).every((x) => !x.cached)).toBe(true);
    expect(b.stdout.trim()).toBe(a.stdout.trim());
    const [info] = JSON.parse(ok(hull(["image", "inspect", a.stdout.trim()], { root })));
    expect(info.Created).toBe("2023-11-14T22:13:20.000Z");
  });

  test("ADD unpacks a local tar.gz; COPY takes heredocs; ARG before FROM picks the base", () => {
    const dir = mkdtempSync(join(tmpdir(), "hull-ctx-"));
    try {
      const src = join(dir, "payload");
      cpSync(join(FIXTURE, "conf"), src, { recursive: true });
      Bun.spawnSync(["tar", "-czf", join(dir, "payload.tar.gz"), "-C", src, "."]);
      rmSync(src, { recursive: true });
      writeFileSync(
        join(dir, "Dockerfile"),
        [
          "ARG FLAVOUR=busybox",
          "FROM $FLAVOUR",
          "ADD payload.tar.gz /opt/payload/",
          "COPY <<EOF /etc/motd",
          "hello from a heredoc",
          "EOF",
          // biome-ignore lint/suspicious/noTemplateCurlyInString: the builder expands it
          'ENV GREETING="a b"  OTHER=${GREETING:-x}',
          'SHELL ["/bin/sh", "-ec"]',
          'CMD cat /opt/payload/app.conf /etc/motd; echo "$GREETING"',
          "",
        ].join("\n"),
      );
      const r = hull(["build", "-t", "add:1", dir], { root });
      expect(r.code, r.stderr).toBe(0);
      expect(ok(hull(["run", "--rm", "add:1"], { root }))).toBe("port=8080\nhello from a heredoc\na b\n");
      const [info] = JSON.parse(ok(hull(["image", "inspect", "add:1"], { root })));
      expect(info.Config.Cmd).toEqual(["/bin/sh", "-ec", 'cat /opt/payload/app.conf /etc/motd; echo "$GREETING"']);
      // the ENV line sees the variables of earlier lines only
      expect(info.Config.Env).toContain("OTHER=x");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("--network default is the build's own default (the host's); another word is named", () => {
    const dir = mkdtempSync(join(tmpdir(), "hull-ctx-"));
    try {
      writeFileSync(join(dir, "Dockerfile"), "FROM busybox\nRUN ls /sys/class/net > /nets\nCMD cat /nets\n");
      // docker's spelling, refused before ("takes none or host")
      const r = hull(["build", "--network", "default", "-t", "netdefault:1", dir], { root });
      expect(r.code, r.stderr).toBe(0);
      expect(ok(hull(["run", "--rm", "netdefault:1"], { root }))).toContain("lo");
      const bad = hull(["build", "--network", "bridged", dir], { root });
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toContain("--network takes default, host or none");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("ADD fetches an http URL into the image", async () => {
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () =>
        new Response("served over http\n", { headers: { "Last-Modified": "Tue, 14 Nov 2023 22:13:20 GMT" } }),
    });
    const dir = mkdtempSync(join(tmpdir(), "hull-ctx-"));
    try {
      writeFileSync(
        join(dir, "Dockerfile"),
        `FROM busybox\nADD http://127.0.0.1:${server.port}/files/note.txt /data/\n`,
      );
      const r = await hullAsync(["build", "-t", "url:1", dir], { root });
      expect(r.code, r.stderr).toBe(0);
      const out = await hullAsync(
        ["run", "--rm", "url:1", "sh", "-c", "cat /data/note.txt; stat -c %a /data/note.txt"],
        { root },
      );
      expect(out.stdout).toBe("served over http\n600\n");
    } finally {
      server.stop(true);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("bad Dockerfiles and failing steps give line-numbered errors, exit 1, and leave nothing behind", () => {
    const dir = mkdtempSync(join(tmpdir(), "hull-ctx-"));
    const tags = () => ok(hull(["images", "-q"], { root }));
    // the embedded busybox enters the store now, not during the first case
    ok(hull(["run", "--rm", "busybox", "true"], { root }));
    const before = tags();
    const cases: Array<[string, RegExp]> = [
      ["FROM busybox\nRUN true\nFORM busybox\n", /^hull: Dockerfile:3:1: unknown instruction: FORM$/m],
      ["RUN true\n", /Dockerfile:1:1: RUN before the first FROM/],
      ["FROM busybox\nCOPY missing.txt /\n", /Dockerfile:2:1: missing.txt: no such file in the build context/],
      ["FROM busybox\nCOPY ../outside /\n", /Dockerfile:2:1: \.\.\/outside is outside the build context/],
      ["FROM busybox\nRUN echo about to fail\nRUN exit 3\n", /Dockerfile:3: RUN \/bin\/sh -c exit 3: exit code 3/],
      ["FROM busybox\nEXPOSE 80/xyz\n", /Dockerfile:2:1: EXPOSE 80\/xyz: give PORT or PORT\/PROTOCOL/],
      [
        "FROM busybox\nRUN --mount=type=ssh true\n",
        /Dockerfile:2:1: --mount=type=ssh is not supported by hull: there is no --ssh yet/,
      ],
      [
        "FROM busybox\nRUN --mount=type=secret,id=token,required true\n",
        /Dockerfile:2:1: secret token is required: hull build --secret id=token,src=FILE/,
      ],
      ["FROM busybox\nRUN --security=insecure true\n", /Dockerfile:2:1: RUN --security is not supported by hull/],
      ["FROM nosuchimage-here:1\n", /Dockerfile:1:1: nosuchimage-here:1: /],
      ["FROM busybox\nCOPY unreadable /\n", /Dockerfile:2:1: cannot read the build context: .*permission denied/i],
      [
        "FROM busybox AS a\nFROM busybox\nCOPY --from=a /nope /x\n",
        /Dockerfile:3:1: COPY --from failed: \/nope: no such file or directory in the source image/,
      ],
      [
        "FROM busybox\nCOPY --chown=nobody-at-all a /\n",
        /Dockerfile:2:1: --chown=nobody-at-all: unable to find user nobody-at-all/,
      ],
    ];
    try {
      writeFileSync(join(dir, "a"), "a\n");
      writeFileSync(join(dir, "unreadable"), "x\n", { mode: 0 });
      for (const [text, want] of cases) {
        writeFileSync(join(dir, "Dockerfile"), text);
        const r = hull(["build", "-t", "bad:1", dir], { root, env: { HULL_INSECURE_REGISTRIES: "" } });
        expect(r.code, text).toBe(1);
        expect(r.stderr, text).toMatch(want);
      }
      // with only the caller's own id mapped (no subordinate ids), --chown=1000 cannot be kept
      const single = hull(["build", ctx], { root, env: { HULL_IDMAP: "single" } });
      expect(single.code).toBe(1);
      expect(single.stderr).toMatch(
        /Dockerfile:\d+:1: --chown=1000:1000: ids 1000:1000 are not mapped in hull's user namespace \(0-0\); see hull doctor/,
      );
      const none = hull(["build", mkdtempSync(join(tmpdir(), "hull-empty-"))], { root });
      expect(none.code).not.toBe(0);
      expect(none.stderr).toMatch(/no Dockerfile or Containerfile in .*: add one, or name it with -f/);
      expect(tags()).toBe(before);
      expect(readdirSync(join(root, "tmp"))).toEqual([]);
      expect(shimProcesses()).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("hull builder prune forgets the cache; the next build runs every step", () => {
    const pruned = ok(hull(["builder", "prune", "-f"], { root }));
    expect(pruned).toMatch(/^Removed [1-9]\d* build cache entries/);
    const r = hull(["build", "-t", "app:1", ctx], { root });
    expect(r.code, r.stderr).toBe(0);
    expect(steps(r.stderr).some((x) => x.cached)).toBe(false);
  });
});

describe("more of the Dockerfile reference", () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  /** A context holding FILES (name -> text); "Dockerfile" among them. */
  const context = (files: Record<string, string>) => {
    const dir = mkdtempSync(join(tmpdir(), "hull-ctx-"));
    dirs.push(dir);
    for (const [name, text] of Object.entries(files)) {
      mkdirSync(join(dir, name, ".."), { recursive: true });
      writeFileSync(join(dir, name), text);
    }
    return dir;
  };

  test("a Dockerfile of 1,500 ENV lines writes one config, not one per step, and the image runs with them all", () => {
    const lines = Array.from({ length: 1500 }, (_, i) => `ENV VAR_${i}=value-${i}`);
    const dir = context({
      Dockerfile: `FROM busybox\n${lines.join("\n")}\nRUN true\n${lines
        .slice(0, 50)
        .map((l) => `${l}-again`)
        .join("\n")}\n`,
    });
    const blobs = join(root, "blobs", "sha256");
    mkdirSync(blobs, { recursive: true });
    const before = readdirSync(blobs).length;
    ok(hull(["build", "-q", "-t", "envs:1", dir], { root }));
    // the RUN step's config and the final one: never a blob (each holding the whole history) per ENV
    expect(readdirSync(blobs).length - before).toBeLessThanOrEqual(4);
    const env = ok(hull(["run", "--rm", "envs:1", "env"], { root }));
    expect(env).toContain("VAR_1499=value-1499\n");
    expect(env).toContain("VAR_49=value-49-again\n");
    const again = hull(["build", "-t", "envs:1", dir], { root });
    expect(again.code, again.stderr).toBe(0);
    expect(ran(steps(again.stderr))).toEqual([]);
    const [info] = JSON.parse(ok(hull(["image", "inspect", "envs:1"], { root })));
    expect(info.Config.Env).toHaveLength(1501);
    ok(hull(["rmi", "envs:1"], { root }));
  }, 120_000);

  test("-o writes the image's files to a directory or a tar, or the image as hull save does; nothing else on stdout", () => {
    const dir = context({
      Dockerfile:
        "FROM busybox\nRUN mkdir /made && echo hi > /made/f && chown 1234:2345 /made/f && rm /etc/group\nENV A=1\n",
    });
    const out = mkdtempSync(join(tmpdir(), "hull-out-"));
    dirs.push(out);
    ok(hull(["build", "-q", "-o", `type=local,dest=${out}/local`, dir], { root }));
    expect(readFileSync(join(out, "local", "made", "f"), "utf8")).toBe("hi\n");
    expect(existsSync(join(out, "local", "bin", "busybox"))).toBe(true);
    expect(existsSync(join(out, "local", "etc", "group"))).toBe(false);
    // as buildx's local exporter: the files are the caller's
    expect(statSync(join(out, "local", "made", "f")).uid).toBe(process.getuid?.() as number);
    ok(hull(["build", "-q", "--output", `type=tar,dest=${out}/fs.tar`, dir], { root }));
    const listing = Bun.spawnSync(["tar", "-tvf", join(out, "fs.tar"), "--numeric-owner"]).stdout.toString();
    expect(listing).toMatch(/1234\/2345 .* made\/f\n/);
    expect(listing).not.toContain("etc/group");
    const piped = Bun.spawnSync(["sh", "-c", `"$0" build -q -o - "$1" | tar -t`, HULL, dir], {
      env: { ...process.env, HULL_ROOT: root },
    });
    expect(piped.exitCode, piped.stderr.toString()).toBe(0);
    expect(piped.stderr.toString()).toBe("");
    expect(piped.stdout.toString()).toContain("made/f");
    ok(hull(["build", "-q", "-o", `type=docker,dest=${out}/img.tar`, dir], { root }));
    expect(ok(hull(["load", "-i", join(out, "img.tar")], { root }))).toContain("sha256:");
    for (const [spec, said] of [
      ["type=registry,name=x", "give hull push after the build"],
      ["type=tar", "needs dest=PATH"],
      ["type=local,dest=-", "needs a directory"],
      ["type=zip,dest=x", "type=zip is not supported"],
      [`type=local,dest=${join(dir, "Dockerfile")}`, "is a file: type=local writes a directory"],
    ] as const) {
      const r = hull(["build", "-o", spec, dir], { root });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(said);
    }
  });

  test("--cache-to a directory, --cache-from it into an empty store: every step cached, the same image", () => {
    const dir = context({ Dockerfile: "FROM busybox\nRUN echo one > /one\nENV X=1\nRUN echo two > /two\nLABEL l=v\n" });
    const cache = mkdtempSync(join(tmpdir(), "hull-cache-"));
    dirs.push(cache);
    const first = ok(hull(["build", "-q", "--cache-to", `type=local,dest=${cache}`, dir], { root })).trim();
    expect(existsSync(join(cache, "index.json"))).toBe(true);
    const fresh = makeStore();
    try {
      const r = hull(["build", "--cache-from", `type=local,src=${cache}`, dir], { root: fresh });
      expect(r.code, r.stderr).toBe(0);
      expect(ran(steps(r.stderr))).toEqual([]);
      expect(r.stdout.trim()).toBe(first);
      expect(ok(hull(["run", "--rm", first, "cat", "/one", "/two"], { root: fresh }))).toBe("one\ntwo\n");
    } finally {
      removeStore(fresh);
    }
    // a blob changed in the cache is refused by its digest: the step runs instead, with a warning
    const manifest = JSON.parse(readFileSync(join(cache, "index.json"), "utf8")).manifests[0].digest.slice(7);
    const layers = JSON.parse(readFileSync(join(cache, "blobs", "sha256", manifest), "utf8")).layers;
    for (const l of layers.filter((l: { mediaType: string }) => l.mediaType.includes("tar")))
      writeFileSync(join(cache, "blobs", "sha256", l.digest.slice(7)), "not the layer");
    const tampered = makeStore();
    try {
      const r = hull(["build", "--cache-from", `type=local,src=${cache}`, dir], { root: tampered });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain("not used");
      expect(ran(steps(r.stderr))).toContain("RUN");
      expect(r.stdout.trim()).not.toBe("");
    } finally {
      removeStore(tampered);
    }
    const bad = hull(["build", "--cache-to", "type=gha", dir], { root });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("type=gha is not supported");
    expect(
      hull(["build", "--cache-to", `type=registry,ref=127.0.0.1:1/c@sha256:${"a".repeat(64)}`, dir], { root }).stderr,
    ).toContain("a cache is written under a tag, not a digest");
  });

  test("a cache that lies is not used: a config that is not one, layers that are not its config's, a bad time", () => {
    const dir = context({ Dockerfile: "FROM busybox\nRUN echo one > /one\nENV X=1\n" });
    const cache = mkdtempSync(join(tmpdir(), "hull-cache-"));
    dirs.push(cache);
    ok(hull(["build", "-q", "--cache-to", `type=local,dest=${cache}`, dir], { root }));
    const blob = (d: string) => join(cache, "blobs", "sha256", d.replace(/^sha256:/, ""));
    const put = (bytes: string) => {
      const digest = `sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}`;
      writeFileSync(blob(digest), bytes);
      return { digest, size: Buffer.byteLength(bytes) };
    };
    const original = readFileSync(join(cache, "index.json"), "utf8");
    /** the cache with its list of steps changed by EDIT, written as a new manifest and index */
    const rewrite = (
      edit: (bundle: {
        entries: Record<string, { config: string; layers: unknown[] }>;
        marks: Record<string, string>;
      }) => void,
    ) => {
      const index = JSON.parse(original);
      const manifest = JSON.parse(readFileSync(blob(index.manifests[0].digest), "utf8"));
      const bundle = JSON.parse(readFileSync(blob(manifest.config.digest), "utf8"));
      edit(bundle);
      manifest.config = { ...manifest.config, ...put(JSON.stringify(bundle)) };
      index.manifests[0] = { ...index.manifests[0], ...put(JSON.stringify(manifest)) };
      writeFileSync(join(cache, "index.json"), JSON.stringify(index));
    };
    const fresh = (said: string) => {
      const store = makeStore();
      try {
        const r = hull(["build", "--cache-from", `type=local,src=${cache}`, dir], { root: store });
        expect(r.code, r.stderr).toBe(0);
        expect(r.stderr).toContain(said);
        expect(ran(steps(r.stderr))).toContain("RUN");
        // and nothing of it stays in the store's own cache
        const again = hull(["build", dir], { root: store });
        expect(again.code, again.stderr).toBe(0);
      } finally {
        removeStore(store);
      }
    };
    const notConfig = put("{}");
    rewrite((b) => {
      for (const e of Object.values(b.entries)) e.config = notConfig.digest;
    });
    fresh("not used");
    rewrite((b) => {
      for (const e of Object.values(b.entries)) e.layers = e.layers.slice(0, 1);
    });
    fresh("names other layers than the entry");
    rewrite((b) => {
      for (const k of Object.keys(b.marks)) b.marks[k] = "not-a-date";
    });
    fresh("a mark's time is an RFC 3339 date");
  });

  test("ONBUILD triggers run in the child's build and are not inherited further", () => {
    ok(
      hull(
        [
          "build",
          "-t",
          "parent:1",
          context({ Dockerfile: "FROM busybox\nONBUILD COPY note /note\nONBUILD RUN echo triggered > /onbuild\n" }),
        ],
        { root },
      ),
    );
    const [parent] = JSON.parse(ok(hull(["image", "inspect", "parent:1"], { root })));
    expect(parent.Config.OnBuild).toEqual(["COPY note /note", "RUN echo triggered > /onbuild"]);
    ok(
      hull(["build", "-t", "child:1", context({ Dockerfile: "FROM parent:1\n", note: "from the child's context\n" })], {
        root,
      }),
    );
    expect(ok(hull(["run", "--rm", "child:1", "cat", "/onbuild", "/note"], { root }))).toBe(
      "triggered\nfrom the child's context\n",
    );
    const [child] = JSON.parse(ok(hull(["image", "inspect", "child:1"], { root })));
    expect(child.Config.OnBuild ?? null).toBeNull();
  });

  test("a base image's words in the build's lines (an ONBUILD trigger) show their control characters escaped", () => {
    ok(
      hull(["build", "-t", "parent:esc", context({ Dockerfile: "FROM busybox\nONBUILD LABEL x=\u001b]0;t\u0007\n" })], {
        root,
      }),
    );
    const r = hull(["build", "-t", "child:esc", context({ Dockerfile: "FROM parent:esc\n" })], { root });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("LABEL x=\\x1b]0;t\\x07");
    expect(r.stderr).not.toContain("\u001b");
  });

  test("FROM a stage, COPY --from by index and from an image, wildcards, USER by name", () => {
    const dir = context({
      Dockerfile: [
        "FROM busybox AS base",
        "RUN echo bob:x:1234:1234::/home/bob:/bin/sh >> /etc/passwd && mkdir /data && echo base > /data/base",
        "FROM base AS more",
        "USER bob",
        "RUN id -un > /tmp/who",
        "FROM busybox",
        "COPY --from=0 /data/base /from-index",
        "COPY --from=more /tmp/who /who",
        "COPY --from=app:1 /app/out.txt /from-image",
        "COPY *.txt /texts/",
        "",
      ].join("\n"),
      "a.txt": "a\n",
      "b.txt": "b\n",
      "c.md": "c\n",
    });
    ok(hull(["build", "-t", "mix:1", dir], { root }));
    const out = ok(hull(["run", "--rm", "mix:1", "sh", "-c", "cat /from-index /who /from-image; ls /texts"], { root }));
    expect(out).toBe(
      "base\nbob\nhello, world\na.txt\nb.txt\n".replace("world", out.includes("there") ? "there" : "world"),
    );
    // COPY --from keeps the owner the file had in its stage (bob, 1234)
    expect(ok(hull(["run", "--rm", "mix:1", "stat", "-c", "%u", "/who"], { root }))).toBe("1234\n");
    writeFileSync(join(dir, "Dockerfile"), "FROM busybox\nCOPY a.txt b.txt /notadir\n");
    const bad = hull(["build", dir], { root });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(
      /Dockerfile:2:1: COPY of more than one source needs a directory destination ending in \/: \/notadir\//,
    );
  });

  test("RUN heredocs with #! run by their interpreter; ADD unpacks xz, copies a gzip that holds no tar; -f - and --platform", () => {
    const dir = context({ "notes.txt": "plain\n" });
    Bun.spawnSync(["tar", "-cJf", join(dir, "bundle.tar.xz"), "-C", dir, "notes.txt"]);
    Bun.spawnSync(["gzip", "-k", join(dir, "notes.txt")]);
    const dockerfile = [
      "FROM --platform=$BUILDPLATFORM busybox",
      "RUN <<EOF",
      "#!/bin/awk -f",
      'BEGIN { print "awk ran" > "/awk-ran" }',
      "EOF",
      "ADD bundle.tar.xz /xz/",
      "ADD notes.txt.gz /gz/",
      "",
    ].join("\n");
    const r = hull(["build", "-f", "-", "-t", "misc:1", dir], { root, stdin: dockerfile });
    expect(r.code, r.stderr).toBe(0);
    expect(ok(hull(["run", "--rm", "misc:1", "sh", "-c", "cat /awk-ran /xz/notes.txt; ls /gz"], { root }))).toBe(
      "awk ran\nplain\nnotes.txt.gz\n",
    );
    // the script was bound under /dev: the RUN's layer holds only what the script wrote
    const [info] = JSON.parse(ok(hull(["image", "inspect", "misc:1"], { root })));
    expect(readdirSync(join(root, "layers", (info.RootFS.Layers[1] as string).slice(7)))).toEqual(["awk-ran"]);
  });

  test("COPY of a context whose path list is larger than one argument may be (128 KiB)", () => {
    const dir = context({ Dockerfile: "FROM busybox\nCOPY many/ /many/\n" });
    mkdirSync(join(dir, "many"));
    const long = "x".repeat(120);
    for (let i = 0; i < 1200; i++) writeFileSync(join(dir, "many", `${long}-${i}`), "");
    ok(hull(["build", "-t", "many:1", dir], { root }));
    expect(ok(hull(["run", "--rm", "many:1", "sh", "-c", "ls /many | wc -l"], { root })).trim()).toBe("1200");
  });

  test("RUN --mount: a cache kept between builds, binds of the context and of a stage, a tmpfs", () => {
    const dir = context({
      Dockerfile: [
        "FROM busybox AS tools",
        'RUN mkdir /tools && echo "tool v1" > /tools/version',
        "FROM busybox",
        "RUN --mount=type=cache,target=/cache,id=counter,uid=1000,gid=1000 \\",
        "    --mount=type=bind,source=data,target=/data \\",
        "    --mount=type=bind,from=tools,source=/tools,target=/mnt/tools \\",
        "    --mount=type=tmpfs,target=/scratch \\",
        "    echo x >> /cache/runs && wc -l < /cache/runs > /runs && stat -c %u /cache > /cache-owner \\",
        "    && cat /data/input /mnt/tools/version > /seen && touch /scratch/t && ! touch /data/no 2>/dev/null \\",
        "    && ls /data > /saw-key",
        "",
      ].join("\n"),
      "data/input": "input\n",
      "data/private.key": "left out\n",
      ".dockerignore": "data/*.key\n",
    });
    const look = (id: string) =>
      ok(
        hull(
          [
            "run",
            "--rm",
            id,
            "sh",
            "-c",
            "cat /runs /cache-owner /seen /saw-key; for p in /cache /data /mnt/tools /scratch; do test -e $p && echo $p; done; true",
          ],
          { root },
        ),
      );
    const first = ok(hull(["build", "-q", dir], { root })).trim();
    // the mount points are not in the image
    // (and the bound context, as COPY would see it, has no .dockerignore'd file)
    expect(look(first)).toBe("1\n1000\ninput\ntool v1\ninput\n");
    // the cache directory outlives the step: a build that runs again finds what the last one left
    const second = ok(hull(["build", "-q", "--no-cache", dir], { root })).trim();
    expect(look(second)).toMatch(/^2\n/);
    // the bound context is part of the key: changing it runs the step again
    writeFileSync(join(dir, "data", "input"), "changed\n");
    const third = hull(["build", dir], { root });
    expect(ran(steps(third.stderr))).toEqual(["RUN"]);
    expect(look(third.stdout.trim())).toMatch(/^3\n1000\nchanged\n/);
    // builder prune empties the cache mounts too
    ok(hull(["builder", "prune", "-f"], { root }));
    expect(look(ok(hull(["build", "-q", dir], { root })).trim())).toMatch(/^1\n/);
  });

  test("RUN --mount=type=secret: the secret is there for the step, and neither in the image nor in the key", () => {
    const dir = context({
      Dockerfile: [
        "FROM busybox",
        "RUN --mount=type=secret,id=token --mount=type=secret,id=api,target=/etc/api-key,uid=1000,mode=0440 \\",
        "    --mount=type=secret,id=absent \\",
        "    cat /run/secrets/token /etc/api-key | md5sum > /digest; stat -c %u:%a /etc/api-key >> /digest; test -e /run/secrets/absent || echo no-absent >> /digest",
        "",
      ].join("\n"),
    });
    const secretFile = join(dir, "..", `${dir.split("/").at(-1)}-token`);
    writeFileSync(secretFile, "s3cret\n");
    try {
      const args = ["build", "-q", "--secret", `id=token,src=${secretFile}`, "--secret", "id=api,env=API_KEY", dir];
      const id = ok(hull(args, { root, env: { API_KEY: "k3y\n" } })).trim();
      const expected = new Bun.CryptoHasher("md5").update("s3cret\nk3y\n").digest("hex");
      expect(ok(hull(["run", "--rm", id, "cat", "/digest"], { root }))).toBe(`${expected}  -\n1000:440\nno-absent\n`);
      // not in any layer: no /run/secrets, no /etc/api-key
      expect(
        ok(
          hull(["run", "--rm", id, "sh", "-c", "ls /run/secrets /etc/api-key 2>&1 | grep -c 'No such file'"], { root }),
        ),
      ).toBe("2\n");
      // another value, same key: the step comes from the cache
      writeFileSync(secretFile, "rotated\n");
      const again = hull(args, { root, env: { API_KEY: "other" } });
      expect(again.stdout.trim()).toBe(id);
    } finally {
      rmSync(secretFile, { force: true });
    }
  });

  test("--label adds labels to the image built; --iidfile writes its id", () => {
    const dir = context({ Dockerfile: "FROM busybox\nLABEL from.file=1\n" });
    const iid = join(dir, "..", `${dir.split("/").at(-1)}.iid`);
    try {
      const id = ok(
        hull(["build", "-q", "--label", "org.example.ci=yes", "--label", "from.file=2", "--iidfile", iid, dir], {
          root,
        }),
      ).trim();
      expect(readFileSync(iid, "utf8")).toBe(`${id}\n`);
      const [info] = JSON.parse(ok(hull(["image", "inspect", id], { root })));
      expect(info.Config.Labels).toMatchObject({ "org.example.ci": "yes", "from.file": "2" });
    } finally {
      rmSync(iid, { force: true });
    }
  });

  test("COPY follows the image's links inside the image only, never to the host's paths", () => {
    const host = mkdtempSync(join(tmpdir(), "hull-host-"));
    dirs.push(host);
    const dir = context({
      Dockerfile: [
        "FROM busybox",
        // /app is an absolute link; /evil names a path that exists on this host, and in the image
        `RUN mkdir -p /opt/app ${host} && ln -s /opt/app /app && ln -s ${host} /evil`,
        "COPY f /app/",
        "COPY d/ /evil/",
        "ADD a.tar /evil/",
        "",
      ].join("\n"),
      f: "file\n",
      "d/inner": "inner\n",
    });
    Bun.spawnSync(["tar", "-cf", join(dir, "a.tar"), "-C", dir, "f"]);
    ok(hull(["build", "-t", "links:1", dir], { root }));
    expect(ok(hull(["run", "--rm", "links:1", "sh", "-c", `cat /opt/app/f ${host}/inner ${host}/f`], { root }))).toBe(
      "file\ninner\nfile\n",
    );
    expect(readdirSync(host)).toEqual([]);
  });

  test("WORKDIR makes its directories for the USER of the moment, as BuildKit does", () => {
    const dir = context({
      Dockerfile:
        "FROM busybox\nUSER 1000\nWORKDIR /work/deep\nRUN touch mine && stat -c %u:%g /work /work/deep mine\n",
    });
    const r = hull(["build", dir], { root });
    expect(r.code, r.stderr).toBe(0);
    // uid 1000 is a user of the image, whose group is 1000; the file RUN made agrees
    expect(r.stderr).toContain("1000:1000\n1000:1000\n1000:1000\n");
  });

  test("the context's digests kept between builds never hide a change of same size and mtime", async () => {
    const dir = context({ Dockerfile: "FROM busybox\nCOPY f /f\n", f: "aaaa\n" });
    // only files changed more than two seconds before a build are remembered by their stat
    await Bun.sleep(2100);
    ok(hull(["build", "-q", dir], { root }));
    const before = statSync(join(dir, "f"));
    writeFileSync(join(dir, "f"), "bbbb\n");
    utimesSync(join(dir, "f"), before.atime, before.mtime);
    const r = hull(["build", dir], { root });
    expect(ran(steps(r.stderr))).toEqual(["COPY"]);
    expect(ok(hull(["run", "--rm", r.stdout.trim(), "cat", "/f"], { root }))).toBe("bbbb\n");
  });

  test("hull build - reads a tar of the context, or a Dockerfile alone, from stdin", () => {
    const tarball = Bun.spawnSync(["tar", "-C", FIXTURE, "-cf", "-", "."]).stdout;
    const r = Bun.spawnSync([HULL, "build", "-q", "-"], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", HULL_ROOT: root },
      stdin: tarball,
    });
    expect(r.exitCode, r.stderr.toString()).toBe(0);
    expect(ok(hull(["run", "--rm", r.stdout.toString().trim()], { root }))).toBe("hello, world\n");
    const alone = hull(["build", "-q", "-"], { root, stdin: "FROM busybox\nRUN echo no context > /n\n" });
    expect(alone.code, alone.stderr).toBe(0);
    expect(ok(hull(["run", "--rm", alone.stdout.trim(), "cat", "/n"], { root }))).toBe("no context\n");
    const both = hull(["build", "-f", "-", "-"], { root, stdin: "FROM busybox\n" });
    expect(both.stderr).toMatch(/stdin holds either the context .* or the Dockerfile .*, not both/);
    expect(readdirSync(join(root, "tmp"))).toEqual([]);
  });

  test("a proxy build arg reaches RUN with no ARG line, and stays out of the cache key", () => {
    const dir = context({ Dockerfile: 'FROM busybox\nRUN echo "proxy=$http_proxy" > /p\n' });
    const a = ok(hull(["build", "-q", "--build-arg", "http_proxy=http://one.invalid:3128", dir], { root })).trim();
    expect(ok(hull(["run", "--rm", a, "cat", "/p"], { root }))).toBe("proxy=http://one.invalid:3128\n");
    const b = hull(["build", "--build-arg", "http_proxy=http://two.invalid:3128", dir], { root });
    expect(b.stdout.trim()).toBe(a);
    expect(b.stderr).not.toContain("were not consumed");
  });

  test("untagged images are listed as <none> and pruned as dangling", () => {
    const id = ok(
      hull(["build", "-q", context({ Dockerfile: "FROM busybox\nLABEL dangling=yes\n" })], { root }),
    ).trim();
    expect(ok(hull(["images"], { root }))).toMatch(new RegExp(`<none>\\s+<none>\\s+${id.slice(7, 19)}`));
    expect(ok(hull(["image", "prune", "-f"], { root }))).toContain(id);
    expect(ok(hull(["images"], { root }))).not.toContain(id.slice(7, 19));
    expect(ok(hull(["run", "--rm", "app:1"], { root })).length).toBeGreaterThan(0);
  });

  test("two builds at once of one context both finish, and share the cache afterwards", async () => {
    const dir = context({ Dockerfile: "FROM busybox\nCOPY f /f\nRUN sleep 0.3; cat /f > /g\n", f: "same\n" });
    const [a, b] = await Promise.all([
      hullAsync(["build", "-t", "twin:a", dir], { root }),
      hullAsync(["build", "-t", "twin:b", dir], { root }),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(ok(hull(["run", "--rm", "twin:b", "cat", "/g"], { root }))).toBe("same\n");
    const again = hull(["build", "-t", "twin:c", dir], { root });
    expect(ran(steps(again.stderr))).toEqual([]);
  });

  test("an interrupted build stops its RUN, exits 130 and leaves nothing; a dead build's directory is swept", async () => {
    const dir = context({ Dockerfile: "FROM busybox\nRUN echo started; sleep 30\n" });
    const p = Bun.spawn([HULL, "build", dir], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", HULL_ROOT: root },
      stderr: "pipe",
      stdout: "ignore",
    });
    const reader = p.stderr.getReader();
    let seen = "";
    // the command's own line, not the STEP line that shows it
    while (!/^started$/m.test(seen)) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += new TextDecoder().decode(value);
    }
    const t0 = Date.now();
    p.kill("SIGTERM");
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += new TextDecoder().decode(value);
    }
    expect(await p.exited).toBe(130);
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(seen).toContain("hull: build interrupted");
    expect(readdirSync(join(root, "tmp"))).toEqual([]);
    expect(shimProcesses()).toEqual([]);

    // the directory of a build that was killed outright is removed by the next build
    mkdirSync(join(root, "tmp", "build-999999999-1-deadbeef", "upper"), { recursive: true });
    ok(hull(["build", context({ Dockerfile: "FROM busybox\nLABEL x=y\n" })], { root }));
    expect(readdirSync(join(root, "tmp"))).toEqual([]);
  });
});

const fuseOk = fuseUsable();

describe.if(hostHas(fuseOk, "build on fuse-overlayfs: /dev/fuse not usable or fuse-overlayfs missing"))(
  "hull build on fuse-overlayfs (HULL_OVERLAY=fuse)",
  () => {
    test("the fixture builds and runs the same; whiteouts and opaque directories come out in OCI form", () => {
      const fuse = makeStore();
      const env = { HULL_OVERLAY: "fuse" };
      const dir = mkdtempSync(join(tmpdir(), "hull-ctx-"));
      try {
        writeFileSync(
          join(dir, "Dockerfile"),
          "FROM busybox\nRUN rm /etc/os-release && mkdir /x && echo old > /x/old\nRUN rm -rf /x && mkdir /x && echo new > /x/new\n",
        );
        ok(hull(["build", "-t", "f:1", dir], { root: fuse, env }));
        const seen = (overlay: string) =>
          ok(
            hull(["run", "--rm", "f:1", "sh", "-c", "ls /x; test -e /etc/os-release || echo gone"], {
              root: fuse,
              env: { HULL_OVERLAY: overlay },
            }),
          );
        expect(seen("fuse")).toBe("new\ngone\n");
        expect(seen("kernel")).toBe("new\ngone\n");
        // the second RUN's layer: the directory made opaque once, fuse-overlayfs's own markers left out
        const [info] = JSON.parse(ok(hull(["image", "inspect", "f:1"], { root: fuse })));
        const tar = Bun.spawnSync([
          "tar",
          "-tf",
          join(fuse, "blobs", "sha256", (info.RootFS.Layers[2] as string).slice(7)),
        ]);
        expect(tar.stdout.toString().split("\n").filter(Boolean).sort()).toEqual(["x/", "x/.wh..wh..opq", "x/new"]);
        // the fixture, too; and `hull start` of a created container (the shim spawned, not exec'd)
        ok(hull(["build", "-t", "app:fuse", ctx], { root: fuse, env }));
        expect(ok(hull(["run", "--rm", "app:fuse"], { root: fuse, env }))).toBe(
          ok(hull(["run", "--rm", "app:1"], { root })),
        );
        const id = ok(hull(["create", "busybox", "cat", "/etc/hostname"], { root: fuse, env })).trim();
        expect(ok(hull(["start", "-a", id], { root: fuse, env })).trim()).toBe(id.slice(0, 12));
        ok(hull(["rm", id], { root: fuse }));
      } finally {
        rmSync(dir, { recursive: true, force: true });
        removeStore(fuse);
      }
    });
  },
);

const tools = hostHas(
  Bun.which("docker-registry") !== null && Bun.which("skopeo") !== null && Bun.which("podman") !== null,
  "build+push tests: docker-registry, skopeo and podman are not installed (apt-get install docker-registry skopeo podman)",
);

describe.if(tools)("hull build, then push: read by other tools", () => {
  let registry: RegistryFixture;
  let sandbox: PodmanSandbox;
  beforeAll(async () => {
    registry = await startRegistry();
    sandbox = podmanSandbox();
  });
  afterAll(async () => {
    await registry.stop();
    sandbox.remove();
  });
  const podman = (...args: string[]) => sandbox.podman(...args);

  test("--cache-to and --cache-from a registry: a CI runner's empty store builds from cache", () => {
    const ref = `${registry.host}/me/cache:main`;
    const first = hull(["build", "--cache-to", `type=registry,ref=${ref},mode=max`, ctx], { root });
    expect(first.code, first.stderr).toBe(0);
    const fresh = makeStore();
    try {
      const r = hull(["build", "--cache-from", ref, ctx], { root: fresh });
      expect(r.code, r.stderr).toBe(0);
      expect(ran(steps(r.stderr))).toEqual([]);
      expect(r.stdout.trim()).toBe(first.stdout.trim());
    } finally {
      removeStore(fresh);
    }
    // skopeo sees an ordinary OCI manifest whose config is hull's cache list
    const raw = JSON.parse(
      Bun.spawnSync(["skopeo", "inspect", "--raw", "--tls-verify=false", `docker://${ref}`]).stdout.toString(),
    );
    expect(raw.config.mediaType).toBe("application/vnd.hull.build-cache.v1+json");
  });

  test("skopeo reads the pushed image; podman pulls it and runs it with the same result", () => {
    const ref = `${registry.host}/me/app:1`;
    ok(hull(["build", "-t", ref, ctx], { root }));
    const digest = ok(hull(["push", "-q", ref], { root })).trim();
    const seen = skopeoInspect(ref);
    expect(seen.Digest).toBe(digest);
    expect(seen.Layers).toHaveLength(5);
    // built layers are stored as plain tars and pushed gzipped, as docker and podman push them
    const raw = Bun.spawnSync(["skopeo", "inspect", "--raw", "--tls-verify=false", `docker://${ref}`]);
    const manifest = JSON.parse(raw.stdout.toString());
    expect(manifest.layers.map((l: { mediaType: string }) => l.mediaType)).toEqual(
      Array(5).fill("application/vnd.oci.image.layer.v1.tar+gzip"),
    );
    // the compressed blobs are kept: a second push compresses nothing and uploads nothing
    const again = hull(["push", ref], { root });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toMatch(/compressed|uploaded/);
    expect(again.stdout.trim()).toBe(digest);

    const ours = ok(hull(["run", "--rm", ref], { root }));
    const p = podman("run", "--rm", "--tls-verify=false", "--network=none", ref);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toBe(ours);
    const q = podman(
      "run",
      "--rm",
      "--network=none",
      "--entrypoint",
      "sh",
      ref,
      "-c",
      "id -u; ls -ln /app/conf; test -e /etc/os-release || echo gone",
    );
    expect(q.code, q.stderr).toBe(0);
    expect(q.stdout).toMatch(/^1000\n.*-rw-r-----\s+1 1000\s+1000 .*app\.conf\ngone\n$/s);
  });

  test("--platform builds for another platform: FROM pulls it, TARGETARCH says it, the image is marked so", async () => {
    const layout = await buildLayout(
      { layers: [[...busyboxLayer(), file("arch", "amd64\n")]], architecture: "amd64" },
      { layers: [[...busyboxLayer(), file("arch", "arm64\n")]], architecture: "arm64" },
    );
    try {
      push(layout, `${registry.host}/multi/base:1`);
    } finally {
      layout.cleanup();
    }
    const dir = mkdtempSync(join(tmpdir(), "hull-ctx-"));
    try {
      writeFileSync(
        join(dir, "Dockerfile"),
        `FROM ${registry.host}/multi/base:1 AS base\nFROM scratch\nARG TARGETARCH\nLABEL arch=$TARGETARCH\nCOPY --from=base /arch /arch\n`,
      );
      const id = ok(hull(["build", "-q", "--platform", "linux/arm64", dir], { root })).trim();
      const [info] = JSON.parse(ok(hull(["image", "inspect", id], { root })));
      expect(info.Architecture).toBe("arm64");
      expect(info.Config.Labels.arch).toBe("arm64");
      // the one layer (FROM scratch, then COPY) holds the arm64 image's file
      const layer = (info.RootFS.Layers[0] as string).slice(7);
      expect(readFileSync(join(root, "layers", layer, "arch"), "utf8")).toBe("arm64\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("hull save of a built image loads into podman and runs the same", () => {
    const archive = join(sandbox.home, "app.tar");
    ok(hull(["save", "-o", archive, "app:1"], { root }));
    const loaded = podman("load", "-i", archive);
    expect(loaded.code, loaded.stderr).toBe(0);
    // podman names it as the archive does: docker.io/library/app:1
    const name = /Loaded image: (\S+)/.exec(loaded.stdout)?.[1] ?? "";
    expect(name).toMatch(/app:1$/);
    const p = podman("run", "--rm", "--network=none", name);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toBe(ok(hull(["run", "--rm", "app:1"], { root })));
  });

  test("a build pulls a base image it does not have, named by a build arg", () => {
    const fresh = makeStore();
    try {
      const dir = mkdtempSync(join(tmpdir(), "hull-ctx-"));
      writeFileSync(
        join(dir, "Dockerfile"),
        "ARG BASE=busybox\nFROM $BASE\nUSER root\nRUN echo extra >> /app/out.txt\nUSER 1000\n",
      );
      const r = hull(["build", "--build-arg", `BASE=${registry.host}/me/app:1`, "-t", "derived:1", dir], {
        root: fresh,
      });
      rmSync(dir, { recursive: true, force: true });
      expect(r.code, r.stderr).toBe(0);
      const base = ok(hull(["run", "--rm", `${registry.host}/me/app:1`], { root }));
      expect(ok(hull(["run", "--rm", "derived:1"], { root: fresh }))).toBe(`${base}extra\n`);
    } finally {
      removeStore(fresh);
    }
  });
});
