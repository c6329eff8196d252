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

test("cp CONTAINER:PATH - keeps the owners the container sees, running or stopped", () => {
  ok(
    hull(
      [
        "run",
        "-d",
        "--name",
        "owners",
        "busybox",
        "sh",
        "-c",
        "mkdir /o && touch /o/f && chown 1234:2345 /o/f; sleep 60",
      ],
      store,
    ),
  );
  try {
    let listed = "";
    for (let i = 0; i < 50 && !listed.includes("1234/2345"); i++) {
      listed = sh(`"$HULL" cp owners:/o - | tar -tv --numeric-owner`).stdout;
      Bun.sleepSync(100);
    }
    expect(listed).toMatch(/0\/0 .* o\/\n/);
    expect(listed).toMatch(/1234\/2345 .* o\/f\n/);
    ok(hull(["stop", "-t", "0", "owners"], store));
    expect(sh(`"$HULL" cp owners:/o - | tar -tv --numeric-owner`).stdout).toMatch(/1234\/2345 .* o\/f\n/);
  } finally {
    hull(["rm", "-f", "owners"], store);
  }
});

test("export writes the container's root filesystem: image and changes, owners kept, no mounts, no deleted files", () => {
  ok(
    hull(
      [
        "run",
        "-d",
        "--name",
        "exp",
        "-v",
        "exp-vol:/vol",
        "--tmpfs",
        "/scratch",
        "busybox",
        "sh",
        "-c",
        "echo new > /added && chown 1234:2345 /added && rm /etc/group && ln /added /hardlink && echo v > /vol/in-volume && echo t > /scratch/t && touch /ready && sleep 60",
      ],
      store,
    ),
  );
  try {
    for (let i = 0; i < 100 && hull(["exec", "exp", "test", "-e", "/ready"], store).code !== 0; i++) Bun.sleepSync(100);
    // running: read from its layers, not from /proc/PID/root with its volume, tmpfs, /proc and /dev
    const running = sh(`"$HULL" export exp | tar -tv --numeric-owner`);
    expect(running.code, running.stderr).toBe(0);
    const names = running.stdout
      .trim()
      .split("\n")
      .map((l) => l.split(/\s+/).slice(5).join(" "));
    expect(names).toContain("bin/busybox");
    expect(names).toContain("added");
    expect(names).toContain("hardlink link to added");
    expect(names).not.toContain("etc/group");
    expect(names).not.toContain("vol/in-volume");
    expect(names).not.toContain("scratch/t");
    // the image's empty mount points only
    expect(names.filter((n) => /^(proc|dev|sys)\/./.test(n))).toEqual([]);
    expect(running.stdout).toMatch(/1234\/2345 .* added\n/);
    // the container runs on, unpaused
    expect(ok(hull(["inspect", "-f", "json", "exp"], store))).toContain('"Status": "running"');
    ok(hull(["stop", "-t", "0", "exp"], store));
    // stopped, to a file: the same tree; `hull import` takes it back as an image that runs
    const file = join(store.root, "exp.tar");
    ok(hull(["export", "-o", file, "exp"], store));
    expect(sh(`tar -tf "${file}" | sort`).stdout).toBe(sh(`"$HULL" export exp | tar -t | sort`).stdout);
    ok(hull(["import", file, "exported:1"], store));
    expect(ok(hull(["run", "--rm", "exported:1", "cat", "/added"], store))).toBe("new\n");
    // nothing half-written: a failed export leaves no file
    const bad = hull(["export", "-o", join(store.root, "exp2.tar"), "no-such"], store);
    expect(bad.code).toBe(1);
    expect(sh(`ls -a "$HULL_ROOT" | grep -c exp2 || true`).stdout.trim()).toBe("0");
  } finally {
    hull(["rm", "-f", "exp"], store);
  }
});

test("export refuses a terminal, as docker does", () => {
  const r = hullOnTerminal(`"${HULL}" export nothing-needed`, store.root);
  expect(r.stdout + r.stderr).toContain("refusing to write a tar to a terminal");
});

test("a copy cut short leaves the container running, not paused; one line, no stack, when the reader goes", async () => {
  ok(
    hull(
      [
        "run",
        "-d",
        "--name",
        "cut",
        "busybox",
        "sh",
        "-c",
        "dd if=/dev/zero of=/big bs=1M count=64 2>/dev/null; mkfifo /p; touch /ready; sleep 60",
      ],
      store,
    ),
  );
  try {
    for (let i = 0; i < 100 && hull(["exec", "cut", "test", "-e", "/ready"], store).code !== 0; i++) Bun.sleepSync(100);
    const head = sh(`"$HULL" cp cut:/big - | head -c 1000 | wc -c`);
    expect(head.stdout.trim()).toBe("1000");
    expect(head.stderr).not.toContain("    at ");
    expect(head.stderr.trim().split("\n").length).toBeLessThanOrEqual(1);
    const status = () => JSON.parse(ok(hull(["ps", "--format", "json", "--filter", "name=cut"], store))).State;
    expect(status()).toBe("running");
    // Ctrl-C while an export to a file runs: the container goes on, and no half file is left
    const out = join(store.root, "cut-export");
    mkdirSync(out);
    const p = Bun.spawn([HULL, "export", "-o", join(out, "cut.tar"), "cut"], {
      env: { ...process.env, HULL_ROOT: store.root },
      stderr: "pipe",
    });
    await Bun.sleep(300);
    p.kill("SIGINT");
    await p.exited;
    expect(status()).toBe("running");
    expect(
      require("node:fs")
        .readdirSync(out)
        .filter((n: string) => n.includes(".hull-")),
    ).toEqual([]);
    // CONTAINER:/ is named from the root, and a FIFO does not stop a copy to a directory
    const names = sh(`"$HULL" cp cut:/ - | tar -t`).stdout.split("\n");
    expect(names).toContain("bin/busybox");
    expect(names.filter((n) => /^(root|merged)\/bin\//.test(n) || /^proc\/./.test(n))).toEqual([]);
    const dir = join(store.root, "cut-root");
    mkdirSync(dir);
    ok(hull(["cp", "cut:/etc", dir], store));
    expect(require("node:fs").existsSync(join(dir, "etc", "passwd"))).toBe(true);
    ok(hull(["stop", "-t", "0", "cut"], store));
    const top = join(store.root, "cut-top");
    mkdirSync(top);
    ok(hull(["cp", "cut:/", top], store));
    expect(require("node:fs").existsSync(join(top, "bin", "busybox"))).toBe(true);
    expect(require("node:fs").existsSync(join(top, "p"))).toBe(false);
  } finally {
    hull(["rm", "-f", "cut"], store);
  }
});

test("export -o: a directory, an empty name and a device are answered in words, or written", () => {
  ok(hull(["create", "--name", "ex2", "busybox", "true"], store));
  const dir = hull(["export", "-o", store.root, "ex2"], store);
  expect(dir.code).toBe(125);
  expect(dir.stderr.trim()).toBe(`hull: ${store.root} is a directory: give -o a file name`);
  expect(hull(["export", "-o", "", "ex2"], store).stderr.trim()).toBe("hull: -o needs a file name");
  ok(hull(["export", "-o", "/dev/null", "ex2"], store));
  const full = sh(`"$HULL" export ex2 > /dev/full`);
  expect(full.code).not.toBe(0);
  expect(full.stderr.trim().split("\n")).toHaveLength(1);
  expect(full.stderr).toContain("cannot write standard output");
  ok(hull(["rm", "ex2"], store));
});
