// Resource limits: docker's flags checked and turned into cgroup v2 files as runc and crun write
// them; on a host with no cgroup v2 subtree for the user, one line that says what is missing. The
// limits themselves are tested for real in a systemd guest (test/vm/, `make test-vm`).
import { expect, test } from "bun:test";
import {
  cgroupHost,
  checkCgroupParent,
  limitFiles,
  neededControllers,
  parseLimits,
  parseSize,
} from "../src/runtime/cgroup";
import { hull, makeStore, removeStore, requireUnprivileged } from "./helpers";

test("sizes as docker reads them", () => {
  expect(parseSize("512")).toBe(512);
  expect(parseSize("64k")).toBe(65536);
  expect(parseSize("256m")).toBe(256 * 1024 ** 2);
  expect(parseSize("1.5g")).toBe(1.5 * 1024 ** 3);
  expect(parseSize("2GB")).toBe(2 * 1024 ** 3);
  expect(parseSize("lots")).toBeUndefined();
});

test("docker's limit flags become the cgroup v2 files runc writes", () => {
  const l = parseLimits({
    memory: "256m",
    memorySwap: "512m",
    memoryReservation: "128m",
    cpus: "1.5",
    cpuShares: "512",
    cpusetCpus: "0",
    pidsLimit: "100",
    blkioWeight: "300",
  });
  expect(limitFiles(l)).toEqual({
    "memory.max": String(256 * 1024 ** 2),
    "memory.swap.max": String(256 * 1024 ** 2),
    "memory.low": String(128 * 1024 ** 2),
    "cpu.max": "150000 100000",
    "cpu.weight": "20",
    "cpuset.cpus": "0",
    "pids.max": "100",
    "io.weight": "2930",
  });
  expect(neededControllers(l)).toEqual(["cpu", "cpuset", "io", "memory", "pids"]);
  expect(limitFiles(parseLimits({ memory: "64m", memorySwap: "-1", pidsLimit: "-1" }))).toEqual({
    "memory.max": String(64 * 1024 ** 2),
    "memory.swap.max": "max",
    "pids.max": "max",
  });
  expect(limitFiles(parseLimits({ cpuQuota: "50000", cpuPeriod: "200000" }))).toEqual({ "cpu.max": "50000 200000" });
});

test("bad limit values are refused with the flag and what it takes", () => {
  const bad: [Parameters<typeof parseLimits>[0], string][] = [
    [{ memory: "lots" }, "--memory takes a size (64m, 1g, 512k), not lots"],
    [{ memory: "1m" }, "--memory must be at least 6m"],
    [{ memorySwap: "1g" }, "--memory-swap needs --memory"],
    [{ memory: "1g", memorySwap: "512m" }, "--memory-swap must be at least --memory"],
    [{ cpus: "0" }, "--cpus takes a number of CPUs above 0"],
    [{ cpus: "1", cpuQuota: "50000" }, "--cpus and --cpu-quota conflict"],
    [{ cpuPeriod: "100000" }, "--cpu-period needs --cpu-quota"],
    [{ cpuShares: "1" }, "--cpu-shares takes a whole number from 2 to 262144"],
    [{ cpusetCpus: "0-a" }, "--cpuset-cpus takes a list such as 0-3,5"],
    [{ pidsLimit: "many" }, "--pids-limit takes a whole number"],
    [{ blkioWeight: "5" }, "--blkio-weight takes a whole number from 10 to 1000"],
    [{ cgroupConf: "memory.high" }, "--cgroup-conf takes FILE=VALUE (memory.high=256m), not memory.high"],
    [{ cgroupConf: "cgroup.procs=1" }, "--cgroup-conf cgroup.procs: only a controller's files"],
    [{ cgroupConf: "cgroup.subtree_control=+cpu" }, "only a controller's files"],
    [{ cgroupConf: "../memory.max=1" }, "--cgroup-conf takes FILE=VALUE"],
  ];
  for (const [flags, said] of bad) expect(() => parseLimits(flags)).toThrow(said);
});

test("--cgroup-conf (podman's) writes a controller's files, after docker's flags; sizes for memory files", () => {
  const l = parseLimits({ memory: "256m", cgroupConf: "memory.high=200m\nmemory.max=max\ncpu.idle=1" });
  expect(limitFiles(l)).toEqual({ "memory.max": "max", "memory.high": String(200 * 1024 ** 2), "cpu.idle": "1" });
  expect(neededControllers(l)).toEqual(["cpu", "memory"]);
});

test("--cgroup-parent takes a systemd slice, as rootless docker and podman do", () => {
  expect(checkCgroupParent("ci.slice")).toBe("ci.slice");
  expect(checkCgroupParent("ci-jobs.slice")).toBe("ci-jobs.slice");
  for (const bad of ["/sys/fs/cgroup/x", "../x.slice", "-.slice", "ci", "a/b.slice", "a--b.slice"])
    expect(() => checkCgroupParent(bad), bad).toThrow("--cgroup-parent takes a systemd slice (NAME.slice");
});

test("a host without a cgroup v2 subtree for the user: one line naming what is missing, and nothing made", () => {
  requireUnprivileged();
  const host = cgroupHost();
  if (host.ok && host.delegated) {
    console.warn("skip: this host delegates cgroup v2 to the user; the refusal is for hosts that do not");
    return;
  }
  const store = { root: makeStore() };
  try {
    const r = hull(["run", "--rm", "--memory", "64m", "--pids-limit", "10", "busybox", "true"], store);
    expect(r.code).toBe(125);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^hull: resource limits need (cgroup v2|a cgroup v2 subtree delegated to you)/);
    expect(require("node:fs").existsSync(`${store.root}/containers`)).toBe(false);
    expect(r.stderr).toContain("(or --cgroups=disabled, to run without the limits)");
    // the user's explicit opt-out: the container runs, without the limits
    const off = hull(["run", "--rm", "--memory", "64m", "--cgroups=disabled", "busybox", "true"], store);
    expect(off.code, off.stderr).toBe(0);
    const bad = hull(["run", "--rm", "--memory", "lots", "busybox", "true"], store);
    expect(bad.stderr.trim()).toBe("hull: --memory takes a size (64m, 1g, 512k), not lots");
    // a parent slice alone asks for a cgroup too: the same refusal, and nothing made
    const parent = hull(["run", "--rm", "--cgroup-parent", "ci.slice", "busybox", "true"], store);
    expect(parent.code).toBe(125);
    expect(parent.stderr).toMatch(/^hull: resource limits need/);
    const both = hull(["run", "--rm", "--cgroup-parent", "ci.slice", "--cgroups=disabled", "busybox", "true"], store);
    expect(both.stderr.trim()).toBe(
      "hull: --cgroup-parent and --cgroups=disabled conflict: a container without a cgroup has no parent",
    );
    const created = hull(["create", "--cgroup-parent", "/sys/fs/cgroup/x", "busybox", "true"], store);
    expect(created.code).toBe(125);
    expect(created.stderr).toContain("--cgroup-parent takes a systemd slice");
    expect(hull(["ps", "-aq"], store).stdout).toBe("");
  } finally {
    removeStore(store.root);
  }
});

test("--ulimit and --oom-score-adj need no cgroup: set before the command runs, for exec too", () => {
  requireUnprivileged();
  const store = { root: makeStore() };
  try {
    const out = hull(
      [
        "run",
        "--rm",
        "--ulimit",
        "nofile=100:200",
        "--ulimit",
        "core=-1",
        "--oom-score-adj",
        "500",
        "busybox",
        "sh",
        "-c",
        "ulimit -n; ulimit -Hn; ulimit -c; cat /proc/self/oom_score_adj",
      ],
      store,
    );
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toBe("100\n200\nunlimited\n500\n");
    const d = hull(["run", "-d", "--name", "ul", "--ulimit", "nproc=300", "busybox", "sleep", "30"], store);
    expect(d.code, d.stderr).toBe(0);
    expect(hull(["exec", "ul", "sh", "-c", "ulimit -u"], store).stdout).toBe("300\n");
    hull(["rm", "-f", "ul"], store);
    for (const [flag, said] of [
      ["nofile=2:1", "the soft limit is above the hard one"],
      ["files=10", "--ulimit files: not a limit"],
      ["nofile", "--ulimit takes NAME=SOFT[:HARD]"],
    ]) {
      const r = hull(["run", "--rm", "--ulimit", flag as string, "busybox", "true"], store);
      expect(r.code).toBe(125);
      expect(r.stderr).toContain(said as string);
    }
    // above the caller's own hard limit, or below its OOM score: the kernel's refusal, in one line
    const high = hull(["run", "--rm", "--ulimit", "nofile=99999999", "busybox", "true"], store);
    expect(high.code).toBe(125);
    expect(high.stderr).toContain("--ulimit: resource 7");
    const low = hull(["run", "--rm", "--oom-score-adj", "-500", "busybox", "true"], store);
    expect(low.code).toBe(125);
    expect(low.stderr).toContain("--oom-score-adj -500");
    expect(hull(["run", "--rm", "--oom-score-adj", "2000", "busybox", "true"], store).stderr).toContain(
      "--oom-score-adj takes a whole number from -1000 to 1000",
    );
  } finally {
    removeStore(store.root);
  }
});

test("stats reads a container without a cgroup of its own from its processes; update keeps limits for the next start", () => {
  requireUnprivileged();
  const store = { root: makeStore() };
  try {
    expect(hull(["run", "-d", "--name", "busy", "busybox", "sh", "-c", "while true; do :; done"], store).code).toBe(0);
    expect(hull(["run", "-d", "--name", "idle", "busybox", "sleep", "60"], store).code).toBe(0);
    const r = hull(["stats", "--no-stream", "--format", "json"], store);
    expect(r.code, r.stderr).toBe(0);
    const rows = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const busy = rows.find((x) => x.Name === "busy");
    const idle = rows.find((x) => x.Name === "idle");
    // a busy loop uses about one CPU; a sleep about none
    expect(Number.parseFloat(busy.CPUPerc)).toBeGreaterThan(30);
    expect(Number.parseFloat(idle.CPUPerc)).toBeLessThan(10);
    expect(idle.PIDs).toBe("1");
    expect(idle.MemUsage).toMatch(/^\d+(\.\d{1,3})?(B|KiB|MiB) \/ \d+(\.\d{1,3})?GiB$/);
    const table = hull(["stats", "--no-stream", "idle"], store).stdout;
    expect(table).toMatch(
      /^CONTAINER ID +NAME +CPU % +MEM USAGE \/ LIMIT +MEM % +NET I\/O +BLOCK I\/O +PIDS\n[0-9a-f]{12} +idle /,
    );
    // no cgroup of its own: on a host with cgroup v2 the limit is kept for the next start, and said
    // so; on one without, refused and not kept (it would only make the next start fail)
    const u = hull(["update", "--memory", "64m", "--pids-limit", "20", "idle"], store);
    expect(u.code).toBe(1);
    const [info] = JSON.parse(hull(["inspect", "idle"], store).stdout);
    if (cgroupHost().ok) {
      expect(u.stderr).toContain("runs without a cgroup of its own");
      expect(info.HostConfig).toMatchObject({ Memory: 64 * 1024 * 1024, PidsLimit: 20 });
    } else {
      expect(u.stderr).toContain("resource limits need cgroup v2");
      expect(info.HostConfig).toMatchObject({ Memory: 0, PidsLimit: 0 });
    }
    expect(hull(["update", "idle"], store).stderr).toContain("needs a limit to change");
    expect(hull(["update", "--memory", "lots", "idle"], store).stderr).toContain("--memory takes a size");
  } finally {
    hull(["rm", "-f", "busy", "idle"], store);
    removeStore(store.root);
  }
});

test("--device-read-bps and friends become io.max lines, one a device", () => {
  const { statSync } = require("node:fs") as typeof import("node:fs");
  const { readdirSync } = require("node:fs") as typeof import("node:fs");
  const block = readdirSync("/dev")
    .map((n) => `/dev/${n}`)
    .find((p) => {
      try {
        return statSync(p).isBlockDevice();
      } catch {
        return false;
      }
    });
  if (!block) {
    console.warn("skip: this host has no block device under /dev to name");
    return;
  }
  const st = statSync(block);
  const dev = `${Math.floor(st.rdev / 256) & 0xfff}:${(st.rdev & 0xff) | (Math.floor(st.rdev / 4096) & 0xfff00)}`;
  const l = parseLimits({
    deviceReadBps: `${block}:1mb`,
    deviceWriteBps: `${block}:2m`,
    deviceReadIops: `${block}:100`,
  });
  expect(limitFiles(l)["io.max"]).toBe(`${dev} rbps=1048576 wbps=2097152 riops=100`);
  expect(() => parseLimits({ deviceReadBps: "/dev/null:1mb" })).toThrow("/dev/null is not a block device");
  expect(() => parseLimits({ deviceReadBps: "/nope:1mb" })).toThrow("no such device /nope");
  expect(() => parseLimits({ deviceReadIops: `${block}:fast` })).toThrow("--device-read-iops takes DEVICE:RATE");
});
