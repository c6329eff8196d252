// Flags docker has and hull does not (yet): refused by name with the reason, so a script written for
// docker learns what is missing instead of "unknown flag". Consulted only when a flag is unknown.

const LIMITS = "cgroup v2, the only cgroups hull uses, has no such setting (docker ignores it there with a warning)";
const NETWORK = "IPv6, link-local and fixed MAC addresses on user networks are not supported yet";
const NAMESPACES = "sharing another container's or the host's namespaces is not supported yet";
const DEVICES = "a rootless container cannot be given device cgroup rules or GPUs (--device binds a node you may open)";

const RUN: Record<string, string> = {
  "memory-swappiness": LIMITS,
  "kernel-memory": LIMITS,
  "oom-kill-disable": LIMITS,
  ip6: NETWORK,
  "mac-address": NETWORK,
  link: "--link is docker's legacy: put both containers on a user network (hull network create), where they reach each other by name",
  pid: NAMESPACES,
  uts: NAMESPACES,
  "health-start-interval": "--health-start-interval is not supported yet (--health-interval is used throughout)",
  gpus: DEVICES,
  "device-cgroup-rule": DEVICES,
  "detach-keys":
    "detaching from a foreground run -it is not supported: run -dit, then hull attach (ctrl-p ctrl-q leaves it)",
  runtime: "hull is its own runtime",
  isolation: "hull is its own runtime",
  "volume-driver": "volumes are local directories only",
  "storage-opt": "the writable layer has no size limit yet",
  "blkio-weight-device":
    "cgroup v2 weighs io per device only under the BFQ scheduler, which hull does not program: --blkio-weight (io.weight) applies to every device",
  "cpu-count": "--cpu-count is docker's on Windows only: give --cpus",
  "cpu-percent": "--cpu-percent is docker's on Windows only: give --cpus",
  "cpu-rt-period": "cgroup v2 has no real-time cpu budget (docker needs cgroup v1 for it)",
  "cpu-rt-runtime": "cgroup v2 has no real-time cpu budget (docker needs cgroup v1 for it)",
  "io-maxbandwidth": "--io-maxbandwidth is docker's on Windows only: give --device-read-bps/--device-write-bps",
  "io-maxiops": "--io-maxiops is docker's on Windows only: give --device-read-iops/--device-write-iops",
  "link-local-ip": NETWORK,
  "use-api-socket": "hull has no daemon, so there is no API socket to give the container",
};

const BUILD: Record<string, string> = {
  push: "give hull push after the build",
  "shm-size": "--shm-size is not supported yet",
  ulimit: "--ulimit is not supported yet",
  squash: "--squash is not supported: each step is a cached layer",
  ssh: "--ssh is not supported yet (use --secret)",
  allow: "buildkit entitlements are not supported",
  builder: "hull has one builder: itself",
  "build-context": "named build contexts are not supported yet",
  attest: "attestations are not supported",
  sbom: "attestations are not supported",
  provenance: "attestations are not supported",
};

const EXEC: Record<string, string> = {
  privileged: "exec runs with the container's own capabilities",
  "detach-keys": "detaching is not supported yet",
  detach: "exec -d is not supported yet",
  d: "exec -d is not supported yet",
  "env-file": "exec --env-file is not supported yet (give -e)",
};

const BY_COMMAND: Record<string, Record<string, string>> = {
  run: RUN,
  create: RUN,
  build: BUILD,
  exec: EXEC,
};

/** Why hull's COMMAND (its last word: "container run" is run) lacks docker's FLAG ("--memory", "-p"). */
export function dockerOnlyFlag(command: string, flag: string): string | undefined {
  const table = BY_COMMAND[command.split(" ").at(-1) ?? ""];
  const name = flag.replace(/^--?/, "");
  return table && Object.hasOwn(table, name) ? table[name] : undefined;
}
