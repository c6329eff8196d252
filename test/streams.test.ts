// Pipes as docker scripts use them (save to stdout, load and import from stdin), and docker's
// command aliases (container VERB, image VERB, buildx build).
import { expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { HULL, hull, hullOnTerminal, ok, requireUnprivileged, useStore } from "./helpers";

requireUnprivileged();

const store = useStore();

/** a shell pipeline with hull in it, against the test's store */
function sh(script: string): { code: number; stdout: string; stderr: string } {
  const r = Bun.spawnSync(["sh", "-c", script], {
    env: { PATH: process.env.PATH ?? "/bin", HOME: process.env.HOME ?? "/tmp", HULL_ROOT: store.root, HULL: HULL },
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

test("save to stdout, load from stdin, plain and gzipped", () => {
  ok(hull(["tag", "busybox", "piped:1"], store));
  const saved = sh(`"$HULL" save piped:1 | gzip > "$HULL_ROOT/piped.tgz" && "$HULL" rmi piped:1`);
  expect(saved.code, saved.stderr).toBe(0);
  const loaded = sh(`"$HULL" load < "$HULL_ROOT/piped.tgz"`);
  expect(loaded.code, loaded.stderr).toBe(0);
  expect(loaded.stdout).toContain("Loaded image: piped:1");
  expect(ok(hull(["run", "--rm", "piped:1", "echo", "back"], store))).toBe("back\n");
});

test("save refuses a terminal, as docker does", () => {
  const r = hullOnTerminal(`${HULL} save busybox`, store.root);
  expect(r.code).toBe(125);
  expect(r.stdout).toContain("refusing to write an archive to a terminal");
});

test("import - reads a root filesystem tarball from stdin", () => {
  const dir = join(store.root, "rootfs");
  mkdirSync(join(dir, "bin"), { recursive: true });
  writeFileSync(join(dir, "hello"), "from stdin\n");
  const r = sh(
    `cp /bin/busybox "$HULL_ROOT/rootfs/bin/" && tar -C "$HULL_ROOT/rootfs" -c . | "$HULL" import - fromstdin:1`,
  );
  expect(r.code, r.stderr).toBe(0);
  expect(ok(hull(["run", "--rm", "fromstdin:1", "/bin/busybox", "cat", "/hello"], store))).toBe("from stdin\n");
});

test("docker's aliases: container VERB, image VERB, buildx build", () => {
  expect(ok(hull(["container", "run", "--rm", "busybox", "echo", "aliased"], store))).toBe("aliased\n");
  ok(hull(["container", "create", "--name", "al", "busybox", "sleep", "30"], store));
  ok(hull(["container", "start", "al"], store));
  expect(ok(hull(["container", "exec", "al", "echo", "in"], store))).toBe("in\n");
  ok(hull(["container", "stop", "-t", "0", "al"], store));
  ok(hull(["container", "rm", "al"], store));
  expect(ok(hull(["image", "ls"], store))).toContain("busybox");
  const ctx = join(store.root, "ctx");
  mkdirSync(ctx, { recursive: true });
  writeFileSync(join(ctx, "Dockerfile"), "FROM busybox\nRUN echo built > /b\n");
  ok(hull(["buildx", "build", "--progress=plain", "--rm", "-t", "bx:1", ctx], store));
  expect(ok(hull(["run", "--rm", "bx:1", "cat", "/b"], store))).toBe("built\n");
  expect(hull(["build", "--progress=fancy", ctx], store).code).toBe(125);
});

test("cp takes tar streams both ways, as docker cp - does", () => {
  ok(
    hull(
      ["run", "--name", "cps", "busybox", "sh", "-c", "mkdir -p /out/sub && echo a > /out/a && echo b > /out/sub/b"],
      store,
    ),
  );
  const out = sh(`"$HULL" cp cps:/out - | tar -t | sort`);
  expect(out.code, out.stderr).toBe(0);
  expect(out.stdout.trim().split("\n")).toEqual(["out/", "out/a", "out/sub/", "out/sub/b"]);
  const into = sh(
    `mkdir -p "$HULL_ROOT/src/d" && echo c > "$HULL_ROOT/src/d/c" && tar -C "$HULL_ROOT/src" -c d | "$HULL" cp - cps:/out`,
  );
  expect(into.code, into.stderr).toBe(0);
  ok(hull(["commit", "cps", "cps-img:1"], store));
  expect(ok(hull(["run", "--rm", "cps-img:1", "cat", "/out/d/c", "/out/a"], store))).toBe("c\na\n");
  // a stream that tries to climb out is refused, and writes nothing outside
  const evil = sh(
    `printf x > "$HULL_ROOT/evil" && tar -C "$HULL_ROOT" -c --transform 's,^,../../,' evil | "$HULL" cp - cps:/out`,
  );
  expect(evil.code).toBe(125);
  ok(hull(["rm", "cps"], store));
});
