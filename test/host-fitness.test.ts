// Host shapes hull must name with the fix: AppArmor's restriction of user namespaces (Ubuntu
// 23.10+), a store on NFS, a runtime directory that is another user's (after su or sudo). Each is
// reproduced here through HULL_TEST_PROC (a stand-in /proc) or the environment, on any host.
import { afterAll, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { privateRuntimeDir, userRuntimeDir } from "../src/runtime/runtime-dir";
import { apparmorProfile, fileSystemOf } from "../src/runtime/host";
import { hull, ok, requireUnprivileged, useStore } from "./helpers";

requireUnprivileged();
const store = useStore();
const dir = mkdtempSync(join(tmpdir(), "hull-host-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** a stand-in /proc: this host's files, with FILES over them */
function fakeProc(files: Record<string, string>): string {
  const p = mkdtempSync(join(dir, "proc-"));
  for (const f of ["sys/user/max_user_namespaces", "self/mountinfo"]) {
    mkdirSync(join(p, f, ".."), { recursive: true });
    writeFileSync(join(p, f), readFileSync(`/proc/${f}`));
  }
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(join(p, f, ".."), { recursive: true });
    writeFileSync(join(p, f), text);
  }
  return p;
}

test("AppArmor's restriction: doctor fails, names the sysctl, and prints the profile and the two commands", () => {
  const proc = fakeProc({
    "sys/kernel/apparmor_restrict_unprivileged_userns": "1\n",
    "self/attr/current": "unconfined\n",
  });
  const r = hull(["doctor"], { ...store, env: { HULL_TEST_PROC: proc } });
  expect(r.code).toBe(1);
  expect(r.stdout).toMatch(/FAIL\s+user namespaces\s+AppArmor restricts unprivileged user namespaces/);
  expect(r.stdout).toContain(
    "fix: hull doctor --apparmor-profile | sudo tee /etc/apparmor.d/hull && sudo apparmor_parser -r /etc/apparmor.d/hull",
  );
  const profile = ok(hull(["doctor", "--apparmor-profile"], store));
  expect(profile).toContain("abi <abi/4.0>,");
  expect(profile).toMatch(/^profile hull "\/[^"]+" flags=\(unconfined\) \{\n {2}userns,$/m);
  // the path named is the hull that printed it, which must exist
  const path = /^profile hull "([^"]+)" /m.exec(profile)?.[1] ?? "";
  expect(statSync(path).isFile()).toBe(true);
  // once loaded, hull runs under it: the check passes
  const loaded = fakeProc({
    "sys/kernel/apparmor_restrict_unprivileged_userns": "1\n",
    "self/attr/current": "hull (unconfined)\n",
  });
  const again = hull(["doctor"], { ...store, env: { HULL_TEST_PROC: loaded } });
  expect(again.stdout).toMatch(/ok\s+user namespaces\s+AppArmor restricts .* hull runs under its profile/);
});

test("the profile's path cannot add rules: line breaks refused, AppArmor's globs escaped", () => {
  expect(() => apparmorProfile("/tmp/q\nprofile evil /usr/bin/** flags=(unconfined) { userns, }\n#")).toThrow(
    "control character",
  );
  const p = apparmorProfile('/opt/a{b,c}/hu*ll [x] "q"');
  expect(p).toContain('profile hull "/opt/a\\{b\\,c\\}/hu\\*ll \\[x\\] \\"q\\"" flags=(unconfined) {');
  // one profile, whatever the path
  expect(p.match(/^profile /gm)).toHaveLength(1);
});

test("a store on NFS: doctor names the file system and where to put the store instead", () => {
  const mounts = `${readFileSync("/proc/self/mountinfo", "utf8")}999 1 0:99 / ${store.root} rw,relatime shared:1 - nfs4 server:/export rw,vers=4.2\n`;
  const proc = fakeProc({ "self/mountinfo": mounts });
  const r = hull(["doctor"], { ...store, env: { HULL_TEST_PROC: proc } });
  expect(r.stdout).toContain(`${store.root} is on nfs4 (${store.root})`);
  expect(r.stdout).toContain("put the store on a local disk: hull --root DIR");
  // and this host's own: a local file system, ok
  expect(ok(hull(["doctor"], store))).toMatch(/ok\s+store file system/);
});

test("fileSystemOf: the longest mount point above the path, with mountinfo's octal escapes", () => {
  const saved = process.env.HULL_TEST_PROC;
  process.env.HULL_TEST_PROC = fakeProc({
    "self/mountinfo": [
      "1 0 8:1 / / rw - ext4 /dev/sda1 rw",
      "2 1 0:2 / /home rw - xfs /dev/sda2 rw",
      "3 2 0:3 / /home/a\\040b rw - nfs srv:/x rw",
    ].join("\n"),
  });
  try {
    expect(fileSystemOf("/home/a b/store")?.type).toBe("nfs");
    expect(fileSystemOf("/home/ab")?.type).toBe("xfs");
    expect(fileSystemOf("/var")?.type).toBe("ext4");
  } finally {
    if (saved === undefined) delete process.env.HULL_TEST_PROC;
    else process.env.HULL_TEST_PROC = saved;
  }
});

test("another user's XDG_RUNTIME_DIR (after su or sudo) is passed over for a private one, and doctor says why", () => {
  const saved = process.env.XDG_RUNTIME_DIR;
  process.env.XDG_RUNTIME_DIR = "/etc";
  try {
    expect(userRuntimeDir()?.dir).not.toBe("/etc");
    const r = privateRuntimeDir();
    expect(r.dir).not.toBe("/etc");
    expect(r.passedOver).toContain("/etc belongs to uid 0, not to you");
    const st = statSync(r.dir);
    expect(st.uid).toBe(process.getuid?.() ?? -1);
    expect(st.mode & 0o077).toBe(0);
    if (r.from === "fallback") {
      // a fallback another user could read is refused, not used
      chmodSync(r.dir, 0o755);
      try {
        expect(() => privateRuntimeDir()).toThrow("is open to others");
      } finally {
        chmodSync(r.dir, 0o700);
      }
    }
  } finally {
    if (saved === undefined) delete process.env.XDG_RUNTIME_DIR;
    else process.env.XDG_RUNTIME_DIR = saved;
  }
  const r = hull(["doctor"], { ...store, env: { XDG_RUNTIME_DIR: "/etc" } });
  expect(r.stdout).toMatch(/no\s+runtime directory\s+\/\S+, as \/etc belongs to uid 0, not to you/);
});

// a host without uidmap, and a user without a subordinate range: doctor names each with its fix, and
// containers still run, with the single-id map (root inside is the caller)
test("no newuidmap: doctor says so with the package to install, and a container runs as the caller's one id", () => {
  const env = { PATH: join(dir, "empty-path"), HULL_TEST_SYSTEM_DIRS: "" };
  const fresh = { root: mkdtempSync(join(dir, "store-")) };
  const r = hull(["doctor"], { ...fresh, env });
  expect(r.stdout).toMatch(/^no\s+newuidmap\/newgidmap\s+not installed: single-id map only/m);
  expect(r.stdout).toContain("fix: sudo apt-get install uidmap");
  expect(r.stdout).toMatch(/container ids\s+only 0 mapped \(newuidmap\/newgidmap not installed\)/);
  expect(ok(hull(["info", "--format", "{{.Newuidmap}}"], { ...fresh, env })).trim()).toBe("false");
  // the container's /proc/self/uid_map: one line, one id (its parent may be the shared namespace's
  // holder, whose root is the caller)
  const map = ok(hull(["run", "--rm", "busybox", "cat", "/proc/self/uid_map"], { ...fresh, env }));
  expect(map.trim().split(/\s+/)).toEqual(["0", expect.any(String), "1"]);
  hull(["unshare", "rm", "-rf", fresh.root], { ...fresh, env });
});

test("no subordinate ids for the user: doctor gives the usermod line, and a container runs with one id", () => {
  const etc = mkdtempSync(join(dir, "etc-"));
  writeFileSync(join(etc, "subuid"), "someone-else:100000:65536\n");
  writeFileSync(join(etc, "subgid"), "someone-else:100000:65536\n");
  const env = { HULL_TEST_ETC: etc };
  const fresh = { root: mkdtempSync(join(dir, "store-")) };
  const r = hull(["doctor"], { ...fresh, env });
  expect(r.stdout).toMatch(/^no\s+subordinate ids\s+no entry for \S+ in \/etc\/subuid or \/etc\/subgid/m);
  expect(r.stdout).toMatch(/fix: sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 \S+/);
  const map = ok(hull(["run", "--rm", "busybox", "cat", "/proc/self/uid_map"], { ...fresh, env }));
  expect(map.trim().split(/\s+/)).toEqual(["0", expect.any(String), "1"]);
  // the shared namespace's holder, started with the single-id map, lives on with this container: a
  // run with the range (the range given since) is not nested under it, and works
  ok(hull(["run", "-d", "--name", "one-id", "busybox", "sleep", "30"], { ...fresh, env }));
  expect(ok(hull(["run", "--rm", "busybox", "echo", "ranged"], fresh))).toBe("ranged\n");
  expect(ok(hull(["run", "--rm", "--network", "none", "busybox", "echo", "none"], fresh))).toBe("none\n");
  ok(hull(["rm", "-f", "one-id"], fresh));
  hull(["unshare", "rm", "-rf", fresh.root], { ...fresh, env });
});
