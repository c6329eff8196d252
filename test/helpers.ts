// Shared by the end-to-end tests: run the built binary as the current (unprivileged) user against a
// throwaway store, and check that nothing was left behind.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { userName } from "../src/runtime/whoami";

export const HULL = resolve(import.meta.dir, "..", "dist", "hull");

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** R's stdout, when hull exited 0; otherwise a failure that shows its stderr. */
export function ok(r: Result): string {
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

export function requireUnprivileged(): void {
  if (process.getuid?.() === 0) {
    throw new Error("container tests run hull rootless: run `make test` as an ordinary user (CI: .ci/run does)");
  }
}

/**
 * A test that needs a host feature runs only where the host has it, and says why when it does not.
 * In CI (HULL_MUST_WORK=1) every feature must be there, so a missing one fails instead of skipping.
 */
export function hostHas(feature: boolean, why: string): boolean {
  if (feature) return true;
  if (process.env.HULL_MUST_WORK === "1") throw new Error(`required in CI but missing on this host: ${why}`);
  console.warn(`skip: ${why}`);
  return false;
}

export function makeStore(): string {
  return mkdtempSync(join(tmpdir(), "hull-test-"));
}

/** Remove a store, including layers that hold files of subordinate ids (through `hull unshare`). */
export function removeStore(root: string): void {
  Bun.spawnSync(["chmod", "-R", "u+rwx", root], { stderr: "ignore" });
  Bun.spawnSync([HULL, "unshare", "rm", "-rf", root], { stderr: "inherit" });
  rmSync(root, { recursive: true, force: true });
}

/** A bare environment for hull: PATH, HOME and the test's store. */
export function hullEnv(opts: { root: string; env?: Record<string, string> }): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? "/tmp",
    HULL_ROOT: opts.root,
    ...opts.env,
  };
}

export function hull(args: string[], opts: { root: string; env?: Record<string, string>; stdin?: string }): Result {
  const r = Bun.spawnSync([HULL, ...args], {
    env: hullEnv(opts),
    stdin: opts.stdin === undefined ? "ignore" : new TextEncoder().encode(opts.stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/** hull as a child process without blocking the event loop: for tests that serve HTTP themselves. */
export async function hullAsync(args: string[], opts: { root: string; env?: Record<string, string> }): Promise<Result> {
  const p = Bun.spawn([HULL, ...args], {
    env: hullEnv(opts),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, stdout, stderr] = await Promise.all([
    p.exited,
    new Response(p.stdout).text(),
    new Response(p.stderr).text(),
  ]);
  return { code, stdout, stderr };
}

/** Container directories, and container names, still in the store. */
export function containersLeft(root: string): string[] {
  const list = (d: string) => {
    try {
      return readdirSync(join(root, d)).map((n) => `${d}/${n}`);
    } catch {
      return [];
    }
  };
  return [...list("containers"), ...list("names")];
}

/**
 * hull-* processes of this user still alive (the shim names its stages hull-shim, hull-userns...).
 * Zombies do not count: an orphaned stage that has exited waits for the system's init to reap it.
 */
export function shimProcesses(): number[] {
  // not the shared network namespace's holder (hull-netns): it serves every container of a store
  // and leaves by itself a second or more after the last (test/user-network.test.ts checks that);
  // nor the deleter of an ended container's links (hull-unlink), which the kernel's grace period
  // keeps ~10 ms after its supervisor is gone (test/network.test.ts checks that it goes)
  return userProcesses((name) => name.startsWith("hull-") && name !== "hull-netns" && name !== "hull-unlink");
}

/** Live (not zombie) processes of this user whose name (comm) MATCH takes. */
export function userProcesses(match: (name: string) => boolean): number[] {
  const uid = String(process.getuid?.());
  const found: number[] = [];
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const status = readFileSync(`/proc/${pid}/status`, "utf8");
      const name = /^Name:\s*(.*)$/m.exec(status)?.[1];
      const owner = /^Uid:\s*(\d+)/m.exec(status)?.[1];
      const state = /^State:\s*(\S)/m.exec(status)?.[1];
      if (owner === uid && name !== undefined && match(name) && state !== "Z") found.push(Number(pid));
    } catch {}
  }
  return found;
}

export function hostMounts(): string {
  return readFileSync("/proc/self/mountinfo", "utf8");
}

export function hasSubordinateIds(): boolean {
  const name = userName();
  const has = (f: string) => {
    try {
      return readFileSync(f, "utf8")
        .split("\n")
        .some((l) => l.startsWith(`${name}:`) || l.startsWith(`${process.getuid?.()}:`));
    } catch {
      return false;
    }
  };
  const helper = ["/usr/bin/newuidmap", "/usr/bin/newgidmap"].every((p) => Bun.file(p).size > 0);
  return has("/etc/subuid") && has("/etc/subgid") && helper;
}

/** fuse-overlayfs can be used here: /dev/fuse is open to this user and the program is installed. */
export function fuseUsable(): boolean {
  const { accessSync, constants, existsSync } = require("node:fs") as typeof import("node:fs");
  try {
    accessSync("/dev/fuse", constants.R_OK | constants.W_OK);
    return existsSync("/usr/bin/fuse-overlayfs");
  } catch {
    return false;
  }
}

let probePath = "";
/**
 * test/fixtures/probe/probe.c built once per test file as a static binary, to bind into containers
 * (`-v PROBE:/probe:ro`): it reports what a process there can do (TIOCSTI, keyrings, raw syscalls).
 */
export function probeBinary(): string {
  if (probePath) return probePath;
  const { existsSync } = require("node:fs") as typeof import("node:fs");
  const cc = ["/usr/bin/musl-gcc", "/usr/bin/gcc"].find((p) => existsSync(p));
  if (!cc) throw new Error("the probe needs musl-gcc or gcc (apt-get install musl-tools)");
  const out = join(mkdtempSync(join(tmpdir(), "hull-probe-")), "probe");
  const src = resolve(import.meta.dir, "fixtures", "probe", "probe.c");
  const r = Bun.spawnSync([cc, "-static", "-Os", "-o", out, src], { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`building the probe: ${r.stderr.toString()}`);
  probePath = out;
  return out;
}

/** hull under script(1), so that it has a terminal as stdin, stdout and controlling tty. */
export function hullOnTerminal(command: string, root: string, stdin?: string): Result {
  const r = Bun.spawnSync(["script", "-qec", command, "/dev/null"], {
    env: { ...process.env, HULL_ROOT: root },
    stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: r.exitCode ?? -1, stdout: r.stdout.toString().replace(/\r/g, ""), stderr: r.stderr.toString() };
}

/**
 * A throwaway store for the whole test file, made (with the embedded busybox in it) before its first
 * test and removed after its last. Call at the top of a file; the object is the options hull() takes.
 */
export function useStore(): { root: string } {
  const { afterAll, beforeAll } = require("bun:test") as typeof import("bun:test");
  const store = { root: "" };
  beforeAll(() => {
    store.root = makeStore();
    ok(hull(["run", "--rm", "busybox", "true"], store));
  });
  afterAll(() => removeStore(store.root));
  return store;
}

export interface PodmanSandbox {
  home: string;
  podman(...args: string[]): Result;
  remove(): void;
}

/**
 * Rootless podman with its own throwaway storage and config, so a test neither reads nor changes
 * the user's: cgroupfs and the file event logger (no systemd here), runc (crun refuses a hybrid
 * cgroup layout), and its pause processes gone with it.
 */
export function podmanSandbox(): PodmanSandbox {
  const { mkdirSync, writeFileSync } = require("node:fs") as typeof import("node:fs");
  const home = mkdtempSync(join(tmpdir(), "hull-podman-"));
  mkdirSync(join(home, "run"), { mode: 0o700 });
  writeFileSync(
    join(home, "containers.conf"),
    '[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\nruntime = "runc"\n',
  );
  const env = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    XDG_CONFIG_HOME: join(home, "config"),
    XDG_DATA_HOME: join(home, "data"),
    XDG_RUNTIME_DIR: join(home, "run"),
    CONTAINERS_CONF: join(home, "containers.conf"),
  };
  const podman = (...args: string[]): Result => {
    const r = Bun.spawnSync(["podman", "--root", join(home, "root"), "--runroot", join(home, "runroot"), ...args], {
      env,
      stdout: "pipe",
      stderr: "pipe",
    });
    return { code: r.exitCode ?? -1, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  };
  const remove = () => {
    podman("unshare", "rm", "-rf", home);
    // rootless podman leaves pause processes (catatonit, or its own "podman pause") behind: this sandbox's go with it
    for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
      try {
        if (!["catatonit", "podman pause"].includes(readFileSync(`/proc/${pid}/comm`, "utf8").trim())) continue;
        if (readFileSync(`/proc/${pid}/environ`, "utf8").includes(home)) process.kill(Number(pid));
      } catch {}
    }
    rmSync(home, { recursive: true, force: true });
  };
  return { home, podman, remove };
}
