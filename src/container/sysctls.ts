// docker's --sysctl KEY=VALUE: only the kernel settings a container's own namespaces scope, as docker
// allows them (IPC's kernel.msg*/sem/shm* and fs.mqueue.*, and net.* in a network namespace of the
// container's own); anything else would reach the host, which a rootless process may not change
// anyway. Written by the shim into /proc/sys before it turns read-only.

export interface Sysctl {
  /** the name as given, for messages */
  key: string;
  /** the path under /proc/sys */
  path: string;
  value: string;
}

const IPC = new Set([
  "kernel.msgmax",
  "kernel.msgmnb",
  "kernel.msgmni",
  "kernel.sem",
  "kernel.shmall",
  "kernel.shmmax",
  "kernel.shmmni",
  "kernel.shm_rmid_forced",
]);

/** SPECS for a container whose --network is of kind NET_KIND (src/network/mode.ts). */
export function parseSysctls(specs: string[], netKind: string): Sysctl[] {
  const where = netKind === "host" ? "host" : netKind === "container" ? "joined" : "own";
  return specs.map((s) => parseSysctl(s, where));
}

/** NETWORK: whose network namespace the container has (its own, the host's, or another container's) */
export function parseSysctl(spec: string, network: "own" | "host" | "joined"): Sysctl {
  const eq = spec.indexOf("=");
  if (eq <= 0) throw new Error(`--sysctl ${spec}: takes KEY=VALUE, as net.ipv4.ip_forward=1`);
  const key = spec.slice(0, eq);
  const value = spec.slice(eq + 1);
  // runc's rule: a key with slashes is a path already (an interface name may hold dots)
  const dotted = key.includes("/") ? key.replaceAll("/", ".") : key;
  const path = key.includes("/") ? key.replace(/^\/+/, "") : key.replaceAll(".", "/");
  if (!/^[A-Za-z0-9_.\-/@:]+$/.test(key) || path.split("/").some((p) => p === "" || p === "." || p === ".."))
    throw new Error(`--sysctl ${spec}: not a kernel setting's name`);
  if (/[\n\0]/.test(value)) throw new Error(`--sysctl ${key}: the value is one line`);
  if (dotted === "kernel.hostname" || dotted === "kernel.domainname")
    throw new Error(`--sysctl ${key}: give --hostname or --domainname`);
  if (dotted.startsWith("net.")) {
    if (network === "host")
      throw new Error(`--sysctl ${key}: not with --network host, where it would change the host's network`);
    if (network === "joined")
      throw new Error(`--sysctl ${key}: not with --network container:, where the network is another container's`);
    return { key, path, value };
  }
  if (IPC.has(dotted) || dotted.startsWith("fs.mqueue.")) return { key, path, value };
  throw new Error(
    `--sysctl ${key}: not a setting of the container's own namespaces (docker's: kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*, net.*), so it would change the host's`,
  );
}
