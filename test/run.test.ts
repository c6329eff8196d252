// `hull run` end to end: the built binary, run rootless by the current user, against a throwaway
// store. Every test also checks that no container directory, hull process or host mount is left.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { userName } from "../src/runtime/whoami";
import { join } from "node:path";
import {
  containersLeft,
  fuseUsable,
  hasSubordinateIds,
  HULL,
  hostHas,
  hostMounts,
  hull,
  makeStore,
  removeStore,
  requireUnprivileged,
  type Result,
  shimProcesses,
  ok,
} from "./helpers";

requireUnprivileged();

const uid = process.getuid?.() ?? -1;
const gid = process.getgid?.() ?? -1;
const subids = hostHas(
  hasSubordinateIds(),
  "no subordinate ids or newuidmap for this user (apt-get install uidmap; usermod --add-subuids)",
);
let root = "";
let mountsBefore = "";

beforeAll(() => {
  root = makeStore();
  mountsBefore = hostMounts();
  // unpack the embedded image once, so later tests measure nothing but themselves
  const r = hull(["run", "--rm", "busybox", "true"], { root });
  if (r.code !== 0) throw new Error(`hull cannot run a container here: ${r.stderr}`);
});

afterAll(() => removeStore(root));

afterEach(() => {
  expect(containersLeft(root)).toEqual([]);
  expect(shimProcesses()).toEqual([]);
  expect(hostMounts()).toBe(mountsBefore);
});

const run = (args: string[], opts: { env?: Record<string, string>; stdin?: string } = {}): Result =>
  hull(["run", "--rm", ...args], { root, ...opts });

const sh = (script: string, flags: string[] = [], opts: { env?: Record<string, string> } = {}) =>
  run([...flags, "busybox", "sh", "-c", script], opts);

describe("user namespace", () => {
  test.if(subids)("with subordinate ids: root is the caller, 1..65535 the subordinate range", () => {
    // a container's user namespace is made under the shared holder's (src/network/holder-userns.ts),
    // whose map is this one, so there it reads as the identity, --network none too; HULL_NET_SHARED=0
    // makes it from the host's, as without a holder
    expect(ok(sh("cat /proc/self/uid_map")).trim().split(/\s+/).map(Number).slice(0, 4)).toEqual([0, 0, 1, 1]);
    expect(
      ok(sh("cat /proc/self/uid_map", ["--network", "none"]))
        .trim()
        .split(/\s+/)
        .map(Number)
        .slice(0, 4),
    ).toEqual([0, 0, 1, 1]);
    const own = { env: { HULL_NET_SHARED: "0" } };
    const map = ok(sh("cat /proc/self/uid_map", ["--network", "none"], own))
      .trim()
      .split("\n")
      .map((l) => l.trim().split(/\s+/).map(Number));
    expect(map[0]).toEqual([0, uid, 1]);
    expect(map[1]?.[0]).toBe(1);
    expect(map[1]?.[2]).toBeGreaterThanOrEqual(65535);
    const gmap = ok(sh("cat /proc/self/gid_map", ["--network", "none"], own))
      .trim()
      .split("\n");
    expect(gmap[0]?.trim().split(/\s+/).map(Number)).toEqual([0, gid, 1]);
  });

  test.if(subids)(
    "ownership is real on disk: a file chowned to 1000 inside is owned by the subordinate id outside",
    () => {
      const out = join(root, "chown-out");
      mkdirSync(out, { recursive: true });
      ok(
        run([
          "-v",
          `${out}:/out`,
          "busybox",
          "sh",
          "-c",
          "touch /out/f && chown 1000:1000 /out/f && stat -c %u:%g /out/f",
        ]),
      );
      const st = statSync(join(out, "f"));
      const start = Number(
        readFileSync("/etc/subuid", "utf8")
          .split("\n")
          .find((l) => l.startsWith(`${userName()}:`) || l.startsWith(`${uid}:`))
          ?.split(":")[1],
      );
      expect(st.uid).toBe(start + 999);
      expect(ok(run(["-v", `${out}:/out`, "busybox", "stat", "-c", "%u:%g", "/out/f"])).trim()).toBe("1000:1000");
    },
  );

  test.if(subids)("-u runs as another user with that user's groups", () => {
    expect(ok(sh("id -u; id -g", ["-u", "1000:1000"])).trim()).toBe("1000\n1000");
    expect(ok(sh("id -un", ["-u", "nobody"])).trim()).toBe("nobody");
    expect(ok(sh("id -u", ["-u", "user"])).trim()).toBe("1000");
  });

  test("without subordinate ids: a single-id map, a one-line warning, and files still owned by root inside", () => {
    const r = sh("cat /proc/self/uid_map; stat -c %u /bin/busybox; touch /x && stat -c %u /x", ["--network", "none"], {
      env: { HULL_IDMAP: "single", HULL_NET_SHARED: "0" },
    });
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]?.trim().split(/\s+/).map(Number)).toEqual([0, uid, 1]);
    expect(lines.slice(1)).toEqual(["0", "0"]);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("warning");
  });

  test("without subordinate ids, -u with an unmapped user is a clear error", () => {
    const r = sh("id", ["-u", "1000"], { env: { HULL_IDMAP: "single" } });
    expect(r.code).toBe(125);
    expect(r.stderr).toContain("user 1000 is not mapped");
  });
});

describe("mount namespace and root filesystem", () => {
  test("pivot_root into an overlay: / is the overlay, and the host's root is gone", () => {
    const info = ok(sh("cat /proc/self/mountinfo"));
    const rootLine = info.split("\n").find((l) => l.split(" ")[4] === "/");
    expect(rootLine).toMatch(/ - (overlay|fuse\.fuse-overlayfs) /);
    expect(info).not.toContain(" /work ");
    expect(ok(sh("ls /")).split("\n")).not.toContain("work");
  });

  test("the writable layer takes writes and vanishes with --rm", () => {
    expect(ok(sh("echo hi > /etc/new && cat /etc/new"))).toBe("hi\n");
    expect(ok(sh("cat /etc/new 2>&1 || echo gone"))).toContain("gone");
  });

  test("kernel overlay path (HULL_OVERLAY=kernel)", () => {
    const r = sh("grep ' / / ' /proc/self/mountinfo; echo x > /w && cat /w", [], { env: { HULL_OVERLAY: "kernel" } });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(" - overlay ");
    expect(r.stdout).toContain("x\n");
  });

  test("a --rm container's layer skips fsync (overlay's volatile); a kept container's does not", () => {
    const rootOpts = (info: string) => info.split("\n").find((l) => l.split(" ")[4] === "/") ?? "";
    const kernel = { env: { HULL_OVERLAY: "kernel" } };
    // the kernel shows it as fsync=volatile (6.x) or volatile
    expect(rootOpts(ok(sh("cat /proc/self/mountinfo", [], kernel)))).toContain("volatile");
    const kept = hull(["run", "--name", "kept-layer", "busybox", "cat", "/proc/self/mountinfo"], { root, ...kernel });
    hull(["rm", "kept-layer"], { root });
    expect(rootOpts(ok(kept))).toContain(" - overlay ");
    expect(rootOpts(ok(kept))).not.toContain("volatile");
  });

  const fuseOk = fuseUsable();
  test.if(hostHas(fuseOk, "fuse-overlayfs path: /dev/fuse not usable or fuse-overlayfs missing"))(
    "fuse-overlayfs path (HULL_OVERLAY=fuse): writes work and the layer still vanishes",
    () => {
      const r = sh(
        "grep ' / / ' /proc/self/mountinfo; echo x > /w && cat /w; rm /etc/os-release; cat /etc/os-release 2>&1; true",
        [],
        { env: { HULL_OVERLAY: "fuse" } },
      );
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("fuse-overlayfs");
      expect(r.stdout).toContain("x\n");
      expect(r.stdout).toContain("No such file");
    },
  );

  test("--read-only makes / read-only but leaves /dev and volumes writable", () => {
    const r = sh("touch /x 2>&1; echo ok > /dev/shm/y && cat /dev/shm/y", ["--read-only"]);
    expect(r.stdout).toContain("Read-only file system");
    expect(r.stdout).toContain("ok");
  });

  test("--rootfs runs a directory as it is", () => {
    const dir = join(root, "rootfs-dir");
    mkdirSync(join(dir, "bin"), { recursive: true });
    Bun.spawnSync(["cp", "/bin/busybox", join(dir, "bin/busybox")]);
    const r = hull(
      [
        "run",
        "--rm",
        "--rootfs",
        dir,
        "/bin/busybox",
        "sh",
        "-c",
        "echo in-rootfs > /marker; /bin/busybox cat /marker",
      ],
      { root },
    );
    expect(r.stdout).toBe("in-rootfs\n");
    expect(readFileSync(join(dir, "marker"), "utf8")).toBe("in-rootfs\n");
  });

  test("bind mounts: rw writes reach the host, :ro refuses writes", () => {
    const dir = join(root, "bind-src");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "in"), "from host\n");
    expect(ok(run(["-v", `${dir}:/data`, "busybox", "sh", "-c", "cat /data/in; echo back > /data/out"]))).toBe(
      "from host\n",
    );
    expect(readFileSync(join(dir, "out"), "utf8")).toBe("back\n");
    const r = run(["-v", `${dir}:/data:ro`, "busybox", "sh", "-c", "echo no > /data/out2"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("Read-only file system");
    expect(existsSync(join(dir, "out2"))).toBe(false);
  });
});

describe("pid, uts, ipc and network namespaces", () => {
  test("the command is pid 1, host processes are invisible, /proc is fresh", () => {
    const out = ok(
      sh("echo $$; cat /proc/1/cmdline | tr '\\0' ' '; echo; ls /proc | grep -E '^[0-9]+$' | tr '\\n' ' '"),
    );
    const [pid, cmdline, pids] = out.trim().split("\n");
    expect(pid).toBe("1");
    expect(cmdline).toStartWith("sh -c");
    // only the container's own processes: pid 1 and the few the pipeline started
    const seen = (pids ?? "").trim().split(" ").map(Number);
    expect(seen).toContain(1);
    expect(seen.length).toBeLessThanOrEqual(6);
    expect(Math.max(...seen)).toBeLessThan(20);
  });

  test("--init: a tiny init is pid 1, reaps orphans and forwards signals", () => {
    const out = ok(
      run([
        "--init",
        "busybox",
        "sh",
        "-c",
        "sh -c 'sleep 0.2 &'; sleep 0.6; cat /proc/1/comm; ps -o stat | grep -c Z || true",
      ]),
    );
    const [comm, zombies] = out.trim().split("\n");
    expect(comm).toBe("hull-init");
    expect(zombies).toBe("0");
  });

  test("hostname: the short container id by default, --hostname otherwise", () => {
    expect(ok(sh("hostname")).trim()).toMatch(/^[0-9a-f]{12}$/);
    expect(ok(sh("hostname; cat /etc/hostname", ["--hostname", "box1"])).trim()).toBe("box1\nbox1");
    expect(ok(sh("cat /etc/hosts", ["--hostname", "box1"]))).toContain("box1");
  });

  test("ipc namespace: a private, empty System V space", () => {
    const out = ok(sh("cat /proc/sysvipc/shm | wc -l; readlink /proc/self/ns/ipc"));
    const hostIpc = Bun.spawnSync(["readlink", "/proc/self/ns/ipc"]).stdout.toString().trim();
    expect(out.trim().split("\n")[0]).toBe("1");
    expect(out).not.toContain(hostIpc);
  });

  test("--network none: only lo, and it is up", () => {
    expect(ok(sh("ls /sys/class/net", ["--network", "none"])).trim()).toBe("lo");
    expect(
      ok(sh("cat /sys/class/net/lo/operstate; ping -c1 -W1 127.0.0.1 >/dev/null && echo reach", ["--network", "none"])),
    ).toContain("reach");
  });

  test("--network host shares the host's interfaces", () => {
    const host = readdirSync("/sys/class/net").sort();
    expect(
      ok(sh("ls /sys/class/net", ["--network", "host"]))
        .trim()
        .split(/\s+/)
        .sort(),
    ).toEqual(host);
  });
});

describe("devices, /sys, /etc files and hardening", () => {
  test("/dev is a fresh tmpfs with the usual nodes and a private devpts", () => {
    const names = ok(sh("ls /dev")).trim().split(/\s+/);
    for (const n of [
      "null",
      "zero",
      "full",
      "random",
      "urandom",
      "tty",
      "pts",
      "ptmx",
      "shm",
      "mqueue",
      "fd",
      "stdin",
      "stdout",
      "stderr",
    ]) {
      expect(names).toContain(n);
    }
    expect(ok(sh("echo x > /dev/null && head -c 4 /dev/zero | wc -c && head -c 8 /dev/urandom | wc -c")).trim()).toBe(
      "4\n8",
    );
    const info = ok(sh("cat /proc/self/mountinfo"));
    expect(info).toMatch(/ \/dev rw,nosuid.* - tmpfs /);
    expect(info).toMatch(/ \/dev\/pts .* - devpts .*ptmxmode=666/);
    expect(info).toMatch(/ \/dev\/mqueue .* - mqueue /);
  });

  test("/sys is read-only and /etc/hostname, hosts and resolv.conf are provided", () => {
    expect(sh("touch /sys/x").code).not.toBe(0);
    expect(ok(sh("cat /proc/self/mountinfo"))).toMatch(/ \/sys ro,.* - sysfs /);
    expect(ok(sh("ls /etc/hostname /etc/hosts /etc/resolv.conf")).trim().split("\n")).toHaveLength(3);
  });

  test("Docker's masked and read-only paths", () => {
    const info = ok(sh("cat /proc/self/mountinfo"));
    const mountpoints = info.split("\n").map((l) => l.split(" ")[4]);
    for (const p of [
      "/proc/kcore",
      "/proc/keys",
      "/proc/timer_list",
      "/proc/acpi",
      "/sys/firmware",
      "/proc/sched_debug",
    ]) {
      if (existsSync(p)) expect(mountpoints).toContain(p);
    }
    for (const p of ["/proc/sys", "/proc/sysrq-trigger", "/proc/bus", "/proc/irq", "/proc/fs"]) {
      if (!existsSync(p)) continue;
      const line = info.split("\n").find((l) => l.split(" ")[4] === p);
      expect(line?.split(" ")[5]).toStartWith("ro");
    }
    expect(ok(sh("cat /proc/keys | wc -c")).trim()).toBe("0");
    expect(sh("echo 1 > /proc/sys/kernel/ns_last_pid").code).not.toBe(0);
  });

  test("Docker's default capabilities and seccomp, no_new_privs off as in Docker, and no caps for a non-root user", () => {
    const out = ok(sh("grep -E '^(CapBnd|CapEff|NoNewPrivs|Seccomp)' /proc/self/status"));
    expect(out).toContain("CapBnd:\t00000000a80425fb");
    expect(out).toContain("CapEff:\t00000000a80425fb");
    expect(out).toContain("NoNewPrivs:\t0");
    expect(out).toContain("Seccomp:\t2");
    if (subids) {
      expect(ok(sh("grep CapEff /proc/self/status", ["-u", "1000"]))).toContain("CapEff:\t0000000000000000");
    }
  });

  test("no descriptor of hull's reaches the container", () => {
    // ls opens the directory it lists: 3 is its own
    expect(
      ok(run(["busybox", "ls", "/proc/self/fd"]))
        .trim()
        .split(/\s+/),
    ).toEqual(["0", "1", "2", "3"]);
  });
});

describe("process: arguments, environment, stdio, exit status, signals", () => {
  test("the command starts with default signal dispositions (hull's runtime ignores SIGPIPE)", () => {
    expect(ok(run(["busybox", "grep", "-E", "^Sig(Ign|Blk)", "/proc/self/status"]))).toBe(
      "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n",
    );
    expect(ok(sh("yes | head -c 3; echo"))).toBe("y\ny\n");
  });

  test("exit status is the container's", () => {
    expect(sh("exit 42").code).toBe(42);
  });

  test("-e, --env-file, -w and the image's defaults", () => {
    const file = join(root, "envfile");
    writeFileSync(file, "# comment\nFROM_FILE=1\n\nBOTH=file\n");
    const out = ok(
      run([
        "-e",
        "A=x y",
        "--env-file",
        file,
        "-e",
        "BOTH=cli",
        "-w",
        "/made/here",
        "busybox",
        "sh",
        "-c",
        "echo $A; echo $FROM_FILE; echo $BOTH; pwd; echo $HOME; echo $PATH",
      ]),
    );
    expect(out.split("\n").slice(0, 6)).toEqual([
      "x y",
      "1",
      "cli",
      "/made/here",
      "/root",
      "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    ]);
  });

  test("the image's CMD runs when no command is given, --entrypoint replaces it", () => {
    expect(ok(run(["-i", "busybox"], { stdin: "echo from-default-sh\n" }))).toBe("from-default-sh\n");
    expect(ok(run(["--entrypoint", "echo", "busybox", "a", "b"]))).toBe("a b\n");
  });

  test("stdin passes through with -i and is /dev/null without", () => {
    expect(ok(run(["-i", "busybox", "cat"], { stdin: "hello\n" }))).toBe("hello\n");
    expect(ok(run(["busybox", "cat"], { stdin: "hello\n" }))).toBe("");
  });

  test("stdout and stderr stay separate", () => {
    const r = sh("echo out; echo err >&2");
    expect(r.stdout).toBe("out\n");
    expect(r.stderr).toBe("err\n");
  });

  test("-a attaches only the streams named; -a stdin keeps stdin", () => {
    const out = sh("echo out; echo err >&2", ["-a", "stdout"]);
    expect([out.stdout, out.stderr]).toEqual(["out\n", ""]);
    const err = sh("echo out; echo err >&2", ["-a", "stderr"]);
    expect([err.stdout, err.stderr]).toEqual(["", "err\n"]);
    expect(run(["-a", "stdin", "-a", "stdout", "busybox", "cat"], { stdin: "piped\n" }).stdout).toBe("piped\n");
    expect(run(["-a", "stdout", "-d", "busybox", "true"]).stderr).toContain("-a and -d conflict");
  });

  test("SIGTERM reaches the container's pid 1", async () => {
    const p = Bun.spawn(
      [
        HULL,
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        "trap 'echo got-term; exit 7' TERM; echo ready; while :; do sleep 0.05; done",
      ],
      {
        env: { ...process.env, HULL_ROOT: root },
        stdout: "pipe",
        stderr: "pipe",
      },
    );
    const reader = p.stdout.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toBe("ready\n");
    p.kill("SIGTERM");
    const code = await p.exited;
    const rest = new TextDecoder().decode((await reader.read()).value ?? new Uint8Array());
    expect(rest).toBe("got-term\n");
    expect(code).toBe(7);
  });

  test("death by signal N exits 128+N", async () => {
    const p = Bun.spawn([HULL, "run", "--rm", "--init", "busybox", "sh", "-c", "echo ready; exec sleep 30"], {
      env: { ...process.env, HULL_ROOT: root },
      stdout: "pipe",
      stderr: "pipe",
    });
    await p.stdout.getReader().read();
    p.kill("SIGHUP");
    expect(await p.exited).toBe(128 + 1);
  });

  test("-t gives a real pty sized like the caller's terminal; without -t there is none", () => {
    const withTty = Bun.spawnSync(
      ["script", "-qec", `stty rows 33 cols 77; ${HULL} run --rm -t busybox sh -c 'tty; stty size'`, "/dev/null"],
      {
        env: { ...process.env, HULL_ROOT: root },
      },
    );
    const out = withTty.stdout.toString().replace(/\r/g, "");
    expect(withTty.exitCode).toBe(0);
    expect(out).toContain("/dev/pts/0\n");
    expect(out).toContain("33 77\n");
    expect(ok(sh("tty; true")).trim()).toBe("not a tty");
  });

  test("-it relays keystrokes through the pty", () => {
    const r = Bun.spawnSync(
      ["script", "-qec", `${HULL} run --rm -it busybox sh -c 'read line; echo got:$line'`, "/dev/null"],
      {
        env: { ...process.env, HULL_ROOT: root },
        stdin: new TextEncoder().encode("typed\n"),
      },
    );
    expect(r.stdout.toString().replace(/\r/g, "")).toContain("got:typed");
    expect(r.exitCode).toBe(0);
  });
});

describe("errors: one line, non-zero, nothing left behind", () => {
  const oneLine = (r: Result) => {
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toStartWith("hull: ");
  };

  test("a missing image", () => {
    const r = run(["--pull", "never", "no-such-image", "true"]);
    expect(r.code).toBe(125);
    oneLine(r);
    expect(r.stderr).toContain("image no-such-image not found locally");
  });

  test("an unknown flag", () => {
    const r = run(["--frobnicate", "busybox", "true"]);
    expect(r.code).toBe(125);
    oneLine(r);
    expect(r.stderr).toContain("unknown flag: --frobnicate");
  });

  test("a command that is not in the image", () => {
    const r = run(["busybox", "no-such-command"]);
    expect(r.code).toBe(127);
    oneLine(r);
    expect(r.stderr).toContain("executable file not found in $PATH: no-such-command");
  });

  test("a command that cannot be executed", () => {
    const r = run(["busybox", "/etc/passwd"]);
    expect(r.code).toBe(126);
    oneLine(r);
  });

  test("a bind-mount source that does not exist: --mount refuses, -v makes it or says why it cannot", () => {
    const r = run(["--mount", "type=bind,source=/no/such/dir,target=/x", "busybox", "true"]);
    expect(r.code).toBe(125);
    oneLine(r);
    expect(r.stderr).toContain("bind source path does not exist: /no/such/dir");
    const v = run(["-v", "/no/such/dir:/x", "busybox", "true"]);
    expect(v.code).toBe(125);
    oneLine(v);
    expect(v.stderr).toContain("-v /no/such/dir: cannot create it (EACCES)");
  });

  test("-it without a terminal", () => {
    const r = run(["-it", "busybox", "true"]);
    expect(r.code).toBe(125);
    oneLine(r);
    expect(r.stderr).toContain("not a TTY");
  });

  const bwrap = hostHas(existsSync("/usr/bin/bwrap"), "no-user-namespace case: bubblewrap is not installed");
  test.if(bwrap)("a host without user namespaces", () => {
    // bwrap --disable-userns gives hull a world where creating a user namespace fails, as on a host
    // that forbids them
    const r = Bun.spawnSync(
      ["bwrap", "--unshare-user", "--disable-userns", "--dev-bind", "/", "/", HULL, "run", "--rm", "busybox", "true"],
      {
        env: { ...process.env, HULL_ROOT: root },
        stderr: "pipe",
      },
    );
    const stderr = r.stderr.toString();
    expect(r.exitCode).toBe(125);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toContain("create user namespace");
    expect(stderr).toContain("hull doctor");
  });
});

describe("robustness", () => {
  test("SIGKILL of hull takes the container down and still removes its layer", async () => {
    const p = Bun.spawn([HULL, "run", "--rm", "busybox", "sh", "-c", "echo ready; sleep 30"], {
      env: { ...process.env, HULL_ROOT: root },
      stdout: "pipe",
      stderr: "pipe",
    });
    await p.stdout.getReader().read();
    expect(containersLeft(root).filter((c) => c.startsWith("containers/"))).toHaveLength(1);
    p.kill("SIGKILL");
    await p.exited;
    // the userns stage learns of it through PR_SET_PDEATHSIG and cleans up on its own
    for (let i = 0; i < 100 && (containersLeft(root).length > 0 || shimProcesses().length > 0); i++)
      await Bun.sleep(20);
    // afterEach checks that both are gone
  });

  test("two first runs at once unpack the embedded image once, and both work", async () => {
    const fresh = makeStore();
    try {
      const start = () =>
        Bun.spawn([HULL, "run", "--rm", "busybox", "echo", "ok"], {
          env: { ...process.env, HULL_ROOT: fresh },
          stdout: "pipe",
          stderr: "pipe",
        });
      const ps = [start(), start(), start()];
      const codes = await Promise.all(ps.map((p) => p.exited));
      const outs = await Promise.all(ps.map((p) => new Response(p.stdout).text()));
      expect(codes).toEqual([0, 0, 0]);
      expect(outs).toEqual(["ok\n", "ok\n", "ok\n"]);
      expect(readdirSync(join(fresh, "layers"))).toHaveLength(1);
      expect(readdirSync(join(fresh, "tmp"))).toEqual([]);
    } finally {
      removeStore(fresh);
    }
  });
});

describe("without --rm", () => {
  test("the container's directory stays with its record and writable layer", () => {
    const r = hull(["run", "busybox", "sh", "-c", "echo kept > /kept"], { root });
    expect(r.code).toBe(0);
    const left = containersLeft(root).filter((c) => c.startsWith("containers/"));
    expect(left).toHaveLength(1);
    const dir = join(root, left[0] as string);
    expect(JSON.parse(readFileSync(join(dir, "container.json"), "utf8")).command).toEqual([
      "sh",
      "-c",
      "echo kept > /kept",
    ]);
    expect(readFileSync(join(dir, "upper", "kept"), "utf8")).toBe("kept\n");
    expect(hull(["rm", (left[0] as string).slice("containers/".length)], { root }).code).toBe(0);
  });
});

describe("other commands", () => {
  test("hull doctor prints one table and passes on this host", () => {
    const r = hull(["doctor"], { root });
    expect(r.code).toBe(0);
    for (const name of [
      "user namespaces",
      "subordinate ids",
      "newuidmap/newgidmap",
      "kernel overlay in userns",
      "fuse-overlayfs",
      "cgroup v2 limits",
      "rootless networking",
    ]) {
      expect(r.stdout).toContain(name);
    }
    expect(r.stdout).toMatch(/ok\s+user namespaces/);
  });

  test("hull version and --help", () => {
    expect(hull(["version"], { root }).stdout).toMatch(/^hull \d+\.\d+\.\d+/);
    const help = hull(["run", "--help"], { root });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--read-only");
  });

  test("HULL_TRACE=timing: a line per phase from both halves, in order, on one clock", () => {
    const r = hull(["run", "--rm", "--network", "none", "busybox", "true"], { root, env: { HULL_TRACE: "timing" } });
    expect(r.code).toBe(0);
    const lines = r.stderr.trim().split("\n");
    const phases = lines.map((l) => /^hull-trace +([\d.]+) ms {2}(.*)$/.exec(l));
    expect(phases.every(Boolean), r.stderr).toBe(true);
    // the TypeScript half's lines end with the page faults and private pages so far
    expect(lines[0], r.stderr).toMatch(/hull started {2}\(\d+ faults, \d+ private pages\)$/);
    const names = phases.map((m) =>
      (m?.[2] ?? "").replace(/^shim \d+: /, "").replace(/ {2}\(\d+ faults, \d+ private pages\)$/, ""),
    );
    for (const want of [
      "hull started",
      "image resolved",
      "exec of the shim",
      "id maps written",
      "container: exec",
      "exit",
    ])
      expect(names, r.stderr).toContain(want);
    // the shim's times follow the TypeScript's: one clock from hull's start
    const at = (name: string) => Number(phases[names.indexOf(name)]?.[1]);
    expect(at("exec of the shim")).toBeLessThan(at("id maps written"));
    expect(at("container: exec")).toBeLessThan(at("exit"));
    // off by default: nothing on stderr
    expect(hull(["run", "--rm", "--network", "none", "busybox", "true"], { root }).stderr).toBe("");
  });

  test("an unknown command", () => {
    const r = hull(["frobnicate"], { root });
    expect(r.code).toBe(125);
    expect(r.stderr).toContain("unknown command: frobnicate");
  });
});
