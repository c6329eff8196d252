// Every archive of test/fixtures/hostile.ts through each way a layer enters hull (import, load, pull
// and a build's ADD): the host outside the store stays as it was, and the store keeps working.
import { afterAll, beforeAll, expect, test } from "bun:test";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packTar } from "modern-tar";
import { gzipBomb, hostileArchives } from "./fixtures/hostile";
import { buildLayout, busyboxLayer, push } from "./fixtures/oci";
import { type RegistryFixture, startRegistry } from "./fixtures/registry";
import { HULL, hostHas, hull, hullAsync, makeStore, ok, removeStore, requireUnprivileged } from "./helpers";

requireUnprivileged();

const tools = hostHas(
  Bun.which("docker-registry") !== null && Bun.which("skopeo") !== null,
  "docker-registry and skopeo are needed to pull the hostile archives",
);
let root = "";
let work = "";
let victim = "";
let registry: RegistryFixture | undefined;

/** VICTIM's names, modes, sizes and contents: what no archive may change */
function snapshot(): string {
  const lines: string[] = [];
  const walk = (dir: string) => {
    for (const n of readdirSync(dir).sort()) {
      const p = join(dir, n);
      const st = statSync(p);
      lines.push(`${p} ${st.mode.toString(8)} ${st.size} ${st.isFile() ? readFileSync(p, "utf8") : ""}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(victim);
  return lines.join("\n");
}

beforeAll(async () => {
  root = makeStore();
  work = mkdtempSync(join(tmpdir(), "hull-corpus-"));
  victim = join(work, "victim");
  mkdirSync(victim);
  writeFileSync(join(victim, "target"), "the user's file\n");
  chmodSync(join(victim, "target"), 0o644);
  ok(hull(["run", "--rm", "busybox", "true"], { root }));
  if (tools) registry = await startRegistry();
});

afterAll(async () => {
  await registry?.stop();
  removeStore(root);
  rmSync(work, { recursive: true, force: true });
});

test.if(tools)(
  "hostile archives through import, load, pull and ADD: no escape, and the store still works",
  async () => {
    const before = snapshot();
    let tried = 0;
    let escapes = 0;
    const archives = hostileArchives(victim);
    for (const [i, a] of archives.entries()) {
      const tar = join(work, `${a.name}.tar`);
      writeFileSync(tar, await packTar(a.entries));
      // over a busybox layer, so that what is accepted can also be run
      const layout = await buildLayout({ layers: [busyboxLayer(), a.entries] });
      const oci = join(work, `${a.name}-oci.tar`);
      Bun.spawnSync(["tar", "-C", layout.dir, "-cf", oci, "."]);
      const ref = `${registry?.host}/hostile/${a.name}:1`;
      push(layout, ref);
      layout.cleanup();
      const ctx = join(work, `ctx-${i}`);
      mkdirSync(ctx);
      writeFileSync(join(ctx, "layer.tar"), readFileSync(tar));
      writeFileSync(join(ctx, "Dockerfile"), "FROM busybox\nADD layer.tar /unpacked/\n");
      const ways: [string, string[]][] = [
        ["import", ["import", tar, `imp-${a.name}:1`]],
        ["load", ["load", "-i", oci]],
        ["pull", ["pull", ref]],
        ["ADD", ["build", "-t", `add-${a.name}:1`, ctx]],
      ];
      for (const [way, args] of ways) {
        tried++;
        const r = await hullAsync(args, { root });
        const changed = snapshot() !== before || existsSync("/etc/hull-absolute") || existsSync(join(work, "escape"));
        if (changed) {
          escapes++;
          console.error(`ESCAPE: ${a.name} (${a.tries}) through ${way}: exit ${r.code} ${r.stderr}`);
        }
        // a refusal is one line that names the entry, never a stack trace
        if (r.code !== 0) expect(r.stderr.trim().split("\n").at(-1)).toMatch(/^(hull: |Dockerfile:)/);
      }
      expect(ok(hull(["run", "--rm", "busybox", "true"], { root }))).toBe("");
    }
    console.log(`hostile archives: ${archives.length}, tried: ${tried}, escapes: ${escapes}`);
    expect(escapes).toBe(0);
    expect(snapshot()).toBe(before);
    expect(ok(hull(["system", "check"], { root }))).toContain("the store is consistent");
  },
  600_000,
);

test("a gzip bomb unpacks in bounded memory, or is refused, without taking hull down", async () => {
  // 512 MiB of zeros in about half a MiB: hull streams it to disk, never holding it in memory
  const bomb = join(work, "bomb.tar.gz");
  writeFileSync(bomb, await gzipBomb(512 << 20));
  const r = Bun.spawnSync(["/usr/bin/time", "-f", "%M", HULL, "import", bomb, "bomb:1"], {
    env: { PATH: process.env.PATH ?? "/bin", HOME: process.env.HOME ?? "/tmp", HULL_ROOT: root },
    stderr: "pipe",
    stdout: "pipe",
  });
  const rssKiB = Number(r.stderr.toString().trim().split("\n").at(-1));
  expect(r.exitCode, r.stderr.toString()).toBe(0);
  console.log(`gzip bomb of 512 MiB: peak RSS ${Math.round(rssKiB / 1024)} MiB`);
  expect(rssKiB).toBeLessThan(256 * 1024);
  ok(hull(["rmi", "bomb:1"], { root }));
});
