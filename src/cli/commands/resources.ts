// `hull stats` and `hull update`: what running containers use, and their limits changed in place.
import type { ArgsDef } from "citty";
import { storePaths, storeRoot } from "../../store/paths";
import { isatty } from "../../sys/libc";
import { flag, last, parseInterspersed } from "../argv";
import { type LimitFlag, limitArgs, limitsGiven } from "../limit-flags";
import type { HullCommand } from "../command";
import { eachName } from "../each";
import { print } from "../output";
import { format, rootArg, table } from "./image-common";
import { renderListing } from "../listing";

const STATS_HEADERS = {
  Container: "CONTAINER",
  ID: "CONTAINER ID",
  Name: "NAME",
  CPUPerc: "CPU %",
  MemUsage: "MEM USAGE / LIMIT",
  MemPerc: "MEM %",
  NetIO: "NET I/O",
  BlockIO: "BLOCK I/O",
  PIDs: "PIDS",
};

const paths = (root: string | undefined) => storePaths(storeRoot(root));

/** docker's MEM USAGE / LIMIT: binary units, four significant digits ("1.797MiB", "200MiB") */
function mib(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number(v.toPrecision(4))}${units[i]}`;
}

const statsArgs = {
  "no-stream": { type: "boolean", description: "One reading, then exit (default: a new one every second)" },
  format: { type: "string", description: "table, json, a Go template ({{.CPUPerc}}), or table TEMPLATE" },
  all: { type: "boolean", alias: "a", description: "Accepted as docker's: stopped containers have nothing to show" },
  "no-trunc": { type: "boolean", description: "Full container ids" },
  ...rootArg,
} as const satisfies ArgsDef;

export const stats: HullCommand = {
  meta: {
    name: "stats",
    description:
      "CPU, memory, pids and I/O of running containers: hull stats [--no-stream] [--format json] [CONTAINER...]",
  },
  args: statsArgs,
  ownArgs: true,
  async run({ rawArgs }) {
    const p = parseInterspersed(rawArgs, statsArgs, "stats", true);
    const fmt = last(p, "format");
    // a bad template fails now, not at the first reading
    renderListing(fmt, [], STATS_HEADERS, () => "");
    const { containerStats } = await import("../../container/stats");
    const store = paths(last(p, "root"));
    const id = (full: string) => (flag(p, "no-trunc") ? full : full.slice(0, 12));
    const show = async () => {
      const rows = await containerStats(store, p.positionals, flag(p, "no-stream") ? 500 : 1000);
      const cells = rows.map((r) => ({
        ID: id(r.id),
        Name: r.name,
        CPUPerc: `${r.cpuPercent.toFixed(2)}%`,
        MemUsage: `${mib(r.memory)} / ${mib(r.limit)}`,
        MemPerc: `${r.limit > 0 ? ((r.memory / r.limit) * 100).toFixed(2) : "0.00"}%`,
        NetIO: `${format.human(r.rx)} / ${format.human(r.tx)}`,
        BlockIO: `${format.human(r.read)} / ${format.human(r.written)}`,
        PIDs: String(r.pids),
      }));
      return renderListing(
        fmt,
        cells.map((c) => ({ ...c, Container: c.Name || c.ID })),
        STATS_HEADERS,
        () =>
          table([
            ["CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS"],
            ...cells.map((c) => [c.ID, c.Name, c.CPUPerc, c.MemUsage, c.MemPerc, c.NetIO, c.BlockIO, c.PIDs]),
          ]),
      );
    };
    if (flag(p, "no-stream")) {
      const text = await show();
      if (text) print(text);
      return;
    }
    // streaming: the screen redrawn on a terminal, one table after another elsewhere, until Ctrl-C
    for (;;) {
      const text = await show();
      print(isatty(1) ? `\x1b[2J\x1b[H${text}` : text);
    }
  },
};

/** docker update's limit flags (not the device ones) */
const UPDATE_FLAGS = [
  "memory",
  "memory-swap",
  "memory-reservation",
  "cpus",
  "cpu-quota",
  "cpu-period",
  "cpu-shares",
  "cpuset-cpus",
  "cpuset-mems",
  "pids-limit",
  "blkio-weight",
] as const satisfies readonly LimitFlag[];

const updateArgs = {
  ...limitArgs(UPDATE_FLAGS),
  ...rootArg,
} as const satisfies ArgsDef;

export const update: HullCommand = {
  meta: {
    name: "update",
    description:
      "Change the limits of containers: hull update [--memory M] [--cpus N] [--pids-limit N] ... CONTAINER... (a running one at once, a stopped one from its next start)",
  },
  args: updateArgs,
  ownArgs: true,
  async run({ rawArgs }) {
    const p = parseInterspersed(rawArgs, updateArgs, "update", true);
    if (p.positionals.length === 0)
      throw new Error("hull update needs a container: hull update [OPTIONS] CONTAINER...");
    const flags = limitsGiven(p, UPDATE_FLAGS);
    if (Object.keys(flags).length === 0)
      throw new Error("hull update needs a limit to change: --memory, --cpus, --pids-limit...");
    const { updateLimits } = await import("../../container/update");
    const store = paths(last(p, "root"));
    await eachName(p.positionals, async (k) => {
      await updateLimits(store, k, flags);
      print(k);
    });
  },
};
