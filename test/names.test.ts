// Commands that take several names act on each, as docker does: a failure is a line of its own,
// the others still happen, and the exit status is 1 when any failed. And the states docker refuses.
import { expect, test } from "bun:test";
import { HULL, hull, ok, requireUnprivileged, useStore } from "./helpers";

requireUnprivileged();

const store = useStore();

const names = () =>
  ok(hull(["ps", "-a", "--format", "json"], store))
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l).Names as string)
    .sort();

test("rm -f of several names removes every one there is; a missing one is no error with -f", () => {
  for (const n of ["aa", "bb"]) ok(hull(["create", "--name", n, "busybox", "true"], store));
  const r = hull(["rm", "-f", "gone", "aa", "bb"], store);
  expect(r.code, r.stderr).toBe(0);
  expect(names()).toEqual([]);
  expect(hull(["rm", "-f", "gone"], store).code).toBe(0);
});

test("without -f, each failure is one line, the rest still happen, and the exit status is 1", () => {
  for (const n of ["cc", "dd"]) ok(hull(["create", "--name", n, "busybox", "true"], store));
  const r = hull(["rm", "cc", "gone", "dd", "also-gone"], store);
  expect(r.code).toBe(1);
  expect(r.stdout.trim().split("\n")).toEqual(["cc", "dd"]);
  expect(r.stderr.trim().split("\n")).toEqual(["hull: no such container: gone", "hull: no such container: also-gone"]);
  expect(names()).toEqual([]);
});

test("stop, kill and rmi go on past a missing name", () => {
  ok(hull(["run", "-d", "--name", "s1", "busybox", "sleep", "60"], store));
  ok(hull(["run", "-d", "--name", "s2", "busybox", "sleep", "60"], store));
  const stop = hull(["stop", "-t", "0", "gone", "s1"], store);
  expect(stop.code).toBe(1);
  expect(stop.stdout.trim()).toBe("s1");
  const kill = hull(["kill", "s2", "gone"], store);
  expect(kill.code).toBe(1);
  expect(kill.stdout.trim()).toBe("s2");
  expect(hull(["kill", "-s", "NOSUCHSIG", "s2"], store).code).toBe(125);
  ok(hull(["rm", "-f", "s1", "s2"], store));
  ok(hull(["tag", "busybox", "t1:1"], store));
  const rmi = hull(["rmi", "gone:1", "t1:1"], store);
  expect(rmi.code).toBe(1);
  expect(ok(hull(["images", "--format", "json"], store))).not.toContain("t1");
});

test("pause twice, unpause of a running one and exec into a paused one are refused", () => {
  ok(hull(["run", "-d", "--name", "pp", "busybox", "sleep", "60"], store));
  try {
    ok(hull(["pause", "pp"], store));
    const again = hull(["pause", "pp"], store);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("already paused");
    const exec = hull(["exec", "pp", "true"], store);
    expect(exec.code).not.toBe(0);
    expect(exec.stderr).toContain("is paused");
    ok(hull(["unpause", "pp"], store));
    const un = hull(["unpause", "pp"], store);
    expect(un.code).toBe(1);
    expect(un.stderr).toContain("is not paused");
  } finally {
    ok(hull(["rm", "-f", "pp"], store));
  }
});

test("wait on a container that was created and never started returns at once", () => {
  ok(hull(["create", "--name", "ww", "busybox", "true"], store));
  const started = Date.now();
  expect(ok(hull(["wait", "ww"], store)).trim()).toBe("0");
  expect(Date.now() - started).toBeLessThan(5000);
  ok(hull(["rm", "ww"], store));
});

test("a bad --tmpfs or too many variables is refused before any container exists", () => {
  const before = ok(hull(["ps", "-aq"], store));
  const r = hull(["run", "--name", "tmpfsbad", "--tmpfs", "/mnt:size=abc", "busybox", "true"], store);
  expect(r.code).toBe(125);
  expect(r.stderr).toContain("size takes a number");
  expect(ok(hull(["ps", "-aq"], store))).toBe(before);
});

test("more than 4096 environment variables: the container runs, as in docker", () => {
  const envs = Array.from({ length: 5000 }, (_, i) => ["-e", `V${i}=${i}`]).flat();
  const r = hull(["run", "--rm", ...envs, "busybox", "sh", "-c", "env | grep -c '^V'"], store);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout.trim()).toBe("5000");
  expect(ok(hull(["ps", "-aq"], store)).trim()).toBe("");
});

test("errors say what is wrong in words, one line each", () => {
  const refused = hull(["pull", "127.0.0.1:1/nothing:1"], store);
  expect(refused.stderr.trim()).toBe(
    "hull: cannot reach 127.0.0.1:1: connection refused (is the server running, and the address and port right?)",
  );
  const login = hull(["login", "-u", "a", "-p", "b", "http://127.0.0.1:1/v2/"], store);
  expect(login.stderr).toContain("cannot reach 127.0.0.1:1: connection refused");
  const long = hull(["run", "--rm", "--name", "n".repeat(300), "busybox", "true"], store);
  expect(long.stderr.trim()).toBe("hull: --name takes at most 200 characters");
  const bin = `${store.root}/binary.env`;
  require("node:fs").writeFileSync(bin, new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 0xff, 10]));
  const env = hull(["run", "--rm", "--env-file", bin, "busybox", "true"], store);
  expect(env.code).toBe(125);
  expect(env.stderr.trim()).toBe(`hull: env file ${bin} is not a text file of KEY=VALUE lines`);
  // a store hull cannot use: the path, in words, and how to choose another
  const { chmodSync, mkdirSync } = require("node:fs") as typeof import("node:fs");
  const locked = `${store.root}/locked`;
  mkdirSync(locked, { mode: 0o555 });
  const cases: [string, string][] = [
    [
      `${locked}/store`,
      `hull: cannot mkdir ${locked}/store: permission denied; hull keeps its store in ${locked}/store: give --root DIR or HULL_ROOT=DIR`,
    ],
    [
      `${bin}/store`,
      `hull: cannot open ${bin}/store/repositories.json: a part of the path is not a directory; hull keeps its store in ${bin}/store`,
    ],
    [`${store.root}/${"x".repeat(300)}`, "the path is too long; hull keeps its store in"],
  ];
  for (const [root, said] of cases) {
    const r = hull(["run", "--rm", "--root", root, "busybox", "true"], store);
    expect(r.code).toBe(125);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain(said);
  }
  chmodSync(locked, 0o755);
  // a relative --root is taken from the current directory; an empty one is refused
  const rel = Bun.spawnSync([HULL, "volume", "create", "--root", "rel-store", "relvol"], {
    cwd: store.root,
    env: { PATH: process.env.PATH ?? "" },
  });
  expect(rel.exitCode, rel.stderr.toString()).toBe(0);
  expect(require("node:fs").existsSync(`${store.root}/rel-store/volumes/relvol`)).toBe(true);
  expect(hull(["ps", "--root", ""], store).stderr.trim()).toBe("hull: --root needs a directory: --root DIR");
  const flagFirst = hull(["--root", "/tmp", "ps"], store);
  expect(flagFirst.stderr.trim()).toBe(
    "hull: --root: hull's flags go after the command (hull COMMAND --root ...; see 'hull --help')",
  );
  const vol = hull(["volume", "create", "v".repeat(300)], store);
  expect(vol.stderr).toContain("2 to 200 letters");
});

test("inspect finds a container or an image; a name that is neither is a line of its own, exit 1", () => {
  ok(hull(["create", "--name", "insp", "busybox", "true"], store));
  const r = hull(["inspect", "insp", "busybox", "nothing-here"], store);
  expect(r.code).toBe(1);
  const found = JSON.parse(r.stdout);
  expect(found).toHaveLength(2);
  expect(found[0].Name).toBe("/insp");
  expect(found[1].RepoTags).toEqual(["busybox:latest"]);
  expect(r.stderr.trim()).toBe("hull: no such object: nothing-here");
  ok(hull(["rm", "insp"], store));
});

test("ps -q of nothing prints nothing", () => {
  expect(ok(hull(["ps", "-aq"], store))).toBe("");
  expect(ok(hull(["ps", "-a", "--format", "{{.ID}}"], store))).toBe("");
});

test("--help after a flag's value is still hull's help", () => {
  for (const args of [
    ["run", "--name", "nn", "--help", "busybox"],
    ["run", "-e", "A=1", "--help", "busybox"],
  ]) {
    const r = hull(args, store);
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).toContain("USAGE");
  }
  expect(ok(hull(["ps", "-aq"], store))).toBe("");
});

test("--filter narrows ps, images and volume ls as docker's does", () => {
  ok(hull(["create", "--name", "xone", "busybox", "true"], store));
  expect(hull(["run", "--name", "ytwo", "-v", "usedvol:/v", "busybox", "sh", "-c", "exit 4"], store).code).toBe(4);
  ok(hull(["volume", "create", "freevol"], store));
  const id = (n: string) => JSON.parse(ok(hull(["container", "inspect", n], store)))[0].Id.slice(0, 12);
  expect(ok(hull(["ps", "-aq", "--filter", "name=xone"], store)).trim()).toBe(id("xone"));
  expect(ok(hull(["ps", "-q", "-f", "status=exited"], store)).trim()).toBe(id("ytwo"));
  expect(ok(hull(["ps", "-aq", "-f", "exited=4"], store)).trim()).toBe(id("ytwo"));
  expect(
    ok(hull(["ps", "-aq", "-f", "status=created", "-f", "status=exited"], store))
      .trim()
      .split("\n"),
  ).toHaveLength(2);
  expect(ok(hull(["ps", "-aq", "-f", "name=nobody"], store))).toBe("");
  ok(hull(["tag", "busybox", "mine/box:7"], store));
  expect(ok(hull(["images", "--format", "json", "-f", "reference=mine/*"], store))).toContain("mine/box");
  expect(ok(hull(["images", "--format", "json", "-f", "reference=mine/*"], store))).not.toContain('"busybox"');
  expect(ok(hull(["images", "-q", "-f", "dangling=true"], store))).toBe("");
  expect(ok(hull(["volume", "ls", "-q", "-f", "dangling=true"], store)).trim()).toBe("freevol");
  expect(hull(["volume", "ls", "-f", "scope=local"], store).code).toBe(125);
  ok(hull(["rm", "xone", "ytwo"], store));
  ok(hull(["volume", "rm", "freevol", "usedvol"], store));
});

test("a container's start time is its latest run's: inspect's StartedAt, and ps's Up after a start", async () => {
  ok(hull(["create", "--name", "later", "busybox", "sleep", "30"], store));
  const created = JSON.parse(ok(hull(["container", "inspect", "later"], store)))[0];
  expect(created.State.StartedAt).toBe("");
  await Bun.sleep(2100);
  ok(hull(["start", "later"], store));
  const started = JSON.parse(ok(hull(["container", "inspect", "later"], store)))[0];
  expect(Date.parse(started.State.StartedAt) - Date.parse(created.Created)).toBeGreaterThan(2000);
  const ps = JSON.parse(ok(hull(["ps", "--format", "json", "-f", "name=later"], store)).trim());
  expect(ps.Status).not.toContain("2 seconds");
  ok(hull(["rm", "-f", "later"], store));
});

test("labels: run -l/--label over the image's, shown by inspect, filtered by ps and images (ANDed, KEY or KEY=VALUE)", () => {
  ok(hull(["run", "--name", "lab1", "-l", "team=a", "--label", "tier=web", "busybox", "true"], store));
  ok(hull(["run", "--name", "lab2", "-l", "team=b", "busybox", "true"], store));
  const names = (...f: string[]) =>
    ok(hull(["ps", "-a", "--format", "json", ...f.flatMap((x) => ["--filter", x])], store))
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l).Names)
      .sort();
  expect(names("label=team")).toEqual(["lab1", "lab2"]);
  expect(names("label=team=a")).toEqual(["lab1"]);
  expect(names("label=team", "label=tier=web")).toEqual(["lab1"]);
  expect(names("label=team=c")).toEqual([]);
  const [info] = JSON.parse(ok(hull(["inspect", "lab1"], store)));
  // the image's own labels too, as docker merges them
  expect(info.Config.Labels).toMatchObject({ team: "a", tier: "web", "org.opencontainers.image.title": "busybox" });
  ok(hull(["commit", "-c", "LABEL owner=ci", "lab1", "labelled:1"], store));
  expect(ok(hull(["images", "-q", "--filter", "label=owner=ci"], store)).trim()).toHaveLength(12);
  expect(ok(hull(["images", "-q", "--filter", "label=owner=nobody"], store))).toBe("");
  ok(hull(["rm", "lab1", "lab2"], store));
  ok(hull(["rmi", "labelled:1"], store));
});

test("prune asks first, as docker: without -f only a 'y' on stdin removes; --filter until= and label= narrow it", () => {
  ok(hull(["create", "--name", "old-one", "-l", "keep=no", "busybox", "true"], store));
  const asked = hull(["container", "prune"], store);
  expect(asked.code).toBe(0);
  expect(asked.stderr).toContain("WARNING! This will remove all stopped containers.");
  expect(asked.stderr).toContain("Nothing removed");
  expect(ok(hull(["ps", "-aq", "--filter", "name=old-one"], store))).not.toBe("");
  // an image just made is not older than a day: until=24h keeps it; a label filter that does not match keeps it
  ok(hull(["commit", "old-one", "fresh:1"], store));
  expect(ok(hull(["image", "prune", "-a", "-f", "--filter", "until=24h"], store)).trim()).toBe("Nothing to remove");
  expect(ok(hull(["container", "prune", "-f", "--filter", "label=keep=yes"], store)).trim()).toBe("Nothing to remove");
  const bad = hull(["image", "prune", "-f", "--filter", "until=soon"], store);
  expect(bad.code).toBe(125);
  expect(bad.stderr).toContain("give a duration (24h, 90m)");
  expect(hull(["image", "prune", "-f", "--filter", "dangling=true"], store).stderr).toContain(
    "--filter dangling is not supported by hull image prune",
  );
  // y on stdin: removed
  const yes = hull(["container", "prune", "--filter", "label=keep=no"], { ...store, stdin: "y\n" });
  expect(yes.code).toBe(0);
  expect(ok(hull(["ps", "-aq", "--filter", "name=old-one"], store))).toBe("");
  expect(ok(hull(["image", "prune", "-a", "-f", "--filter", "until=0s"], store))).toContain("Deleted:");
  expect(ok(hull(["system", "prune", "-f"], store))).toContain("build cache entr");
});

test("logs --since and --until take docker's durations and dates", () => {
  ok(hull(["run", "--name", "lg", "busybox", "echo", "a line"], store));
  expect(ok(hull(["logs", "--since", "1h", "lg"], store))).toBe("a line\n");
  expect(ok(hull(["logs", "--since", "2100-01-01T00:00:00Z", "lg"], store))).toBe("");
  expect(ok(hull(["logs", "--until", "1h", "lg"], store))).toBe("");
  expect(ok(hull(["logs", "--since", "0", "--until", "2100-01-01T00:00:00Z", "lg"], store))).toBe("a line\n");
  const bad = hull(["logs", "--since", "yesterday", "lg"], store);
  expect(bad.code).toBe(125);
  expect(bad.stderr).toContain("--since yesterday: give a duration");
  ok(hull(["rm", "lg"], store));
});
