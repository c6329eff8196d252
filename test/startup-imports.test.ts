// `hull run` is timed against bwrap and crun (bench/startup), and in a compiled Bun binary some
// builtins cost milliseconds just to load (node:fs ~3 ms, node:crypto ~6 ms, node:tty with
// process.stdout ~10 ms, node:path ~1.3 ms, node:os ~1.5 ms). This fails when the code `hull run`
// loads statically imports one of them.
import { expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const HEAVY = [
  "fs",
  "fs/promises",
  "crypto",
  "tty",
  "util",
  "stream",
  "stream/promises",
  "zlib",
  "child_process",
  "path",
  "os",
];

test("the run command's and the listings' chunks import no heavy node builtin", async () => {
  const out = mkdtempSync(join(tmpdir(), "hull-chunks-"));
  try {
    const result = await Bun.build({
      entrypoints: [resolve(import.meta.dir, "..", "src", "cli", "main.ts")],
      outdir: out,
      splitting: true,
      target: "bun",
      format: "esm",
      minify: true,
      naming: { chunk: "[name]-[hash].[ext]" },
    });
    expect(result.success).toBe(true);
    const chunk = (name: string) => {
      const file = readdirSync(out).find((f) => new RegExp(`^${name}-.*\\.js$`).test(f));
      expect(file).toBeDefined();
      return file as string;
    };
    const runChunk = chunk("run");
    const seen = new Set<string>();
    const builtins = new Set<string>();
    const walk = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(join(out, file), "utf8");
      for (const m of text.matchAll(/(?:^|[;}\s])import\s*(?:[^"';]*?from\s*)?"([^"]+)"/g)) {
        const spec = m[1] as string;
        if (spec.startsWith("./")) walk(spec.slice(2));
        else builtins.add(spec.replace(/^node:/, ""));
      }
    };
    walk("main.js");
    walk(runChunk as string);
    expect([...builtins].filter((b) => HEAVY.includes(b))).toEqual([]);
    // valibot by name only: a whole-module import (`await import("valibot")`, once, anywhere) kept
    // all of it, 81 KB, in a chunk every command loads. On a host where each page a process writes
    // costs ~10 µs, that was 6-8 ms of every command. IMEI's check is one hull never uses.
    const loaded = [...seen].map((f) => readFileSync(join(out, f), "utf8")).join("");
    expect(loaded.includes('type:"imei"')).toBe(false);
    // the listings too (hull ps, hull images: bench/listing): node:fs was 3 ms of each, for a
    // readdirSync that src/sys/libc.ts's readDir does
    for (const listing of ["containers", "images"]) {
      seen.clear();
      builtins.clear();
      walk("main.js");
      walk(chunk(listing));
      expect(
        [...builtins].filter((b) => HEAVY.includes(b)),
        listing,
      ).toEqual([]);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
