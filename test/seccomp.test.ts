import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { DEFAULT_CAPS } from "../src/runtime/capabilities";
import { compileSeccomp, type SeccompArch, type SeccompProfile, SeccompProfileSchema } from "../src/runtime/seccomp";
import { defaultProfile } from "../src/runtime/seccomp-profile";
import { SYSCALLS } from "../src/runtime/syscalls";
import { evaluate, type Verdict } from "./seccomp-eval";

const AUDIT_ARCH = { x86_64: 0xc000003e, aarch64: 0xc00000b7 } as const;
const AUDIT_ARCH_I386 = 0x40000003;
const AUDIT_ARCH_ARM = 0x40000028;
const DOCKER_CAPS = new Set<string>(DEFAULT_CAPS);
const withCaps = (...caps: string[]) => new Set([...DOCKER_CAPS, ...caps]);

const SIGCHLD = 17n;
const CLONE_THREAD_FLAGS = 0x3d0f00n; // what glibc's pthread_create passes
const CLONE_NEWUSER = 0x10000000n;
const CLONE_NEWNS = 0x20000n;
const ALLOW: Verdict = { action: "allow" };
const EPERM: Verdict = { action: "errno", errno: 1 };
const ENOSYS: Verdict = { action: "errno", errno: 38 };
const KILL: Verdict = { action: "kill" };

/** Runs `name(args)` through the profile compiled for `arch`. */
function runner(arch: SeccompArch, caps: ReadonlySet<string> = DOCKER_CAPS, kernel?: [number, number]) {
  const program = compileSeccomp(defaultProfile, { arch, caps, kernel });
  return (name: string, ...args: bigint[]): Verdict => {
    const nr = SYSCALLS[arch][name];
    if (nr === undefined) throw new Error(`no ${name} on ${arch}`);
    return evaluate(program, { nr, arch: AUDIT_ARCH[arch], args });
  };
}

const instructions = (program: Uint8Array) => program.length / 8;

/** What the kernel's filter check insists on, for every instruction rather than the paths a test runs. */
function checkStatically(program: Uint8Array): void {
  const view = new DataView(program.buffer, program.byteOffset, program.byteLength);
  const count = instructions(program);
  for (let pc = 0; pc < count; pc++) {
    const op = view.getUint16(pc * 8, true);
    const k = view.getUint32(pc * 8 + 4, true);
    if (op === 0x05) expect(pc + 1 + k).toBeLessThan(count);
    else if ((op & 0x07) === 0x05) {
      expect(pc + 1 + view.getUint8(pc * 8 + 2)).toBeLessThan(count);
      expect(pc + 1 + view.getUint8(pc * 8 + 3)).toBeLessThan(count);
    }
  }
  expect(view.getUint16((count - 1) * 8, true) & 0x07).toBe(0x06); // ends with a ret
}

for (const arch of ["x86_64", "aarch64"] as const) {
  describe(`default profile on ${arch}`, () => {
    const call = runner(arch);

    test("the program is valid BPF of at most BPF_MAXINSNS instructions", () => {
      for (const caps of [DOCKER_CAPS, withCaps("CAP_SYS_ADMIN"), new Set<string>()]) {
        const program = compileSeccomp(defaultProfile, { arch, caps });
        expect(program.length % 8).toBe(0);
        expect(instructions(program)).toBeLessThan(4096);
        checkStatically(program);
      }
    });

    test("everyday syscalls are allowed", () => {
      for (const name of ["read", "write", "openat", "close", "execve", "mmap", "futex", "exit_group", "getdents64"]) {
        expect(call(name)).toEqual(ALLOW);
      }
    });

    test("system administration syscalls fail with EPERM", () => {
      const names = ["mount", "umount2", "reboot", "kexec_load", "init_module", "finit_module", "delete_module"];
      names.push("bpf", "keyctl", "add_key", "request_key", "unshare", "setns", "pivot_root", "swapon", "acct");
      names.push("open_by_handle_at", "perf_event_open", "settimeofday", "clock_settime", "vhangup", "userfaultfd");
      for (const name of names) expect([name, call(name)]).toEqual([name, EPERM]);
    });

    test("chroot is allowed with Docker's default CAP_SYS_CHROOT only", () => {
      expect(call("chroot")).toEqual(ALLOW);
      const caps = new Set(DOCKER_CAPS);
      caps.delete("CAP_SYS_CHROOT");
      expect(runner(arch, caps)("chroot")).toEqual(EPERM);
    });

    test("ptrace and process_vm_* need kernel 4.8 without CAP_SYS_PTRACE", () => {
      for (const name of ["ptrace", "process_vm_readv", "process_vm_writev"]) {
        expect(call(name)).toEqual(ALLOW); // no kernel given: minKernel counts as met
        expect(runner(arch, DOCKER_CAPS, [6, 1])(name)).toEqual(ALLOW);
        expect(runner(arch, DOCKER_CAPS, [4, 8])(name)).toEqual(ALLOW);
        expect(runner(arch, DOCKER_CAPS, [4, 4])(name)).toEqual(EPERM);
        expect(runner(arch, withCaps("CAP_SYS_PTRACE"), [4, 4])(name)).toEqual(ALLOW);
      }
      expect(call("kcmp")).toEqual(EPERM);
      expect(runner(arch, withCaps("CAP_SYS_PTRACE"))("kcmp")).toEqual(ALLOW);
    });

    test("clone may not create namespaces", () => {
      expect(call("clone", SIGCHLD)).toEqual(ALLOW);
      expect(call("clone", CLONE_THREAD_FLAGS)).toEqual(ALLOW);
      expect(call("clone", CLONE_NEWUSER | SIGCHLD)).toEqual(EPERM);
      expect(call("clone", CLONE_NEWNS)).toEqual(EPERM);
      for (const flag of [0x20000n, 0x2000000n, 0x4000000n, 0x8000000n, 0x10000000n, 0x20000000n, 0x40000000n]) {
        expect(call("clone", flag | SIGCHLD)).toEqual(EPERM);
      }
      // the high word is not part of the mask, as in libseccomp
      expect(call("clone", (1n << 40n) | SIGCHLD)).toEqual(ALLOW);
    });

    test("clone3 answers ENOSYS so that libcs fall back to clone", () => {
      expect(call("clone3")).toEqual(ENOSYS);
    });

    test("personality takes only the values Docker lists", () => {
      for (const p of [0n, 8n, 0x20000n, 0x20008n, 0xffffffffn]) expect(call("personality", p)).toEqual(ALLOW);
      for (const p of [0x12345n, 0x0040000n, 1n << 32n, 0xffffffffffffffffn]) {
        expect(call("personality", p)).toEqual(EPERM);
      }
    });

    test("socket refuses AF_VSOCK and AF_ALG only", () => {
      for (const family of [1n, 2n, 10n, 16n, 17n, 37n, 39n, 41n, 44n]) {
        expect(call("socket", family, 1n, 0n)).toEqual(ALLOW);
      }
      expect(call("socket", 40n, 1n, 0n)).toEqual(EPERM); // AF_VSOCK
      expect(call("socket", 38n, 5n, 0n)).toEqual(EPERM); // AF_ALG
    });

    test("numbers past the profile's last syscall answer ENOSYS, holes below it EPERM", () => {
      const program = compileSeccomp(defaultProfile, { arch, caps: DOCKER_CAPS });
      const at = (nr: number) => evaluate(program, { nr, arch: AUDIT_ARCH[arch] });
      // the highest number the profile names that this table knows
      const named = new Set((defaultProfile.syscalls ?? []).flatMap((s) => s.names ?? []));
      const highest = Math.max(
        ...Object.entries(SYSCALLS[arch])
          .filter(([n]) => named.has(n))
          .map(([, nr]) => nr),
      );
      expect(at(highest + 1)).toEqual(ENOSYS);
      expect(at(1000)).toEqual(ENOSYS);
      expect(at(-1)).toEqual(ENOSYS);
      // a syscall newer than Debian 12's headers that Docker allows is allowed, not ENOSYS
      expect(call("fchmodat2")).toEqual(ALLOW);
      expect(call("mseal")).toEqual(ALLOW);
      // below the highest, what the profile does not allow is EPERM, as in Docker
      expect(call("set_mempolicy_home_node")).toEqual(EPERM);
      expect(runner(arch, withCaps("CAP_SYS_NICE"))("set_mempolicy_home_node")).toEqual(ALLOW);
      expect(call("mbind")).toEqual(EPERM);
    });

    test("other syscall ABIs kill the process", () => {
      const program = compileSeccomp(defaultProfile, { arch, caps: DOCKER_CAPS });
      const other = arch === "x86_64" ? [AUDIT_ARCH_I386, AUDIT_ARCH.aarch64] : [AUDIT_ARCH_ARM, AUDIT_ARCH.x86_64];
      for (const a of other) expect(evaluate(program, { nr: 0, arch: a })).toEqual(KILL);
    });

    test("CAP_SYS_ADMIN unlocks mount, namespaces and clone3", () => {
      const admin = runner(arch, withCaps("CAP_SYS_ADMIN"));
      for (const name of ["mount", "umount2", "unshare", "setns", "sethostname", "fsopen", "open_tree"]) {
        expect(admin(name)).toEqual(ALLOW);
      }
      expect(admin("clone", CLONE_NEWUSER | SIGCHLD)).toEqual(ALLOW);
      expect(admin("clone3")).toEqual(ALLOW);
      expect(admin("reboot")).toEqual(EPERM);
      expect(admin("bpf")).toEqual(ALLOW);
    });

    test("the other capability groups", () => {
      const groups: [string, string[]][] = [
        ["CAP_SYS_BOOT", ["reboot"]],
        ["CAP_SYS_MODULE", ["init_module", "finit_module", "delete_module"]],
        ["CAP_SYS_PACCT", ["acct"]],
        ["CAP_SYS_TIME", ["settimeofday", "clock_settime"]],
        ["CAP_SYS_TTY_CONFIG", ["vhangup"]],
        ["CAP_SYS_NICE", ["mbind", "get_mempolicy", "set_mempolicy"]],
        ["CAP_SYSLOG", ["syslog"]],
        ["CAP_BPF", ["bpf"]],
        ["CAP_PERFMON", ["perf_event_open"]],
        ["CAP_DAC_READ_SEARCH", ["open_by_handle_at"]],
        ["CAP_SYS_PTRACE", ["pidfd_getfd", "process_madvise"]],
      ];
      for (const [cap, names] of groups) {
        const withCap = runner(arch, withCaps(cap));
        for (const name of names) {
          expect([cap, name, call(name)]).toEqual([cap, name, EPERM]);
          expect([cap, name, withCap(name)]).toEqual([cap, name, ALLOW]);
        }
      }
    });
  });
}

describe("arch-specific parts of the default profile", () => {
  test("x86_64 allows arch_prctl and modify_ldt, and refuses x32 syscalls with ENOSYS", () => {
    const program = compileSeccomp(defaultProfile, { arch: "x86_64", caps: DOCKER_CAPS });
    const at = (nr: number) => evaluate(program, { nr, arch: AUDIT_ARCH.x86_64 });
    expect(at(SYSCALLS.x86_64.arch_prctl!)).toEqual(ALLOW);
    expect(at(SYSCALLS.x86_64.modify_ldt!)).toEqual(ALLOW);
    expect(at(0x40000000 | SYSCALLS.x86_64.read!)).toEqual(ENOSYS);
    expect(at(0x40000000 | SYSCALLS.x86_64.execve!)).toEqual(ENOSYS);
  });

  test("x86_64 only: iopl and ioperm with CAP_SYS_RAWIO", () => {
    expect(runner("x86_64")("iopl")).toEqual(EPERM);
    expect(runner("x86_64", withCaps("CAP_SYS_RAWIO"))("ioperm")).toEqual(ALLOW);
  });

  test("the aarch64 table maps the generic 32/64 names", () => {
    expect(SYSCALLS.aarch64).toMatchObject({ fcntl: 25, newfstatat: 79, fstat: 80, mmap: 222, clone: 220 });
    expect(SYSCALLS.aarch64.open).toBeUndefined();
    const call = runner("aarch64");
    for (const name of ["fcntl", "newfstatat", "fstat", "lseek", "fadvise64", "renameat", "getrlimit"]) {
      expect(call(name)).toEqual(ALLOW);
    }
  });
});

test("x86_64 allows every syscall a busybox shell makes", () => {
  const call = runner("x86_64");
  const shell = `execve brk arch_prctl set_tid_address set_robust_list rseq mmap mprotect munmap prlimit64 getrandom
    rt_sigaction rt_sigprocmask rt_sigreturn getpid getppid getuid geteuid getgid getegid uname getcwd chdir open openat
    close read write lseek readlink access faccessat stat lstat fstat newfstatat statx getdents64 ioctl fcntl pipe pipe2
    dup dup2 dup3 wait4 kill setpgid getpgrp poll nanosleep clock_nanosleep times umask sysinfo vfork exit exit_group`;
  for (const name of shell.split(/\s+/)) expect([name, call(name)]).toEqual([name, ALLOW]);
  expect(call("clone", SIGCHLD)).toEqual(ALLOW); // fork()
});

const conditional = (args: NonNullable<SeccompProfile["syscalls"]>[number]["args"]): SeccompProfile => ({
  defaultAction: "SCMP_ACT_ERRNO",
  syscalls: [
    { names: ["read", "exit_group"], action: "SCMP_ACT_ALLOW" },
    { names: ["write"], action: "SCMP_ACT_ALLOW", args },
  ],
});

describe("custom profiles", () => {
  const write = SYSCALLS.x86_64.write!;
  const run = (profile: SeccompProfile, nr: number, args: bigint[] = []) =>
    evaluate(compileSeccomp(profile, { arch: "x86_64", caps: new Set() }), { nr, arch: AUDIT_ARCH.x86_64, args });

  test("MASKED_EQ compares both words of a 64-bit argument", () => {
    const profile = conditional([
      { index: 1, value: 0x3_0000_00ff, valueTwo: 0x1_0000_0012, op: "SCMP_CMP_MASKED_EQ" },
    ]);
    expect(run(profile, write, [0n, 0x1_0000_0012n])).toEqual(ALLOW);
    expect(run(profile, write, [0n, 0xf5_ffff_ff12n])).toEqual(ALLOW); // bits outside the mask do not matter
    expect(run(profile, write, [0n, 0x3_0000_0012n])).toEqual(EPERM);
    expect(run(profile, write, [0n, 0x0_0000_0012n])).toEqual(EPERM);
    expect(run(profile, write, [0n, 0x1_0000_0013n])).toEqual(EPERM);
    expect(run(profile, write, [0x1_0000_0012n, 0n])).toEqual(EPERM); // another argument
  });

  test("GT decides on the high word first", () => {
    const profile = conditional([{ index: 2, value: 0x2_0000_0010, op: "SCMP_CMP_GT" }]);
    expect(run(profile, write, [0n, 0n, 0x2_0000_0011n])).toEqual(ALLOW);
    expect(run(profile, write, [0n, 0n, 0x3_0000_0000n])).toEqual(ALLOW);
    expect(run(profile, write, [0n, 0n, 0x2_0000_0010n])).toEqual(EPERM);
    expect(run(profile, write, [0n, 0n, 0x1_ffff_ffffn])).toEqual(EPERM);
    expect(run(profile, write, [0n, 0n, 0xffff_ffffn])).toEqual(EPERM);
  });

  test("every operator agrees with 64-bit arithmetic", () => {
    const words = [0n, 1n, 0x7fn, 0x80n, 0xffff_fffen, 0xffff_ffffn];
    const values = words.flatMap((hi) => words.map((lo) => (hi << 32n) | lo)).filter((n) => n <= 2n ** 53n - 1n);
    const samples = words.flatMap((hi) => words.map((lo) => (hi << 32n) | lo));
    const ops = {
      SCMP_CMP_EQ: (a: bigint, b: bigint) => a === b,
      SCMP_CMP_NE: (a: bigint, b: bigint) => a !== b,
      SCMP_CMP_LT: (a: bigint, b: bigint) => a < b,
      SCMP_CMP_LE: (a: bigint, b: bigint) => a <= b,
      SCMP_CMP_GT: (a: bigint, b: bigint) => a > b,
      SCMP_CMP_GE: (a: bigint, b: bigint) => a >= b,
      SCMP_CMP_MASKED_EQ: (a: bigint, b: bigint) => (a & b) === (b & 0x1_0000_007fn),
    };
    for (const [op, holds] of Object.entries(ops) as [keyof typeof ops, (a: bigint, b: bigint) => boolean][]) {
      for (const value of values) {
        const valueTwo = op === "SCMP_CMP_MASKED_EQ" ? Number(value & 0x1_0000_007fn) : undefined;
        const program = compileSeccomp(conditional([{ index: 0, value: Number(value), valueTwo, op }]), {
          arch: "x86_64",
          caps: new Set(),
        });
        for (const arg of samples) {
          const got = evaluate(program, { nr: write, arch: AUDIT_ARCH.x86_64, args: [arg] });
          expect([op, value, arg, got]).toEqual([op, value, arg, holds(arg, value) ? ALLOW : EPERM]);
        }
      }
    }
  });

  test("conditions of one rule are ANDed, rules of one syscall ORed, first match first", () => {
    const profile: SeccompProfile = {
      defaultAction: "SCMP_ACT_KILL_PROCESS",
      syscalls: [
        {
          names: ["write"],
          action: "SCMP_ACT_ALLOW",
          args: [
            { index: 0, value: 1, op: "SCMP_CMP_EQ" },
            { index: 2, value: 100, op: "SCMP_CMP_LE" },
          ],
        },
        { names: ["write"], action: "SCMP_ACT_ERRNO", errnoRet: 28, args: [{ index: 0, value: 1, op: "SCMP_CMP_EQ" }] },
        { names: ["write"], action: "SCMP_ACT_LOG", args: [{ index: 0, value: 2, op: "SCMP_CMP_EQ" }] },
        { names: ["write"], action: "SCMP_ACT_TRAP" },
        { names: ["write"], action: "SCMP_ACT_ALLOW" }, // never reached
      ],
    };
    expect(run(profile, write, [1n, 0n, 100n])).toEqual(ALLOW);
    expect(run(profile, write, [1n, 0n, 101n])).toEqual({ action: "errno", errno: 28 });
    expect(run(profile, write, [2n, 0n, 1n])).toEqual({ action: "log" });
    expect(run(profile, write, [3n])).toEqual({ action: "trap" });
    expect(run(profile, SYSCALLS.x86_64.read!)).toEqual(KILL);
    expect(run(profile, 1000)).toEqual(ENOSYS);
  });

  test("actions and errno values", () => {
    const profile: SeccompProfile = {
      defaultAction: "SCMP_ACT_ERRNO",
      defaultErrnoRet: 13,
      syscalls: [
        { names: ["read"], action: "SCMP_ACT_ERRNO" },
        { names: ["write"], action: "SCMP_ACT_TRACE", errnoRet: 7 },
        { names: ["open"], action: "SCMP_ACT_KILL" },
        { names: ["close"], action: "SCMP_ACT_KILL_THREAD" },
        { names: ["mmap"], action: "SCMP_ACT_ALLOW" },
      ],
    };
    expect(run(profile, SYSCALLS.x86_64.read!)).toEqual(EPERM); // a rule's errno defaults to EPERM, as in runc
    expect(run(profile, SYSCALLS.x86_64.write!)).toEqual({ action: "trace" });
    expect(run(profile, SYSCALLS.x86_64.open!)).toEqual(KILL);
    expect(run(profile, SYSCALLS.x86_64.close!)).toEqual(KILL);
    expect(run(profile, SYSCALLS.x86_64.fstat!)).toEqual({ action: "errno", errno: 13 });
  });

  test("a permissive default action keeps its ENOSYS-free tail, but x32 is still refused", () => {
    const profile: SeccompProfile = {
      defaultAction: "SCMP_ACT_ALLOW",
      syscalls: [{ names: ["mount", "no_such_syscall"], action: "SCMP_ACT_ERRNO", errnoRet: 1 }],
    };
    expect(run(profile, SYSCALLS.x86_64.mount!)).toEqual(EPERM);
    expect(run(profile, SYSCALLS.x86_64.read!)).toEqual(ALLOW);
    expect(run(profile, 1000)).toEqual(ALLOW);
    expect(run(profile, 0x40000000 | SYSCALLS.x86_64.mount!)).toEqual(ENOSYS);
    expect(run({ defaultAction: "SCMP_ACT_ALLOW" }, 0x40000000)).toEqual(ENOSYS);
    expect(run({ defaultAction: "SCMP_ACT_ALLOW" }, 3)).toEqual(ALLOW);
  });

  test("long programs stay within the 8-bit conditional jumps", () => {
    const names = Object.keys(SYSCALLS.x86_64);
    const profile: SeccompProfile = {
      defaultAction: "SCMP_ACT_ERRNO",
      syscalls: names.map((name, i) => ({
        names: [name],
        action: "SCMP_ACT_ALLOW",
        args: [{ index: i % 6, value: i, op: "SCMP_CMP_EQ" }],
      })),
    };
    const program = compileSeccomp(profile, { arch: "x86_64", caps: new Set() });
    expect(instructions(program)).toBeGreaterThan(1000);
    expect(instructions(program)).toBeLessThan(4096);
    checkStatically(program);
    names.forEach((name, i) => {
      const nr = SYSCALLS.x86_64[name]!;
      const args = [0n, 0n, 0n, 0n, 0n, 0n];
      // exit and exit_group go through whatever the profile says (the next test)
      const always = name === "exit" || name === "exit_group";
      expect(evaluate(program, { nr, arch: AUDIT_ARCH.x86_64, args })).toEqual(i === 0 || always ? ALLOW : EPERM);
      args[i % 6] = BigInt(i);
      expect(evaluate(program, { nr, arch: AUDIT_ARCH.x86_64, args })).toEqual(ALLOW);
    });
  });

  test("every profile lets exit and exit_group through: a process that may not exit spins for ever", () => {
    const program = compileSeccomp({ defaultAction: "SCMP_ACT_ERRNO" }, { arch: "x86_64", caps: new Set() });
    const call = (name: string) =>
      evaluate(program, { nr: SYSCALLS.x86_64[name]!, arch: AUDIT_ARCH.x86_64, args: [0n, 0n, 0n, 0n, 0n, 0n] });
    expect(call("exit")).toEqual(ALLOW);
    expect(call("exit_group")).toEqual(ALLOW);
    expect(call("getpid")).toEqual(EPERM);
  });

  test("a profile over BPF_MAXINSNS is refused", () => {
    const args = [0, 1, 2, 3, 4, 5].map((index) => ({ index, value: 2 ** 40, op: "SCMP_CMP_GE" as const }));
    const profile: SeccompProfile = {
      defaultAction: "SCMP_ACT_ERRNO",
      syscalls: Object.keys(SYSCALLS.x86_64).map((name) => ({ names: [name], action: "SCMP_ACT_ALLOW", args })),
    };
    expect(() => compileSeccomp(profile, { arch: "x86_64", caps: new Set() })).toThrow(/over the kernel's 4096/);
  });
});

describe("SeccompProfileSchema", () => {
  test("takes Docker's profile as JSON, and fields it does not know", () => {
    const json = JSON.parse(JSON.stringify({ ...defaultProfile, listenerPath: "/x", flags: [] }));
    const parsed = v.parse(SeccompProfileSchema, json);
    expect(parsed.syscalls?.length).toBe(defaultProfile.syscalls?.length);
    expect(parsed.listenerPath).toBe("/x");
  });

  test("takes the older form with name, empty includes and null args", () => {
    const r = v.safeParse(SeccompProfileSchema, {
      defaultAction: "SCMP_ACT_ERRNO",
      syscalls: [{ name: "read", action: "SCMP_ACT_ALLOW", args: null, comment: "", includes: {}, excludes: {} }],
    });
    expect(r.success).toBe(true);
    const program = compileSeccomp(r.output as SeccompProfile, { arch: "aarch64", caps: new Set() });
    expect(evaluate(program, { nr: SYSCALLS.aarch64.read!, arch: AUDIT_ARCH.aarch64 })).toEqual(ALLOW);
  });

  test("rejects an unknown action with a message naming it and where it is", () => {
    const r = v.safeParse(SeccompProfileSchema, {
      defaultAction: "SCMP_ACT_ERRNO",
      syscalls: [
        { names: ["read"], action: "SCMP_ACT_ALLOW" },
        { names: ["write"], action: "SCMP_ACT_NOTIFY" },
      ],
    });
    expect(r.success).toBe(false);
    const message = v.summarize(r.issues!);
    expect(message).toContain('unsupported seccomp action "SCMP_ACT_NOTIFY"');
    expect(message).toContain("SCMP_ACT_ALLOW, SCMP_ACT_ERRNO");
    expect(message).toContain("syscalls.1.action");
  });

  test("rejects an unknown operator and an out-of-range argument index", () => {
    const bad = (arg: object) =>
      v.safeParse(SeccompProfileSchema, {
        defaultAction: "SCMP_ACT_ERRNO",
        syscalls: [{ names: ["write"], action: "SCMP_ACT_ALLOW", args: [arg] }],
      });
    const op = bad({ index: 0, value: 1, op: "SCMP_CMP_BETWEEN" });
    expect(op.success).toBe(false);
    expect(v.summarize(op.issues!)).toContain('unsupported seccomp operator "SCMP_CMP_BETWEEN"');
    expect(bad({ index: 6, value: 1, op: "SCMP_CMP_EQ" }).success).toBe(false);
    expect(bad({ index: 0, value: -1, op: "SCMP_CMP_EQ" }).success).toBe(false);
    expect(bad({ index: 0, value: 2 ** 64, op: "SCMP_CMP_EQ" }).success).toBe(false);
  });
});
