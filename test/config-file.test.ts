// The config file ($XDG_CONFIG_HOME/hull/config.toml; HULL_CONFIG here): defaults under the flags
// and environment, aliases, and `hull info` saying where each value came from. A typo is an error
// that names the file and the key.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HULL, ok, removeStore, requireUnprivileged, useStore } from "./helpers";

requireUnprivileged();

const store = useStore();
const dir = mkdtempSync(join(tmpdir(), "hull-config-"));
const config = join(dir, "config.toml");
const otherRoot = join(dir, "store");
afterAll(() => {
  removeStore(otherRoot);
  rmSync(dir, { recursive: true, force: true });
});

/** hull with the config file and, unless ROOT is false, the test's store */
function h(args: string[], root: string | false = store.root) {
  const env: Record<string, string | undefined> = { ...process.env, HULL_CONFIG: config };
  if (root === false) delete env.HULL_ROOT;
  else env.HULL_ROOT = root;
  const p = Bun.spawnSync([HULL, ...args], { env: env as Record<string, string> });
  return { code: p.exitCode, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

test("defaults from the file, under the command line: network, ulimits, pull, storage root", () => {
  writeFileSync(
    config,
    `[storage]\nroot = "${otherRoot}"\n[run]\nnetwork = "none"\nulimits = ["nofile=512:1024"]\npull = "never"\n`,
  );
  expect(ok(h(["run", "--rm", "busybox", "ls", "/sys/class/net"]))).toBe("lo\n");
  expect(ok(h(["run", "--rm", "busybox", "sh", "-c", "ulimit -n"]))).toBe("512\n");
  expect(ok(h(["run", "--rm", "--ulimit", "nofile=256:1024", "busybox", "sh", "-c", "ulimit -n"]))).toBe("256\n");
  // pull = never: an image not here is not fetched
  const r = h(["run", "--rm", "127.0.0.1:9/nothing:1", "true"]);
  expect(r.code).toBe(125);
  expect(r.stderr).toContain("--pull never");
  // the storage root: HULL_ROOT wins; without it, the file's
  expect(ok(h(["info", "--format", "{{.DockerRootDir}}"]))).toBe(`${store.root}\n`);
  expect(ok(h(["info", "--format", "{{.DockerRootDir}} {{.Config.StorageRoot.From}}"], false))).toBe(
    `${otherRoot} ${config}\n`,
  );
  const info = ok(h(["info"]));
  expect(info).toContain(`Config File: ${config} (read)`);
  expect(info).toContain(`Default Network: none (from ${config})`);
  expect(info).toContain("Storage Root: ");
  expect(info).toContain("(from HULL_ROOT)");
});

test("aliases: a word for a command line; a command is never shadowed", () => {
  writeFileSync(config, `[aliases]\nnames = "ps -a --format '{{.Names}}'"\nps = "images"\nbad = "frobnicate now"\n`);
  ok(h(["create", "--name", "aliased", "busybox", "true"]));
  expect(ok(h(["names", "--filter", "name=aliased"]))).toBe("aliased\n");
  expect(ok(h(["ps", "-a", "--format", "{{.Names}}", "--filter", "name=aliased"]))).toBe("aliased\n");
  const r = h(["bad"]);
  expect(r.code).toBe(125);
  expect(r.stderr.trim()).toBe('hull: alias bad = "frobnicate now" does not start with a hull command');
  ok(h(["rm", "aliased"]));
});

test("a typo in the file is one line naming the file and the key; commands that need no store still run", () => {
  writeFileSync(config, `[run]\nnetwrok = "none"\n`);
  const r = h(["ps"]);
  expect(r.code).toBe(125);
  expect(r.stderr.trim()).toBe(`hull: ${config}: unknown key run.netwrok (docs/config.md lists the keys)`);
  writeFileSync(config, `[run]\npull = "sometimes"\n`);
  expect(h(["run", "--rm", "busybox", "true"]).stderr.trim()).toBe(
    `hull: ${config}: run.pull: takes missing, always or never (docs/config.md lists the keys)`,
  );
  // a key of the wrong kind is named as such, not as unknown
  writeFileSync(config, `run = 3\n`);
  expect(h(["ps"]).stderr.trim()).toBe(
    `hull: ${config}: run must be a table ([run] with its keys under it) (docs/config.md lists the keys)`,
  );
  for (const text of [`run = [1]\n`, `[[run]]\nnetwork = "none"\n`]) {
    writeFileSync(config, text);
    expect(h(["ps"]).stderr.trim()).toBe(
      `hull: ${config}: run must be a table ([run] with its keys under it) (docs/config.md lists the keys)`,
    );
  }
  writeFileSync(config, `aliases = []\n`);
  expect(h(["ps"]).stderr).toContain("aliases must be a table");
  writeFileSync(config, `[storage]\nroot = 5\n`);
  expect(h(["ps"]).stderr.trim()).toBe(
    `hull: ${config}: storage.root must be a string (docs/config.md lists the keys)`,
  );
  writeFileSync(config, `[run\n`);
  expect(h(["images"]).stderr).toContain(`hull: ${config}: not TOML`);
  expect(ok(h(["version"]))).toMatch(/^hull /);
  rmSync(config);
  expect(ok(h(["info", "--format", "{{.ConfigFileFound}}"]))).toBe("false\n");
});
