// hull oci (and hull-oci): runc's command line on bundles. Bundles are made by `hull oci spec` and by
// `crun spec --rootless` on the rootfs of the embedded busybox image; crun runs the same bundle for
// comparison, and rootless podman drives hull-oci as its runtime.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import {
  HULL,
  hostHas,
  hull,
  makeStore,
  ok,
  podmanSandbox,
  type Result,
  removeStore,
  requireUnprivileged,
} from "./helpers";

const LAYER = resolve(import.meta.dir, "..", "build", "busybox-image", "layer.tar");

let work = "";
let state = "";
let rootfs = "";

beforeAll(() => {
  requireUnprivileged();
  work = mkdtempSync(join(tmpdir(), "hull-oci-"));
  state = join(work, "state");
  rootfs = join(work, "rootfs");
  mkdirSync(rootfs);
  const tar = Bun.spawnSync(["tar", "-xf", LAYER, "-C", rootfs]);
  if (tar.exitCode !== 0) throw new Error(`tar: ${tar.stderr}`);
});

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

function run(argv: string[], opts: { stdin?: string; env?: Record<string, string> } = {}): Result {
  const r = Bun.spawnSync(argv, {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/tmp", ...opts.env },
    stdin: opts.stdin === undefined ? "ignore" : new TextEncoder().encode(opts.stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

const oci = (...args: string[]) => run([HULL, "oci", "--root", state, ...args]);

/**
 * create and run -d: the container keeps the caller's stdout and stderr (conmon's pipes, in podman),
 * so they go to OUT here: a pipe to this test would stay open as long as the container runs.
 */
function detached(out: string, ...args: string[]): Result {
  const r = run(["sh", "-c", 'out=$1; shift; "$@" > "$out" 2>&1', "sh", out, HULL, "oci", "--root", state, ...args]);
  return { ...r, stderr: existsSync(out) ? readFileSync(out, "utf8") : "" };
}

type Config = Record<string, any>;

/** A bundle from `hull oci spec`, its rootfs the shared one, changed by EDIT. */
function bundle(name: string, edit: (c: Config) => void = () => {}): string {
  const dir = join(work, name);
  mkdirSync(dir);
  ok(run([HULL, "oci", "spec", "--bundle", dir]));
  const file = join(dir, "config.json");
  const c = JSON.parse(readFileSync(file, "utf8"));
  c.root.path = rootfs;
  c.process.terminal = false;
  edit(c);
  writeFileSync(file, JSON.stringify(c));
  return dir;
}

async function until(what: () => boolean, ms = 5000): Promise<void> {
  for (let i = 0; i < ms / 20 && !what(); i++) await Bun.sleep(20);
}

const status = (id: string) => JSON.parse(ok(oci("state", id))).status as string;

test("hull oci spec writes a rootless config.json that runs; the exit code is the command's", () => {
  const dir = bundle("spec", (c) => {
    c.process.args = ["sh", "-c", "echo hi; id -u; hostname; cat /proc/self/uid_map | wc -l; exit 3"];
  });
  const r = oci("run", "--bundle", dir, "spec1");
  expect(r.stderr).toBe("");
  expect(r.code).toBe(3);
  expect(r.stdout).toBe("hi\n0\nhull\n1\n");
  // runc's run removes the container once it is gone
  expect(ok(oci("list", "-q"))).toBe("");
  const again = run([HULL, "oci", "spec", "--bundle", dir]);
  expect(again.code).toBe(1);
  expect(again.stderr).toContain("config.json exists: remove it first");
});

test("create, start, state, kill, delete: runc's lifecycle, with the caller's stdio and a pid file", async () => {
  const dir = bundle("life", (c) => {
    c.process.args = ["sh", "-c", "trap 'echo bye; exit 0' TERM; echo started; while :; do sleep 0.05; done"];
  });
  const out = join(work, "life.out");
  const pidFile = join(work, "life.pid");
  // the container keeps create's stdout: a file here, as conmon gives a pipe
  const created = detached(out, "create", "--bundle", dir, "--pid-file", pidFile, "c1");
  expect(created.stderr).toBe("");
  expect(created.code).toBe(0);
  const st = JSON.parse(ok(oci("state", "c1")));
  expect(st).toMatchObject({ ociVersion: "1.0.2", id: "c1", status: "created", bundle: dir, rootfs });
  expect(String(st.pid)).toBe(readFileSync(pidFile, "utf8"));
  expect(readFileSync(`/proc/${st.pid}/comm`, "utf8").trim()).toBe("hull-container");
  expect(readFileSync(out, "utf8")).toBe(""); // nothing ran yet
  expect(ok(oci("list"))).toMatch(/^ID\s+PID\s+STATUS\s+BUNDLE\s+CREATED\s+OWNER\nc1\s+\d+\s+created\s/);

  ok(oci("start", "c1"));
  await until(() => readFileSync(out, "utf8") === "started\n");
  expect(readFileSync(out, "utf8")).toBe("started\n");
  expect(status("c1")).toBe("running");
  expect(JSON.parse(ok(oci("ps", "--format", "json", "c1")))).toContain(st.pid);
  const twice = oci("start", "c1");
  expect(twice.code).toBe(1);
  expect(twice.stderr).toBe("hull-oci: container c1 is running: only a created container starts\n");
  const busy = oci("delete", "c1");
  expect(busy.code).toBe(1);
  expect(busy.stderr).toContain("kill it first, or delete --force");

  ok(oci("kill", "c1", "SIGTERM"));
  await until(() => status("c1") === "stopped");
  expect(status("c1")).toBe("stopped");
  expect(readFileSync(out, "utf8")).toBe("started\nbye\n");
  const dead = oci("kill", "c1");
  expect(dead.code).toBe(1);
  ok(oci("delete", "c1"));
  const gone = oci("state", "c1");
  expect(gone.code).toBe(1);
  expect(gone.stderr).toBe("hull-oci: container c1 does not exist\n");
});

test("delete --force of a created container, and of a running one, leaves no process behind", async () => {
  const dir = bundle("force", (c) => {
    c.process.args = ["sleep", "60"];
  });
  for (const [id, start] of [
    ["f1", false],
    ["f2", true],
  ] as const) {
    ok(detached(join(work, `${id}.out`), "create", "--bundle", dir, id));
    const pid = JSON.parse(ok(oci("state", id))).pid;
    if (start) ok(oci("start", id));
    ok(oci("delete", "--force", id));
    await until(() => !existsSync(`/proc/${pid}/comm`) || readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z"));
    expect(existsSync(`/proc/${pid}/comm`) && !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z")).toBe(false);
    expect(oci("state", id).code).toBe(1);
  }
});

test("a bundle without a process: create makes it, start says it has none, run refuses it", () => {
  const dir = bundle("noproc", (c) => {
    delete c.process;
  });
  ok(detached(join(work, "np.out"), "create", "--bundle", dir, "np"));
  const r = oci("start", "np");
  expect(r.code).toBe(1);
  expect(r.stderr).toBe("hull-oci: container np has no process (config.json had none): start needs one\n");
  expect(status("np")).toBe("created");
  ok(oci("delete", "-f", "np"));
  const run = oci("run", "--bundle", dir, "np2");
  expect(run.code).toBe(1);
  expect(run.stderr).toBe("hull-oci: config.json: process: a container needs a process to run\n");
});

test("exec: in the foreground with the command's exit code, and detached with its pid written", async () => {
  const dir = bundle("exec", (c) => {
    c.process.args = ["sleep", "60"];
    c.process.env.push("FROM_CONFIG=1");
  });
  ok(detached(join(work, "e1.out"), "run", "-d", "--bundle", dir, "e1"));
  try {
    expect(status("e1")).toBe("running");
    const r = oci(
      "exec",
      "-e",
      "EXTRA=2",
      "--cwd",
      "/etc",
      "e1",
      "sh",
      "-c",
      'echo "$FROM_CONFIG$EXTRA $(pwd) $(hostname)"; exit 5',
    );
    expect(r.stdout).toBe("12 /etc hull\n");
    expect(r.code).toBe(5);
    // --process: a process.json as conmon writes it
    const proc = join(work, "process.json");
    writeFileSync(
      proc,
      JSON.stringify({
        args: ["sh", "-c", 'echo "$X"; pwd'],
        cwd: "/tmp",
        user: { uid: 0, gid: 0 },
        env: ["X=from-json"],
      }),
    );
    expect(ok(oci("exec", "--process", proc, "e1"))).toBe("from-json\n/tmp\n");
    // the command's own words are its own, `--` too; -e replaces the config's variable
    expect(
      ok(oci("exec", "-e", "FROM_CONFIG=9", "e1", "sh", "-c", 'echo "$FROM_CONFIG" "$@"', "sh", "a", "--", "b")),
    ).toBe("9 a -- b\n");
    const big = oci("exec", "-u", "4294967296", "e1", "id");
    expect(big.code).toBe(1);
    expect(big.stderr).toContain("--user: an id is at most 4294967294");
    // ids the container does not map are refused by the kernel, in words
    writeFileSync(proc, JSON.stringify({ args: ["id"], cwd: "/", user: { uid: 1000, gid: 1000 } }));
    const unmapped = oci("exec", "--process", proc, "e1");
    expect(unmapped.code).toBe(125);
    expect(unmapped.stderr).toContain("setresgid 1000 (is the group mapped?");
    const pidFile = join(work, "exec.pid");
    ok(detached(join(work, "exec.out"), "exec", "-d", "--pid-file", pidFile, "e1", "sleep", "30"));
    const pid = Number(readFileSync(pidFile, "utf8"));
    expect(readFileSync(`/proc/${pid}/cmdline`, "utf8")).toBe("sleep\x0030\x00");
    expect(JSON.parse(ok(oci("ps", "-f", "json", "e1")))).toContain(pid);
  } finally {
    ok(oci("delete", "-f", "e1"));
  }
});

test("hooks: each kind at its point, in order, with the state on stdin; one that fails before the command stops it", () => {
  const log = join(work, "hooks.log");
  const hook = (kind: string, extra = "") => ({
    path: "/bin/sh",
    args: ["sh", "-c", `echo "${kind} $(cat)" >> ${log}${extra}`],
  });
  const kinds = ["prestart", "createRuntime", "createContainer", "poststart", "poststop"];
  const dir = bundle("hooks", (c) => {
    c.root.readonly = false;
    c.process.args = ["cat", "/started"];
    c.hooks = Object.fromEntries(kinds.map((k) => [k, [hook(k)]]));
    // startContainer runs in the container's root: what it read is the command's to print
    c.hooks.startContainer = [{ path: "/bin/sh", args: ["sh", "-c", "cat > /started"] }];
    c.hooks.poststart.push(hook("poststart-2"));
  });
  const lines = () => {
    const text = existsSync(log) ? readFileSync(log, "utf8") : "";
    rmSync(log, { force: true });
    return text
      .trim()
      .split("\n")
      .map((l) => {
        const [kind, json] = [l.slice(0, l.indexOf(" ")), l.slice(l.indexOf(" ") + 1)];
        const s = JSON.parse(json);
        return `${kind} ${s.status} ${s.id}`;
      });
  };
  const r = oci("run", "--bundle", dir, "h1");
  expect(r.stderr).toBe("");
  expect(JSON.parse(r.stdout)).toMatchObject({ status: "created", id: "h1", bundle: dir });
  expect(lines()).toEqual([
    "prestart creating h1",
    "createRuntime creating h1",
    "createContainer creating h1",
    "poststart running h1",
    "poststart-2 running h1",
    "poststop stopped h1",
  ]);
  ok(detached(join(work, "h2.out"), "create", "--bundle", dir, "h2"));
  expect(lines()).toEqual(["prestart creating h2", "createRuntime creating h2", "createContainer creating h2"]);
  ok(oci("start", "h2"));
  expect(lines()).toEqual(["poststart running h2", "poststart-2 running h2"]);
  ok(oci("delete", "-f", "h2"));
  expect(lines()).toEqual(["poststop stopped h2"]);

  // a createRuntime hook that fails: create fails with its word, nothing is left; a poststart that
  // fails is a warning, and the next poststart still runs
  const failing = bundle("hooks-fail", (c) => {
    c.process.args = ["true"];
    c.hooks = { createRuntime: [{ path: "/bin/false" }], poststart: [{ path: "/bin/false" }, hook("after")] };
  });
  const errors = join(work, "h3.log");
  const bad = detached(
    join(work, "h3.out"),
    "--log",
    errors,
    "--log-format",
    "json",
    "create",
    "--bundle",
    failing,
    "h3",
  );
  expect(bad.code).toBe(125);
  expect(bad.stderr).toBe("hull: hook /bin/false failed (exit 1)\n");
  expect(oci("state", "h3").code).toBe(1);
  // the shim's own error reaches the --log too, where containerd and CRI-O look for the reason
  expect(JSON.parse(readFileSync(errors, "utf8"))).toMatchObject({
    level: "error",
    msg: "hook /bin/false failed (exit 1)",
  });
  const c = JSON.parse(readFileSync(join(failing, "config.json"), "utf8"));
  c.hooks = { poststart: [{ path: "/bin/false" }, hook("after")] };
  writeFileSync(join(failing, "config.json"), JSON.stringify(c));
  const warned = oci("run", "--bundle", failing, "h4");
  expect(warned.code).toBe(0);
  expect(warned.stderr).toBe("hull: warning: hook /bin/false failed (exit 1)\n");
  expect(lines()).toEqual(["after running h4"]);
});

test("what hull does not carry out is refused by its JSON path, exit 1, and nothing is left", () => {
  const cases: [string, (c: Config) => void, string][] = [
    ["intelrdt", (c) => (c.linux.intelRdt = { closID: "x" }), "config.json: linux.intelRdt: not supported by hull"],
    [
      "kmem",
      (c) => (c.linux.resources = { memory: { kernel: 1 } }),
      "config.json: linux.resources.memory.kernel: memory.kernel has no cgroup v2 file",
    ],
    [
      "pidpath",
      (c) => (c.linux.namespaces[0].path = "/proc/1/ns/pid"),
      "config.json: linux.namespaces[0].path: hull joins only",
    ],
    [
      "nouser",
      (c) => (c.linux.namespaces = c.linux.namespaces.filter((n: Config) => n.type !== "user")),
      "needs a user namespace",
    ],
    [
      "badcap",
      (c) => (c.process.capabilities.bounding = ["CAP_NOPE"]),
      "process.capabilities.bounding[0]: unknown capability",
    ],
    ["apparmor", (c) => (c.process.apparmorProfile = "x"), "process.apparmorProfile: hull loads no AppArmor profile"],
  ];
  for (const [name, edit, message] of cases) {
    const dir = bundle(`refuse-${name}`, edit);
    const r = oci("run", "--bundle", dir, name);
    expect(r.code, name).toBe(1);
    expect(r.stderr, name).toContain(message);
    expect(r.stderr.trim().split("\n"), name).toHaveLength(1);
  }
  expect(ok(oci("list", "-q"))).toBe("");
  const bad = oci("create", "--bundle", work, "../x");
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain("a container id takes letters, digits");
  expect(oci("--no-such-flag", "list").code).toBe(1);
});

test("hostile bundles and careless calls (an attack run's findings): refused in words, nothing left running", async () => {
  // CODE: 1 for what hull oci refuses, 125 for what the shim finds (it exits as hull run's does)
  const refused = (name: string, edit: (c: Config) => void, message: string, code = 1) => {
    const r = oci("run", "--bundle", bundle(name, edit), name);
    expect(r.code, name).toBe(code);
    expect(r.stderr, name).toContain(message);
    expect(oci("state", name).code, name).toBe(1);
  };
  // the kernel takes no data on a bind: `rro` (or a typo of ro) would have left it writable
  const vol = join(work, "vol");
  mkdirSync(vol);
  writeFileSync(join(vol, "f"), "host\n");
  refused(
    "rro",
    (c) => {
      c.process.args = ["sh", "-c", "echo x >> /v/f"];
      c.mounts.push({ destination: "/v", type: "bind", source: vol, options: ["rbind", "rro"] });
    },
    "config.json: mounts[6].options: rro: not an option hull carries out on a bind mount",
  );
  expect(readFileSync(join(vol, "f"), "utf8")).toBe("host\n");
  // (uid_t)-1 is "no change" to setresuid: the command would have stayed root
  refused(
    "uidmax",
    (c) => (c.process.user.uid = 4294967295),
    "config.json: process.user.uid: an id is at most 4294967294",
  );
  // an rlimit past what a JSON number carries exactly is refused, not wrapped to a small one
  refused(
    "rlim",
    (c) => (c.process.rlimits = [{ type: "RLIMIT_CORE", soft: 1e30, hard: 1e30 }]),
    "config.json: process.rlimits[0].soft: 1e+30 is past what JSON carries exactly",
  );
  // unlimited (2^64-1) is unlimited
  const unl = bundle("unlimited", (c) => {
    c.process.args = ["sh", "-c", "ulimit -Sc; ulimit -Hc"];
    c.process.rlimits = [{ type: "RLIMIT_CORE", soft: 0, hard: 2 ** 64 }]; // JSON.parse of 18446744073709551615
  });
  expect(ok(oci("run", "--bundle", unl, "unl"))).toBe("0\nunlimited\n");
  // a profile that refuses everything, exit too, once spun for ever at full CPU
  const locked = bundle("noexit", (c) => {
    c.process.args = ["true"];
    c.linux.seccomp = { defaultAction: "SCMP_ACT_ERRNO" };
  });
  const started = Date.now();
  const denied = oci("run", "--bundle", locked, "noexit");
  expect(denied.code).toBe(125);
  expect(Date.now() - started).toBeLessThan(15_000);
  // a namespace path that is a FIFO once held run (and its signals) for ever
  const fifo = join(work, "fifo");
  run(["mkfifo", fifo]);
  refused(
    "nsfifo",
    (c) =>
      (c.linux.namespaces = c.linux.namespaces.map((n: Config) =>
        n.type === "ipc" ? { type: "ipc", path: fifo } : n,
      )),
    `join the namespace ${fifo}`,
    125,
  );
  // a pid file that cannot be written: refused before anything runs
  const sleeper = bundle("pidfile", (c) => (c.process.args = ["sleep", "4711"]));
  const bad = detached(
    join(work, "pf.out"),
    "run",
    "-d",
    "--bundle",
    sleeper,
    "--pid-file",
    "/nonexistent/dir/pid",
    "pf",
  );
  expect(bad.code).toBe(1);
  expect(bad.stderr).toBe("hull-oci: --pid-file /nonexistent/dir/pid: /nonexistent/dir is not a directory\n");
  expect(oci("state", "pf").code).toBe(1);
  // SIGTERM ends a created container (a pid 1 with no handler would have taken no notice)
  ok(detached(join(work, "term.out"), "create", "--bundle", sleeper, "term"));
  ok(oci("kill", "term", "TERM"));
  await until(() => status("term") === "stopped");
  expect(status("term")).toBe("stopped");
  ok(oci("delete", "term"));
  expect(ok(run(["ps", "-o", "args=", "-u", String(process.getuid?.())])).includes("sleep 4711")).toBe(false);
  // podman's tmpfs mounts: tmpcopyup starts the tmpfs with what the image had there
  const copy = bundle("copyup", (c) => {
    c.process.args = ["sh", "-c", "cat /etc/hostname >/dev/null; ls /etc | grep -c passwd; ls /opt | wc -l"];
    c.mounts.push({ destination: "/etc", type: "tmpfs", source: "tmpfs", options: ["tmpcopyup", "mode=755"] });
    c.mounts.push({ destination: "/opt", type: "tmpfs", source: "tmpfs", options: ["mode=755"] });
  });
  expect(ok(oci("run", "--bundle", copy, "copyup"))).toBe("1\n0\n");
});

test("a property runtime-spec does not define is ignored, as the spec says, and named in the --log", () => {
  const dir = bundle("unknown", (c) => {
    c.process.args = ["true"];
    c.linux.vendorThing = { x: 1 };
    c.mounts[0].note = "mine";
  });
  const log = join(work, "unknown.log");
  const r = run([HULL, "oci", "--root", state, "--log", log, "--log-format", "json", "run", "--bundle", dir, "u1"]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  const warned = readFileSync(log, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l).msg);
  expect(warned).toEqual([
    "config.json: mounts[0].note: not in runtime-spec, ignored",
    "config.json: linux.vendorThing: not in runtime-spec, ignored",
  ]);
});

test("hull-oci is hull oci; --log --log-format json gets runc's error records", () => {
  const link = join(work, "hull-oci");
  symlinkSync(HULL, link);
  const log = join(work, "oci.log");
  expect(ok(run([link, "--root", state, "list", "--format", "json"]))).toBe("[]\n");
  const r = run([link, "--root", state, "--log", log, "--log-format", "json", "state", "nope"]);
  expect(r.code).toBe(1);
  const rec = JSON.parse(readFileSync(log, "utf8").trim());
  expect(rec).toMatchObject({ level: "error", msg: "container nope does not exist" });
  const features = JSON.parse(ok(run([link, "features"])));
  expect(features.linux.namespaces).toContain("user");
  expect(features.hooks).toContain("createContainer");
});

const CHECK =
  "id; hostname; grep -E '^(Cap|NoNewPrivs|Seccomp:)' /proc/self/status; ls /dev; ulimit -n; touch /x 2>/dev/null || echo read-only; cat /proc/kcore 2>&1 | head -c 0; ls /proc/acpi | wc -l";

test("a bundle of crun spec --rootless runs under hull as it does under crun", () => {
  if (!hostHas(Bun.which("crun") !== null, "no crun to compare with (Debian: crun)")) return;
  const dir = join(work, "crun");
  mkdirSync(dir);
  ok(run(["sh", "-c", 'cd "$0" && crun spec --rootless', dir]));
  const file = join(dir, "config.json");
  const c = JSON.parse(readFileSync(file, "utf8"));
  c.root.path = rootfs;
  c.process.terminal = false;
  c.process.args = ["sh", "-c", CHECK];
  writeFileSync(file, JSON.stringify(c));
  // crun 1.8 refuses a hybrid cgroup host unless its cgroup2 mount is hidden (as bench/startup does)
  const mask =
    "if [ -d /sys/fs/cgroup/unified ]; then mount -t tmpfs -o size=4k,mode=555 mask /sys/fs/cgroup/unified; fi";
  const theirs = run([
    "unshare",
    "-Urm",
    "sh",
    "-c",
    `${mask} && exec crun --root "$0/crun-state" run --bundle "$1" cc`,
    work,
    dir,
  ]);
  expect(theirs.code, theirs.stderr).toBe(0);
  const ours = oci("run", "--bundle", dir, "hc");
  expect(ours.stderr).toBe("");
  expect(ours.code).toBe(0);
  expect(ours.stdout).toBe(theirs.stdout);
});

describe.if(Bun.which("podman") !== null)("rootless podman with --runtime hull-oci", () => {
  const sandbox = podmanSandbox();
  const root = makeStore();
  const runtime = join(sandbox.home, "hull-oci");
  afterAll(() => {
    sandbox.podman("rm", "-af", "-t", "0");
    sandbox.remove();
    removeStore(root);
  });

  test("run, exec, logs, stop and rm of busybox: as with runc", () => {
    symlinkSync(HULL, runtime);
    ok(hull(["run", "--rm", "busybox", "true"], { root }));
    const archive = join(sandbox.home, "busybox.tar");
    ok(hull(["save", "-o", archive, "busybox"], { root }));
    ok(sandbox.podman("load", "-i", archive));
    const script =
      "echo out; echo err >&2; id; hostname -s | wc -c; cat /proc/self/uid_map; grep -E '^(Cap|NoNewPrivs|Seccomp:)' /proc/self/status; ls /dev/pts /dev/shm; exit 4";
    const p = (runtimeArgs: string[], ...args: string[]) => sandbox.podman(...runtimeArgs, ...args);
    const ours = p(["--runtime", runtime], "run", "--rm", "--network=none", "busybox", "sh", "-c", script);
    const runc = p([], "run", "--rm", "--network=none", "busybox", "sh", "-c", script);
    expect(ours.code).toBe(4);
    expect(runc.code).toBe(4);
    expect(ours.stdout).toBe(runc.stdout);
    expect(ours.stderr).toBe(runc.stderr);

    const hullp = (...args: string[]) => sandbox.podman("--runtime", runtime, ...args);
    ok(hullp("run", "-d", "--name", "web", "busybox", "sh", "-c", "echo up; exec sleep 100"));
    expect(ok(hullp("exec", "web", "sh", "-c", "echo in-exec; cat /proc/1/comm"))).toBe("in-exec\nsleep\n");
    expect(hullp("exec", "web", "sh", "-c", "exit 3").code).toBe(3);
    expect(ok(hullp("logs", "web"))).toBe("up\n");
    ok(hullp("stop", "-t", "0", "web"));
    expect(ok(hullp("ps", "-a", "--format", "{{.Names}} {{.Status}}"))).toMatch(/^web Exited \(137\)/);
    ok(hullp("rm", "web"));
    expect(ok(hullp("ps", "-aq"))).toBe("");
  });
});
