// docker's resource flags, as run, create, update and build take them: one table, so a flag means
// the same wherever it is given.
import type { ArgsDef } from "citty";
import type { ParsedCommandLine } from "./argv";
import { all } from "./argv";

/** flag name -> the key src/runtime/cgroup.ts's parseLimits reads */
const KEYS = {
  memory: "memory",
  "memory-swap": "memorySwap",
  "memory-reservation": "memoryReservation",
  cpus: "cpus",
  "cpu-quota": "cpuQuota",
  "cpu-period": "cpuPeriod",
  "cpu-shares": "cpuShares",
  "cpuset-cpus": "cpusetCpus",
  "cpuset-mems": "cpusetMems",
  "pids-limit": "pidsLimit",
  "blkio-weight": "blkioWeight",
  "device-read-bps": "deviceReadBps",
  "device-write-bps": "deviceWriteBps",
  "device-read-iops": "deviceReadIops",
  "device-write-iops": "deviceWriteIops",
  "cgroup-conf": "cgroupConf",
} as const;

/** flags given more than once add up (the others: the last wins, as docker's do) */
const REPEATED = new Set<string>([
  "device-read-bps",
  "device-write-bps",
  "device-read-iops",
  "device-write-iops",
  "cgroup-conf",
]);

export type LimitFlag = keyof typeof KEYS;

/** The limits P gives among FLAGS, as parseLimits takes them; the device flags repeat, one a line. */
export function limitsGiven(p: ParsedCommandLine, flags: readonly LimitFlag[] = Object.keys(KEYS) as LimitFlag[]) {
  const out: Record<string, string> = {};
  for (const flag of flags) {
    const values = all(p, flag);
    if (values.length === 0) continue;
    out[KEYS[flag]] = REPEATED.has(flag) ? values.join("\n") : (values.at(-1) as string);
  }
  return out;
}

/** The flags' table entries (help text and aliases), for the commands to spread or pick from. */
export const LIMIT_ARGS = {
  memory: {
    type: "string",
    alias: "m",
    description: "Memory limit (64m, 1g): needs a delegated cgroup v2 subtree (hull doctor)",
  },
  "memory-swap": { type: "string", description: "Memory plus swap limit, or -1 for unlimited swap" },
  "memory-reservation": { type: "string", description: "Memory soft limit (cgroup v2 memory.low)" },
  cpus: { type: "string", description: "CPUs the container may use (1.5)" },
  "cpu-quota": { type: "string", description: "CPU time per --cpu-period, in microseconds" },
  "cpu-period": { type: "string", description: "The period of --cpu-quota, in microseconds (default 100000)" },
  "cpu-shares": { type: "string", alias: "c", description: "Relative CPU weight (docker's 2-262144, default 1024)" },
  "cpuset-cpus": { type: "string", description: "CPUs the container may run on (0-3,5)" },
  "cpuset-mems": { type: "string", description: "Memory nodes the container may use (0,1)" },
  "pids-limit": { type: "string", description: "Most processes at once (-1: no limit)" },
  "blkio-weight": { type: "string", description: "Relative block I/O weight (10-1000)" },
  "device-read-bps": { type: "string", description: "Read rate limit of a device: /dev/sda:1mb (repeatable)" },
  "device-write-bps": { type: "string", description: "Write rate limit of a device: /dev/sda:1mb (repeatable)" },
  "device-read-iops": {
    type: "string",
    description: "Read operations per second of a device: /dev/sda:100 (repeatable)",
  },
  "device-write-iops": {
    type: "string",
    description: "Write operations per second of a device: /dev/sda:100 (repeatable)",
  },
  "cgroup-conf": {
    type: "string",
    description: "A cgroup file of the container's, podman's: memory.high=200m (repeatable)",
  },
} as const satisfies ArgsDef;

/** LIMIT_ARGS's entries for FLAGS only (update and build take fewer than run). */
export function limitArgs<F extends LimitFlag>(flags: readonly F[]): Pick<typeof LIMIT_ARGS, F> {
  return Object.fromEntries(flags.map((f) => [f, LIMIT_ARGS[f]])) as Pick<typeof LIMIT_ARGS, F>;
}
