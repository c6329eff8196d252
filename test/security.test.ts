// Docker's security defaults in a real container: its seccomp profile, its capability set, and the
// flags that change them (--privileged, --cap-add/--cap-drop, --security-opt).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SYSCALLS } from "../src/runtime/syscalls";
import { hull, hullAsync, makeStore, ok, probeBinary, removeStore, requireUnprivileged } from "./helpers";

requireUnprivileged();

let root = "";
let probe = "";
let work = "";
const arch = process.arch === "arm64" ? "aarch64" : "x86_64";
const nr = (name: string) => String(SYSCALLS[arch][name]);

beforeAll(() => {
  root = makeStore();
  probe = probeBinary();
  work = mkdtempSync(join(tmpdir(), "hull-sec-"));
  ok(hull(["run", "--rm", "busybox", "true"], { root }));
});

afterAll(() => {
  removeStore(root);
  rmSync(work, { recursive: true, force: true });
});

/** `hull run --rm [FLAGS] -v probe busybox ARGS...`'s output, which must exit 0 */
const inside = (flags: string[], ...args: string[]) =>
  ok(hull(["run", "--rm", "-v", `${probe}:/probe:ro`, ...flags, "busybox", ...args], { root }));
const status = (flags: string[], field: string) =>
  inside(flags, "sh", "-c", `grep '^${field}:' /proc/self/status | cut -f2`).trim();
/** the probe's answer to syscall NAME with ARGS */
const call = (flags: string[], name: string, ...args: string[]) =>
  inside(flags, "/probe", "syscall", nr(name), ...args)
    .trim()
    .split("=")[1];

// Docker's default bounding set: chown dac_override fowner fsetid kill setgid setuid setpcap
// net_bind_service net_raw sys_chroot mknod audit_write setfcap
const DOCKER_CAPS = "00000000a80425fb";

describe("defaults", () => {
  test("every container runs under Docker's seccomp profile with Docker's capabilities", () => {
    expect(status([], "Seccomp")).toBe("2");
    expect(status([], "CapBnd")).toBe(DOCKER_CAPS);
    expect(status([], "NoNewPrivs")).toBe("0");
  });

  test("the profile refuses what Docker's refuses, with Docker's errno", () => {
    expect(call([], "mount", "0", "0", "0", "0", "0")).toBe("EPERM");
    expect(call([], "unshare", String(0x10000000))).toBe("EPERM"); // CLONE_NEWUSER
    expect(call([], "keyctl", "0", "-3", "0")).toBe("EPERM");
    expect(call([], "bpf", "0", "0", "0")).toBe("EPERM");
    expect(call([], "personality", String(0x12345))).toBe("EPERM");
    // clone3 answers ENOSYS, so that libcs fall back to clone, which the profile filters by flags
    expect(call([], "clone3", "0", "0")).toBe("ENOSYS");
    // a number past every syscall the profile knows: ENOSYS, as runc's filters answer
    expect(inside([], "/probe", "syscall", "1000").trim()).toBe("syscall1000=ENOSYS");
    // and lets through what ordinary programs use
    expect(call([], "getpid")).toBe("ok");
    expect(call([], "personality", String(0xffffffff))).toBe("ok");
  });

  test("exec and a build's RUN run under the same profile", async () => {
    ok(hull(["run", "-d", "--name", "sec-exec", "busybox", "sleep", "60"], { root }));
    try {
      expect(ok(hull(["exec", "sec-exec", "grep", "^Seccomp:", "/proc/self/status"], { root }))).toContain("2");
    } finally {
      ok(hull(["rm", "-f", "sec-exec"], { root }));
    }
    const ctx = join(work, "ctx");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(ctx, { recursive: true });
    writeFileSync(join(ctx, "Dockerfile"), "FROM busybox\nRUN grep '^Seccomp:' /proc/self/status > /seccomp\n");
    const b = await hullAsync(["build", "-t", "sec-build:1", ctx], { root });
    expect(b.code, b.stderr).toBe(0);
    expect(ok(hull(["run", "--rm", "sec-build:1", "cat", "/seccomp"], { root }))).toContain("2");
  });
});

describe("flags", () => {
  test("--security-opt seccomp=unconfined turns the filter off", () => {
    expect(status(["--security-opt", "seccomp=unconfined"], "Seccomp")).toBe("0");
    expect(call(["--security-opt", "seccomp=unconfined"], "keyctl", "0", "-3", "0")).toBe("ok");
  });

  test("--privileged: every capability, no filter, nothing masked", () => {
    expect(status(["--privileged"], "Seccomp")).toBe("0");
    expect(status(["--privileged"], "CapBnd")).not.toBe(DOCKER_CAPS);
    expect(BigInt(`0x${status(["--privileged"], "CapBnd")}`) & (1n << 21n)).toBe(1n << 21n); // CAP_SYS_ADMIN
    // /proc/interrupts is one of Docker's masked paths: empty by default, the kernel's with --privileged
    expect(Number(inside(["--privileged"], "sh", "-c", "wc -c < /proc/interrupts"))).toBeGreaterThan(0);
    expect(inside([], "sh", "-c", "wc -c < /proc/interrupts").trim()).toBe("0");
  });

  test("--cap-add and --cap-drop change the set, and the profile follows it", () => {
    const withAdmin = BigInt(`0x${status(["--cap-add", "SYS_ADMIN"], "CapBnd")}`);
    expect(withAdmin).toBe(BigInt(`0x${DOCKER_CAPS}`) | (1n << 21n));
    // the profile lets mount through when CAP_SYS_ADMIN is held; the kernel then judges it
    expect(call(["--cap-add", "sys_admin"], "mount", "0", "0", "0", "0", "0")).not.toBe("EPERM");
    expect(status(["--cap-drop", "ALL"], "CapBnd")).toBe("0000000000000000");
    expect(status(["--cap-drop", "ALL", "--cap-add", "CAP_CHOWN"], "CapBnd")).toBe("0000000000000001");
    expect(status(["--cap-drop", "net_raw,mknod"], "CapBnd")).toBe(
      (BigInt(`0x${DOCKER_CAPS}`) & ~((1n << 13n) | (1n << 27n))).toString(16).padStart(16, "0"),
    );
  });

  test("--security-opt no-new-privileges sets the bit", () => {
    expect(status(["--security-opt", "no-new-privileges"], "NoNewPrivs")).toBe("1");
    expect(status(["--security-opt", "no-new-privileges=false"], "NoNewPrivs")).toBe("0");
  });

  test("a profile of the user's own, in Docker's JSON", () => {
    const profile = join(work, "profile.json");
    writeFileSync(
      profile,
      JSON.stringify({
        defaultAction: "SCMP_ACT_ALLOW",
        syscalls: [{ names: ["getppid"], action: "SCMP_ACT_ERRNO", errnoRet: 13 }],
      }),
    );
    expect(call(["--security-opt", `seccomp=${profile}`], "getppid")).toBe("EACCES");
    expect(call(["--security-opt", `seccomp=${profile}`], "getpid")).toBe("ok");
  });

  test("bad values are one line and exit 125, and nothing is created", () => {
    const bad = join(work, "bad.json");
    writeFileSync(bad, JSON.stringify({ defaultAction: "SCMP_ACT_MAYBE" }));
    const cases: [string[], string][] = [
      [["--cap-add", "FLY"], 'unknown capability "FLY"'],
      [["--security-opt", "seccomp=/nonexistent.json"], "no such file"],
      [["--security-opt", `seccomp=${bad}`], "unsupported seccomp action"],
      [["--security-opt", "selinux=yes"], "unknown --security-opt"],
      [["--security-opt", "no-new-privileges=maybe"], "takes true or false"],
    ];
    for (const [flags, message] of cases) {
      const r = hull(["run", "--rm", ...flags, "busybox", "true"], { root });
      expect(r.code).toBe(125);
      expect(r.stderr).toContain(message);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
    }
    expect(ok(hull(["ps", "-aq"], { root })).trim()).toBe("");
  });
});
