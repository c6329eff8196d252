// Every line of docs/compatibility.md, run as written with hull in docker's place, in order, against
// one store: a row that no longer behaves as it says fails here, and so does a stale document.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { CASES } from "./compat/cases";
import { counts, renderCompatibility } from "./compat/render";
import { type RegistryFixture, startRegistry } from "./fixtures/registry";
import { HULL, hostHas, ok, hull, makeStore, removeStore, requireUnprivileged } from "./helpers";

test("docs/compatibility.md is what test/compat/cases.ts renders", () => {
  const doc = readFileSync(resolve(import.meta.dir, "..", "docs", "compatibility.md"), "utf8");
  expect(doc).toBe(renderCompatibility());
  const c = counts();
  console.log(
    `compatibility: ${CASES.length} docker command lines: ${c.works} work, ${c.differs} differ, ${c.missing} missing`,
  );
  expect(CASES.length).toBeGreaterThanOrEqual(80);
  // the README quotes the counts: they must be these
  const readme = readFileSync(resolve(import.meta.dir, "..", "README.md"), "utf8").replace(/\s+/g, " ");
  expect(readme).toContain(
    `lists ${CASES.length} everyday docker command lines, each run as written by \`test/compat.test.ts\` with hull in docker's place: ${c.works} work as docker's, ${c.differs} differ (the row says how) and ${c.missing} are refused with the reason.`,
  );
});

const registryHere = hostHas(Bun.which("docker-registry") !== null, "the compatibility run needs docker-registry");

describe.if(registryHere)("docker command lines with hull in docker's place", () => {
  requireUnprivileged();
  let root = "";
  let dir = "";
  let bin = "";
  let registry: RegistryFixture;
  beforeAll(async () => {
    root = makeStore();
    ok(hull(["run", "--rm", "busybox", "true"], { root }));
    dir = mkdtempSync(join(tmpdir(), "hull-compat-"));
    writeFileSync(join(dir, "f.txt"), "file\n");
    writeFileSync(join(dir, "app.env"), "MODE=prod\n");
    writeFileSync(
      join(dir, "Dockerfile"),
      'FROM busybox AS base\nARG MSG=hi\nRUN echo $MSG > /greeting\nFROM base\nCOPY f.txt /\nCMD ["cat", "/greeting"]\n',
    );
    bin = join(dir, "bin");
    mkdirSync(bin);
    writeFileSync(join(bin, "docker"), `#!/bin/sh\nexec "${HULL}" "$@"\n`);
    chmodSync(join(bin, "docker"), 0o755);
    registry = await startRegistry();
  });
  afterAll(async () => {
    hull(["rm", "-f", "web", "job", "job2"], { root });
    await registry?.stop();
    removeStore(root);
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [i, c] of CASES.entries()) {
    test(`${i + 1}. ${c.docker}`, () => {
      const r = Bun.spawnSync(["sh", "-c", c.docker], {
        env: {
          PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}`,
          HOME: process.env.HOME ?? "/tmp",
          HULL_ROOT: root,
          DIR: dir,
          REG: registry.host,
        },
        stdin: c.stdin === undefined ? "ignore" : new TextEncoder().encode(c.stdin),
        stdout: "pipe",
        stderr: "pipe",
      });
      const out = r.stdout.toString();
      const err = r.stderr.toString();
      const said = `${c.docker}\nstdout: ${out}\nstderr: ${err}`;
      if (c.fails) expect(r.exitCode, said).not.toBe(0);
      else expect(r.exitCode, said).toBe(c.code ?? 0);
      if (c.stdout !== undefined) {
        if (typeof c.stdout === "string") expect(out, said).toBe(c.stdout);
        else expect(out, said).toMatch(c.stdout);
      }
      if (c.stderr !== undefined) {
        if (typeof c.stderr === "string") expect(err, said).toContain(c.stderr);
        else expect(err, said).toMatch(c.stderr);
      }
      // a refusal is one line
      if (c.verdict === "missing") expect(err.trim().split("\n"), said).toHaveLength(1);
    }, 60_000);
  }
});
