// Times commands in turns (a, b, c, a, b, c, ...) rather than one after another as hyperfine does.
// On these shared 2-core machines a host's speed drifts by 20% within a minute; run back to back, a
// command measured in a slow minute looks slower than its neighbour by more than the few ms a
// comparison such as "the default network adds at most 5 ms" is about. In turns, every command sees
// the same drift. Writes hyperfine's --export-json shape (seconds), so the benches' reports read either.
//   bun bench/interleave.ts [--runs N] [--warmup N] [--gap MS] [--shuffle] --export-json FILE [--prepare 'CMD'] -n NAME 'CMD' ...
// --gap: a pause after each sample, untimed, so that what a command leaves running for a moment
// (podman's cleanup after `stop` and `rm`, hull's link deletion) does not fall on its neighbour's.
// --prepare: a command run, untimed, before each sample of the next -n (hyperfine's --prepare).
// --shuffle: each turn in an order of its own (the same orders from one run to the next). In a fixed
// order each row always follows the same neighbour, and what that neighbour leaves running past the
// pause (podman's cleanup process, a helper's exit) falls on it alone: the row after podman's read
// 2-3 ms slower than the same command elsewhere in the turn.
// A command is split into words as hyperfine -N splits it (spaces; '...' and "..." keep a word
// whole) and run without a shell; its output is discarded, and a command that fails stops the run.
import * as v from "valibot";
import { splitWords } from "../src/store/config";

const Count = v.pipe(v.string(), v.regex(/^\d+$/, "a whole number"), v.transform(Number));
const args = process.argv.slice(2);
let runs = 10;
let warmup = 2;
let gap = 0;
let out = "";
const commands: { name: string; argv: string[]; prepare?: string[] }[] = [];
let prepare: string[] | undefined;
let shuffle = false;
for (let i = 0; i < args.length; i++) {
  const a = args[i] as string;
  const value = () => {
    const next = args[++i];
    if (next === undefined) throw new Error(`interleave: ${a} needs a value`);
    return next;
  };
  if (a === "--runs") runs = v.parse(Count, value());
  else if (a === "--warmup") warmup = v.parse(Count, value());
  else if (a === "--gap") gap = v.parse(Count, value());
  else if (a === "--export-json") out = value();
  else if (a === "--shuffle") shuffle = true;
  else if (a === "--prepare") {
    const line = value();
    prepare = splitWords(line, () => new Error(`interleave: an unclosed quote in ${line}`));
  } else if (a === "-n") {
    const name = value();
    const line = value();
    // words as a shell splits them ('...' and "..." keep blanks), hyperfine -N's way
    commands.push({
      name,
      argv: splitWords(line, () => new Error(`interleave: an unclosed quote in ${line}`)),
      prepare,
    });
    prepare = undefined;
  } else throw new Error(`interleave: unknown argument ${a} (see the header of bench/interleave.ts)`);
}
if (!out || commands.length === 0) throw new Error("interleave: give --export-json FILE and at least one -n NAME CMD");

function run(argv: string[]): number {
  const start = performance.now();
  const p = Bun.spawnSync(argv, { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  const ms = performance.now() - start;
  if (p.exitCode !== 0) {
    process.stderr.write(p.stderr);
    throw new Error(`interleave: ${argv.join(" ")} exited with ${p.exitCode}`);
  }
  if (gap > 0) Bun.sleepSync(gap);
  return ms;
}

function once(c: (typeof commands)[number]): number {
  if (c.prepare) run(c.prepare);
  return run(c.argv);
}

for (let w = 0; w < warmup; w++) for (const c of commands) once(c);
const times = commands.map(() => [] as number[]);
/** mulberry32: a small seeded generator, so that two runs of a bench shuffle alike */
let seed = 0x9e3779b9;
function random(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
function turnOrder(): number[] {
  const order = commands.map((_, i) => i);
  if (!shuffle) return order;
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  return order;
}
for (let r = 0; r < runs; r++)
  for (const i of turnOrder()) times[i]?.push(once(commands[i] as (typeof commands)[number]) / 1000);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const results = commands.map((c, i) => {
  const t = times[i] as number[];
  const mean = t.reduce((a, b) => a + b, 0) / t.length;
  const stddev = t.length > 1 ? Math.sqrt(t.reduce((a, b) => a + (b - mean) ** 2, 0) / (t.length - 1)) : null;
  return { command: c.name, median: median(t), mean, stddev, times: t };
});
await Bun.write(out, JSON.stringify({ results }, null, 1));
