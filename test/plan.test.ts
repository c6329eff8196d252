import { describe, expect, test } from "bun:test";
import {
  ABI,
  CLONE_NEWIPC,
  CLONE_NEWNET,
  CLONE_NEWNS,
  CLONE_NEWPID,
  CLONE_NEWUTS,
  MS_BIND,
  MS_RDONLY,
} from "../src/runtime/abi";
import { DEVICES, MASKED_PATHS, namespaceFlags, planMounts, READONLY_PATHS, type PlanInput } from "../src/runtime/plan";

const base: PlanInput = {
  network: "none",
  ttyGroupMapped: true,
  etcFiles: { hostname: "/c/hostname", hosts: "/c/hosts", resolvConf: "/c/resolv.conf" },
  binds: [],
};

describe("planMounts", () => {
  test("proc comes first and the hardening steps last, so nothing later uncovers a mask", () => {
    const steps = planMounts(base);
    expect(steps[0]).toMatchObject({ op: ABI.HULL_STEP_MOUNT, fstype: "proc", dst: "/proc" });
    const tail = steps.slice(-(MASKED_PATHS.length + READONLY_PATHS.length));
    expect(tail.map((s) => s.dst)).toEqual([...MASKED_PATHS, ...READONLY_PATHS]);
    expect(tail.slice(0, MASKED_PATHS.length).every((s) => s.op === ABI.HULL_STEP_MASK)).toBe(true);
    expect(tail.slice(MASKED_PATHS.length).every((s) => s.op === ABI.HULL_STEP_READONLY)).toBe(true);
  });

  test("/dev is a fresh tmpfs with bound device nodes, a private devpts and the usual links", () => {
    const steps = planMounts(base);
    const devIdx = steps.findIndex((s) => s.dst === "/dev");
    expect(steps[devIdx]?.fstype).toBe("tmpfs");
    for (const d of DEVICES) {
      const i = steps.findIndex((s) => s.dst === `/dev/${d}`);
      expect(i).toBeGreaterThan(devIdx);
      expect((steps[i]?.flags ?? -1) & MS_BIND).toBe(MS_BIND);
    }
    const pts = steps.find((s) => s.dst === "/dev/pts");
    expect(pts?.data).toContain("newinstance");
    expect(pts?.data).toContain("gid=5");
    expect(steps.find((s) => s.dst === "/dev/ptmx")).toMatchObject({ op: ABI.HULL_STEP_SYMLINK, src: "pts/ptmx" });
    for (const dst of ["/dev/shm", "/dev/mqueue", "/dev/fd", "/dev/stdin", "/dev/stdout", "/dev/stderr"]) {
      expect(steps.some((s) => s.dst === dst)).toBe(true);
    }
  });

  test("devpts gets gid=5 only when the tty group is mapped", () => {
    const pts = planMounts({ ...base, ttyGroupMapped: false }).find((s) => s.dst === "/dev/pts");
    expect(pts?.data).not.toContain("gid=");
  });

  test("sysfs read-only with a private network; the host's /sys bound read-only with --network host", () => {
    expect(planMounts(base).find((s) => s.dst === "/sys")).toMatchObject({ fstype: "sysfs" });
    const sys = planMounts(base).find((s) => s.dst === "/sys");
    expect((sys?.flags ?? -1) & MS_RDONLY).toBe(MS_RDONLY);
    const hostSys = planMounts({ ...base, network: "host" }).find((s) => s.dst === "/sys");
    expect(hostSys).toMatchObject({ src: "/sys", fstype: "" });
    expect((hostSys?.flags ?? -1) & (MS_BIND | MS_RDONLY)).toBe(MS_BIND | MS_RDONLY);
  });

  test("user binds keep their order and read-only flag, after the /etc files", () => {
    const steps = planMounts({
      ...base,
      binds: [
        { source: "/a", target: "/x", readonly: false },
        { source: "/b", target: "/x/y", readonly: true },
      ],
    });
    const x = steps.findIndex((s) => s.dst === "/x");
    const y = steps.findIndex((s) => s.dst === "/x/y");
    expect(x).toBeGreaterThan(steps.findIndex((s) => s.dst === "/etc/resolv.conf"));
    expect(y).toBe(x + 1);
    expect((steps[x]?.flags ?? -1) & MS_RDONLY).toBe(0);
    expect((steps[y]?.flags ?? -1) & MS_RDONLY).toBe(MS_RDONLY);
  });
});

test("volumes come after binds as volume steps (filled when empty), tmpfs mounts after them", () => {
  const steps = planMounts({
    ...base,
    binds: [{ source: "/h", target: "/b", readonly: false }],
    volumes: [{ source: "/store/volumes/v/_data", target: "/v", readonly: true }],
    tmpfs: [{ target: "/t", options: "size=1m" }],
  });
  const b = steps.findIndex((s) => s.dst === "/b");
  const vol = steps.findIndex((s) => s.dst === "/v");
  const t = steps.findIndex((s) => s.dst === "/t");
  expect(b).toBeLessThan(vol);
  expect(vol).toBeLessThan(t);
  expect(steps[vol]).toMatchObject({ op: ABI.HULL_STEP_VOLUME, src: "/store/volumes/v/_data" });
  expect((steps[vol]?.flags ?? 0) & (MS_BIND | MS_RDONLY)).toBe(MS_BIND | MS_RDONLY);
  expect(steps[t]).toMatchObject({ op: ABI.HULL_STEP_MOUNT, fstype: "tmpfs", data: "size=1m" });
});

test("namespaceFlags: a network namespace unless --network host", () => {
  const common = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC;
  expect(namespaceFlags("none")).toBe(common | CLONE_NEWNET);
  expect(namespaceFlags("host")).toBe(common);
});

test("--device nodes are bound after /dev's own mounts; --sysctl writes come before /proc/sys turns read-only", () => {
  const steps = planMounts({
    ...base,
    devices: [{ source: "/dev/fuse", target: "/dev/shm/fuse" }],
    sysctls: [{ key: "net.ipv4.ip_forward", path: "net/ipv4/ip_forward", value: "1" }],
  });
  const dev = steps.findIndex((s) => s.src === "/dev/fuse");
  expect(dev).toBeGreaterThan(steps.findIndex((s) => s.dst === "/dev/shm"));
  expect(dev).toBeGreaterThan(steps.findIndex((s) => s.dst === "/dev/pts"));
  const sysctl = steps.findIndex((s) => s.op === ABI.HULL_STEP_SYSCTL);
  expect(steps[sysctl]).toMatchObject({ src: "net/ipv4/ip_forward", dst: "net.ipv4.ip_forward", data: "1" });
  expect(sysctl).toBeLessThan(steps.findIndex((s) => s.op === ABI.HULL_STEP_READONLY && s.dst === "/proc/sys"));
});
