// Eight hull processes at once on one store: pulls of images that share layers, runs, builds of one
// context, starts and rm -f of one container. Nothing may be lost, nothing may deadlock, and the
// store checks clean afterwards.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildLayout, busyboxLayer, file, push } from "./fixtures/oci";
import { type RegistryFixture, startRegistry } from "./fixtures/registry";
import { hostHas, hull, hullAsync, makeStore, ok, removeStore, requireUnprivileged, type Result } from "./helpers";

requireUnprivileged();

const hasRegistry = hostHas(
  Bun.which("docker-registry") !== null && Bun.which("skopeo") !== null,
  "docker-registry and skopeo are needed for the parallel pulls",
);
let root = "";
let registry: RegistryFixture | undefined;

beforeAll(async () => {
  root = makeStore();
  ok(hull(["run", "--rm", "busybox", "true"], { root }));
  if (hasRegistry) registry = await startRegistry();
});

afterAll(async () => {
  await registry?.stop();
  removeStore(root);
});

/** ARGS eight times at once; each result, within a bound that a deadlock would pass */
async function eight(args: (i: number) => string[]): Promise<Result[]> {
  const all = Promise.all(Array.from({ length: 8 }, (_, i) => hullAsync(args(i), { root })));
  const bound = Bun.sleep(120_000).then(() => {
    throw new Error(`eight hull ${args(0)[0]} at once did not finish in 120 s (a deadlock?)`);
  });
  return Promise.race([all, bound]);
}

const consistent = () => {
  const r = hull(["system", "check"], { root });
  expect(r.stdout, r.stderr).toContain("the store is consistent");
};

test.if(hasRegistry)(
  "eight pulls of two images that share their base layers",
  async () => {
    const shared = busyboxLayer();
    for (const [name, extra] of [
      ["one", "1"],
      ["two", "2"],
    ] as const) {
      const layout = await buildLayout({ layers: [shared, [file("big", "b".repeat(1 << 20))], [file(name, extra)]] });
      push(layout, `${registry?.host}/par/${name}:1`);
      layout.cleanup();
    }
    const rs = await eight((i) => ["pull", `${registry?.host}/par/${i % 2 ? "one" : "two"}:1`]);
    for (const r of rs) expect(r.code, r.stderr).toBe(0);
    // three layers in all: shared, big (the same content in both) and one of each name's own
    const ids = ok(hull(["images", "-q"], { root }))
      .trim()
      .split("\n");
    expect(ids.length).toBeGreaterThanOrEqual(3);
    expect(ok(hull(["run", "--rm", `${registry?.host}/par/one:1`, "cat", "/one"], { root }))).toBe("1");
    expect(ok(hull(["run", "--rm", `${registry?.host}/par/two:1`, "cat", "/two"], { root }))).toBe("2");
    expect(readdirSync(join(root, "tmp"))).toEqual([]);
    consistent();
  },
  180_000,
);

test("eight runs, and eight builds of one context, at once", async () => {
  const runs = await eight((i) => ["run", "--rm", "busybox", "echo", `run-${i}`]);
  for (const [i, r] of runs.entries()) expect(r.stdout).toBe(`run-${i}\n`);
  const ctx = join(root, "ctx");
  mkdirSync(ctx, { recursive: true });
  writeFileSync(join(ctx, "f"), "context\n");
  writeFileSync(join(ctx, "Dockerfile"), "FROM busybox\nCOPY f /f\nRUN cat /f > /g\n");
  const builds = await eight(() => ["build", "-q", "-t", "par-build:1", ctx]);
  for (const r of builds) expect(r.code, r.stderr).toBe(0);
  expect(ok(hull(["run", "--rm", "par-build:1", "cat", "/g"], { root }))).toBe("context\n");
  consistent();
}, 180_000);

test("eight starts and an rm -f of one container at once", async () => {
  ok(hull(["create", "--name", "contended", "busybox", "sleep", "30"], { root }));
  const all = Promise.all([
    eight(() => ["start", "contended"]),
    Bun.sleep(50).then(() => hullAsync(["rm", "-f", "contended"], { root })),
  ]);
  const [starts, rm] = await all;
  expect(rm.code, rm.stderr).toBe(0);
  // a start that came after the rm finds no container: an error, never a hang or a half container
  for (const r of starts) if (r.code !== 0) expect(r.stderr).toContain("contended");
  expect(ok(hull(["ps", "-aq"], { root })).trim()).toBe("");
  consistent();
}, 180_000);
