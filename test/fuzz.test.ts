// Property-based fuzzing of the parsers that read outside data: inputs grown from a corpus kept in
// test/fuzz-corpus/ by random mutation (byte flips, inserted tokens, deletions, splices). A parser
// may accept an input or refuse it with its own error; it may not throw anything else, hang, or
// break the property that goes with it. Bounded here (FUZZ_ITERATIONS, default 300 per target);
// FUZZ_ITERATIONS=100000 FUZZ_SEED=N is the long mode. A failure prints the seed and the input.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { DockerfileError, parseDockerfile } from "../src/build/dockerfile";
import { parseMountFlag, parseTmpfsFlag, parseVolumeFlag } from "../src/container/binds";
import { parseImageConfig } from "../src/image/config";
import { parseManifest } from "../src/image/manifest";
import { formatReference, InvalidReferenceError, parseReference } from "../src/image/reference";
import { unpackLayer } from "../src/image/unpack";

const ITERATIONS = Number(process.env.FUZZ_ITERATIONS ?? 300);
const SEED = Number(process.env.FUZZ_SEED ?? 20261130);
const CORPUS = resolve(import.meta.dir, "fuzz-corpus");

/** mulberry32: small, seedable, good enough to pick mutations */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function corpus(target: string): Uint8Array[] {
  const dir = join(CORPUS, target);
  return readdirSync(dir)
    .sort()
    .map((f) => new Uint8Array(readFileSync(join(dir, f))));
}

const enc = new TextEncoder();

/** One random mutation of INPUT (or a splice with OTHER), with TOKENS as likely insertions. */
function mutate(input: Uint8Array, other: Uint8Array, tokens: string[], r: () => number): Uint8Array {
  const pick = (n: number) => Math.floor(r() * n);
  const bytes = [...input];
  const rounds = 1 + pick(4);
  for (let i = 0; i < rounds; i++) {
    const at = pick(bytes.length + 1);
    switch (pick(6)) {
      case 0:
        if (bytes.length) bytes[pick(bytes.length)] = pick(256);
        break;
      case 1:
        bytes.splice(at, 0, ...enc.encode(tokens[pick(tokens.length)] as string));
        break;
      case 2:
        bytes.splice(at, 1 + pick(16));
        break;
      case 3: {
        const from = pick(bytes.length + 1);
        bytes.splice(at, 0, ...bytes.slice(from, from + 1 + pick(32)));
        break;
      }
      case 4: {
        const from = pick(other.length + 1);
        bytes.splice(at, pick(8), ...other.slice(from, from + 1 + pick(64)));
        break;
      }
      default:
        if (bytes.length) bytes[pick(bytes.length)] = (bytes[pick(bytes.length)] ?? 0) ^ (1 << pick(8));
    }
  }
  return new Uint8Array(bytes);
}

/** Inputs for TARGET: the corpus first, then ITERATIONS mutations of it. */
function* inputs(target: string, tokens: string[]): Generator<Uint8Array> {
  const seeds = corpus(target);
  yield* seeds;
  const r = rng(SEED ^ target.length);
  for (let i = 0; i < ITERATIONS; i++) {
    const a = seeds[Math.floor(r() * seeds.length)] as Uint8Array;
    const b = seeds[Math.floor(r() * seeds.length)] as Uint8Array;
    yield mutate(a, b, tokens, r);
  }
}

/** Errors that mean a bug in hull's own code, whatever the input */
const isBug = (e: unknown) =>
  e instanceof TypeError || e instanceof RangeError || e instanceof ReferenceError || !(e instanceof Error);

function fuzz(target: string, tokens: string[], run: (input: Uint8Array) => void): void {
  let n = 0;
  for (const input of inputs(target, tokens)) {
    const started = performance.now();
    try {
      run(input);
    } catch (e) {
      if (isBug(e) || (e as Error).message === "") {
        throw new Error(
          `fuzz ${target} (FUZZ_SEED=${SEED}, input ${n}): ${(e as Error)?.stack ?? e}\ninput (base64): ${Buffer.from(input).toString("base64")}`,
        );
      }
    }
    const ms = performance.now() - started;
    if (ms > 2000) throw new Error(`fuzz ${target}: input ${n} took ${ms.toFixed(0)} ms (FUZZ_SEED=${SEED})`);
    n++;
  }
}

const dec = (b: Uint8Array) => new TextDecoder().decode(b);

describe("parsers", () => {
  test("the Dockerfile parser accepts or refuses with a DockerfileError", () => {
    const tokens = [
      "\n",
      "\\\n",
      "FROM ",
      "RUN ",
      "COPY --from=",
      "ARG ",
      "ENV ",
      "${",
      "}",
      '"',
      "'",
      "<<EOF\n",
      "EOF\n",
      "# escape=`\n",
      "$",
      ":-",
      "\t",
    ];
    fuzz("dockerfile", tokens, (b) => {
      try {
        parseDockerfile(dec(b));
      } catch (e) {
        if (!(e instanceof DockerfileError)) throw new TypeError(`not a DockerfileError: ${(e as Error).message}`);
      }
    });
  });

  test("references: refused with InvalidReferenceError, and what parses prints back to itself", () => {
    const tokens = [
      ":",
      "/",
      "@sha256:",
      "a".repeat(64),
      ".",
      "-",
      "_",
      "localhost",
      "docker.io/",
      "library/",
      "[::1]",
      ":5000",
      "A",
    ];
    fuzz("reference", tokens, (b) => {
      let r: ReturnType<typeof parseReference>;
      try {
        r = parseReference(dec(b));
      } catch (e) {
        if (!(e instanceof InvalidReferenceError))
          throw new TypeError(`not an InvalidReferenceError: ${(e as Error).message}`);
        return;
      }
      const again = parseReference(formatReference(r));
      expect(formatReference(again)).toBe(formatReference(r));
    });
  });

  test("manifests and configs: accepted, or refused with a message naming the image", () => {
    const tokens = [
      '"',
      "{",
      "}",
      "[",
      "]",
      ",",
      ":",
      "null",
      "1e999",
      '"mediaType"',
      '"layers"',
      '"manifests"',
      '"sha256:',
      "\\u0000",
    ];
    fuzz("manifest", tokens, (b) => {
      try {
        parseManifest(b, "application/vnd.oci.image.manifest.v1+json", "fuzz:1");
      } catch (e) {
        if (!/fuzz:1/.test((e as Error).message)) throw new TypeError(`unnamed: ${(e as Error).message}`);
      }
    });
    fuzz("config", tokens, (b) => {
      try {
        parseImageConfig(dec(b), "fuzz:1");
      } catch (e) {
        if (!/fuzz:1/.test((e as Error).message)) throw new TypeError(`unnamed: ${(e as Error).message}`);
      }
    });
  });

  test("-v, --mount, --tmpfs: a mount is read-only exactly when asked, and its target is absolute", () => {
    const tokens = [
      ",",
      "=",
      ":",
      "ro",
      "rw",
      "readonly",
      "readonly=yes",
      "type=bind",
      "type=tmpfs",
      "target=/",
      "source=/tmp",
      "/",
      "..",
      "z",
    ];
    fuzz("mount", tokens, (b) => {
      const spec = dec(b);
      for (const parse of [parseVolumeFlag, parseMountFlag, parseTmpfsFlag]) {
        let m: ReturnType<typeof parseMountFlag>;
        try {
          m = parse(spec, "/tmp");
        } catch (e) {
          if (!(e as Error).message.includes(spec.slice(0, 20)) && !(e as Error).message.includes("bind source"))
            throw new TypeError(`error does not name the flag: ${(e as Error).message}`);
          continue;
        }
        expect(m.target.startsWith("/")).toBe(true);
        if (m.kind !== "tmpfs" && m.readonly) expect(spec).toMatch(/(^|[:,])(ro|readonly)(=(true|1))?($|[,:])/);
      }
    });
  });
});

describe("the layer unpacker", () => {
  test("mutated hostile tars never write outside the layer", async () => {
    const base = mkdtempSync(join(tmpdir(), "hull-fuzz-tar-"));
    const sentinel = join(base, "sentinel");
    try {
      writeFileSync(sentinel, "untouched\n", { mode: 0o644 });
      const r = rng(SEED);
      const seeds = corpus("tar");
      const count = Math.max(20, Math.floor(ITERATIONS / 5));
      for (let i = 0; i < seeds.length + count; i++) {
        const input =
          i < seeds.length
            ? (seeds[i] as Uint8Array)
            : mutate(
                seeds[Math.floor(r() * seeds.length)] as Uint8Array,
                seeds[Math.floor(r() * seeds.length)] as Uint8Array,
                ["../", "/", ".wh.", "..", "\0"],
                r,
              );
        const root = join(base, "root");
        try {
          await unpackLayer(new Blob([input]).stream(), root);
        } catch (e) {
          if (isBug(e)) throw new Error(`fuzz tar (FUZZ_SEED=${SEED}, input ${i}): ${(e as Error)?.stack ?? e}`);
        }
        // nothing but the layer and the sentinel beside it, and the sentinel as it was
        expect(readdirSync(base).sort()).toEqual(["root", "sentinel"]);
        expect(readFileSync(sentinel, "utf8")).toBe("untouched\n");
        // a layer may hold directories of mode 0: make them removable first, as removeStore does
        Bun.spawnSync(["chmod", "-R", "u+rwx", root], { stderr: "ignore" });
        rmSync(root, { recursive: true, force: true });
      }
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
