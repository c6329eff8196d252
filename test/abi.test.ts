// ffi/abi.h and src/runtime/abi.ts describe one contract; this fails when they drift apart.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ABI } from "../src/runtime/abi";

test("every #define in ffi/abi.h has the same value in src/runtime/abi.ts, and no more", () => {
  const header = readFileSync(join(import.meta.dir, "..", "ffi", "abi.h"), "utf8");
  const defines = new Map<string, number>();
  for (const m of header.matchAll(/^#define (HULL_[A-Z0-9_]+) (0x[0-9a-fA-F]+|\d+)\s*$/gm)) {
    defines.set(m[1] as string, Number(m[2]));
  }
  expect(defines.size).toBeGreaterThan(30);
  expect(Object.fromEntries(defines)).toEqual({ ...ABI });
});
