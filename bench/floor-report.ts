// Prints bench/floor's table: each row's median, its ratio to the peer issue 11 names (bwrap with
// hull's namespaces for the run rows, nsenter for the exec rows), peak RSS, and each target against
// what hull measures and what a program with Bun in front costs before doing anything of its own.
import * as v from "valibot";

const Results = v.object({
  results: v.array(v.object({ command: v.string(), median: v.number() })),
});
const RssKiB = v.pipe(v.string(), v.regex(/^\d+$/, "a count of KiB"), v.transform(Number));

const [jsonPath, ...rssArgs] = process.argv.slice(2);
const [rssEmpty, rssFfi, rssHull] = rssArgs.map((a) => v.parse(RssKiB, a));
const data = v.parse(Results, JSON.parse(await Bun.file(jsonPath as string).text()));
const median = new Map(data.results.map((r) => [r.command, r.median * 1000]));
const ms = (name: string) => {
  const m = median.get(name);
  if (m === undefined) throw new Error(`floor-report: no row ${name} in ${jsonPath}`);
  return m;
};
const x = (n: number) => `${n.toFixed(2)}x`;

const bwrap = ms("bwrap, hull's namespaces");
const nsenter = ms("nsenter");
console.log(`floor, ${new Date().toISOString().slice(0, 10)} (${navigator.hardwareConcurrency} cores)`);
console.log("| command                    | median ms | ratio to the peer          |");
console.log("|----------------------------|----------:|---------------------------:|");
for (const r of data.results) {
  const execRow = /nsenter|exec$/.test(r.command) && !r.command.includes("bwrap");
  const peer = execRow ? nsenter : bwrap;
  const ratio = `${x((r.median * 1000) / peer)} ${execRow ? "nsenter" : "bwrap"}`;
  console.log(`| ${r.command.padEnd(26)} | ${ms(r.command).toFixed(2).padStart(9)} | ${ratio.padStart(26)} |`);
}
const mb = (kib: number) => `${(kib / 1024).toFixed(1)} MB`;
console.log("");
console.log(
  `peak RSS: Bun empty ${mb(rssEmpty as number)}, Bun with bun:ffi ${mb(rssFfi as number)}, hull run ${mb(rssHull as number)}`,
);
console.log("");
const floorRun = ms("Bun, bun:ffi, exec bwrap");
const floorExec = ms("Bun, bun:ffi, exec nsenter");
const podman = ms("podman run");
console.log("issue 11's targets: hull / the design's floor (Bun, bun:ffi, exec) / a native front end (C, exec)");
console.log(
  `- hull run <= 2x bwrap with hull's namespaces: ${x(ms("hull run") / bwrap)} / ${x(floorRun / bwrap)} / ${x(ms("C, exec bwrap") / bwrap)}`,
);
console.log(
  `- hull run >= 20x faster than podman run --network=none: ${x(podman / ms("hull run"))} / ${x(podman / floorRun)} / ${x(podman / ms("C, exec bwrap"))}`,
);
console.log(
  `- hull exec <= 2x nsenter: ${x(ms("hull exec") / nsenter)} / ${x(floorExec / nsenter)} / ${x(ms("C, exec nsenter") / nsenter)}`,
);
console.log(
  `- peak RSS of hull run <= 30 MB: ${mb(rssHull as number)} / ${mb(rssFfi as number)} (Bun with bun:ffi, nothing else)`,
);
