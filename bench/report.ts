// Prints bench/startup's table: medians, ratios against hull, and the issue's targets.
import * as v from "valibot";

const Results = v.object({
  results: v.array(
    v.object({
      command: v.string(),
      median: v.number(),
      mean: v.number(),
      stddev: v.nullable(v.number()),
      // each sample, in seconds (bench/interleave.ts runs the rows in turns: sample i of each is one turn)
      times: v.optional(v.array(v.number())),
    }),
  ),
});

const [jsonPath, sizeBytes, rssHull, rssBwrap] = process.argv.slice(2);
const data = v.parse(Results, JSON.parse(await Bun.file(jsonPath as string).text()));
const ms = (s: number) => (s * 1000).toFixed(2);
const byName = new Map(data.results.map((r) => [r.command, r.median]));
const hull = byName.get("hull") as number;

const rows = data.results.map((r) => {
  const ratio = r.median / hull;
  return `| ${r.command.padEnd(25)} | ${ms(r.median).padStart(8)} | ${ms(r.mean).padStart(8)} | ${(ratio >= 1 ? `${ratio.toFixed(2)}x hull` : `${(1 / ratio).toFixed(2)}x faster than hull`).padStart(24)} |`;
});
console.log(
  `startup, ${new Date().toISOString().slice(0, 10)}, ${process.env.HOSTNAME ?? ""} (${navigator.hardwareConcurrency} cores)`,
);
console.log("| command                   | median ms |  mean ms | ratio                    |");
console.log("|---------------------------|----------:|---------:|-------------------------:|");
for (const r of rows) console.log(r);

const crunNet = (byName.get("crun (with wrapper)") ?? 0) - (byName.get("crun wrapper alone") ?? 0);
const bwrap = byName.get("bwrap") as number;
const podman = byName.get("podman --network=none") as number;
const single = byName.get("hull, single-id map") as number;
const bwrapAll = byName.get("bwrap, hull's namespaces") as number;
console.log("");
console.log(`crun without its wrapper: ~${ms(crunNet)} ms`);
const oci = byName.get("hull oci run (crun's bundle)");
const ociWrapped = byName.get("hull oci run (with wrapper)");
const crunWrapped = byName.get("crun (with wrapper)");
if (oci && ociWrapped && crunWrapped)
  console.log(
    `hull as the OCI runtime <= 1.5x crun: hull oci run / crun on crun's bundle = ${(ociWrapped / crunWrapped).toFixed(2)} (both in the wrapper); hull oci run alone ${ms(oci)} ms`,
  );
console.log(
  `target 1, hull <= 2x bwrap:        hull/bwrap = ${(hull / bwrap).toFixed(2)}; against bwrap with hull's namespaces: ${(hull / bwrapAll).toFixed(2)} (single-id map, as bwrap: ${(single / bwrap).toFixed(2)} and ${(single / bwrapAll).toFixed(2)})`,
);
console.log(`target 2, hull >= 20x podman:      podman/hull = ${(podman / hull).toFixed(1)}`);
const unconfined = byName.get("hull, seccomp=unconfined");
if (unconfined)
  console.log(
    `seccomp's cost: hull ${ms(hull)} ms, without a filter ${ms(unconfined)} ms (${ms(hull - unconfined)} ms)`,
  );
const own = byName.get("hull, own user namespace");
if (own)
  console.log(
    `the holder's user namespace (no newuidmap per run) saves ${ms(own - hull)} ms: ${ms(own)} ms with the container's own`,
  );
const network = byName.get("hull, default network");
/** The median of A's sample minus B's within each turn (ms): the host's drift between turns cancels. */
const paired = (a: string, b: string) => {
  const ta = data.results.find((r) => r.command === a)?.times ?? [];
  const tb = data.results.find((r) => r.command === b)?.times ?? [];
  const d = ta.map((t, i) => t - (tb[i] ?? Number.NaN)).sort((x, y) => x - y);
  return d.length > 0 ? ms(d[d.length >> 1] as number) : "?";
};
if (network)
  console.log(
    `the default network adds ${ms(network - hull)} ms to hull run --network none (median of the differences within a turn: ${paired("hull, default network", "hull")} ms)`,
  );
const script = byName.get("hull script");
const scriptLine = byName.get("hull run, the script's line");
if (script && scriptLine)
  console.log(
    `a sandbox script: ${ms(script)} ms, the hull run its header means: ${ms(scriptLine)} ms (${ms(script - scriptLine)} ms)`,
  );
console.log(
  `dist/hull: ${(Number(sizeBytes) / 1048576).toFixed(1)} MiB; peak RSS of hull run: ${rssHull} KiB (bwrap: ${rssBwrap} KiB)`,
);
