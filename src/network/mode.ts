// What --network asks for, and the helper that provides it. docker's default is a private network
// with outbound access; rootless, pasta (Debian's passt) gives a namespace that: it copies the
// host's addresses and routes into it and carries its traffic through ordinary sockets of the user,
// and it publishes ports (-p) by listening on the host. Without pasta the default is --network none,
// said once per run; asking for pasta or -p without it is an error with the fix.
import { findProgram } from "../runtime/programs";
import { readFileText } from "../sys/libc";
import type { PortMapping } from "./publish";

export type NetworkMode =
  | { kind: "none" }
  | { kind: "host" }
  /** OPTIONS: pasta's own, from --network pasta:OPT,OPT (podman's form) */
  | { kind: "pasta"; program: string; options: string[] }
  /** a user-defined network (src/network/records.ts); PROGRAM: pasta for the way out, when present */
  | { kind: "user"; name: string; program?: string }
  /** --network container:NAME: the network namespace of that container */
  | { kind: "container"; target: string };

export const PASTA_INSTALL =
  "install pasta (Debian and Ubuntu: sudo apt-get install passt; Fedora: sudo dnf install passt)";

/** The --network FLAG (undefined: the default); WARN gets the one line of a fallback to none. */
export function parseNetwork(flag: string | undefined, warn: (line: string) => void): NetworkMode {
  const value = flag ?? "default";
  if (value === "none") return { kind: "none" };
  if (value === "host") return { kind: "host" };
  const [name, ...rest] = value.split(":");
  const options = rest.join(":") === "" ? [] : rest.join(":").split(",");
  if (name === "default" || name === "bridge" || name === "private" || name === "pasta") {
    const program = findProgram("pasta", true);
    if (program) return { kind: "pasta", program, options: name === "pasta" ? options : [] };
    if (flag === undefined) {
      warn(`hull: no pasta here, so the container has no network but lo (--network none): ${PASTA_INSTALL}`);
      return { kind: "none" };
    }
    throw new Error(`--network ${value} needs pasta: ${PASTA_INSTALL}, or use --network none`);
  }
  if (name === "slirp4netns")
    throw new Error(`--network slirp4netns is not supported: hull's private network is pasta's (${PASTA_INSTALL})`);
  if (name === "container") {
    const target = rest.join(":");
    if (!target) throw new Error("--network container: needs a container: --network container:NAME");
    return { kind: "container", target };
  }
  if (rest.length > 0) throw new Error(`--network ${value}: options are pasta's (pasta:OPTIONS), not a network's`);
  return { kind: "user", name: name as string, program: findProgram("pasta", true) || undefined };
}

/**
 * pasta's command line for a container, less the container's pid (the shim adds it): the network
 * set up inside (--config-net) with an eth0 as docker's, in the foreground as the shim's child,
 * its pid written to PIDFILE once the network is up. Only the published PORTS lead in, and nothing
 * leads from the container to the host's own listening ports (-T/-U none: pasta's default would
 * let a container reach every service on the host's loopback), nor through the gateway address
 * (--no-map-gw), unless REACH_HOST: the user named the host with --add-host NAME:host-gateway. A
 * database listening on the host's 127.0.0.1 trusts that only the host's own users reach it; rootless
 * docker keeps it so too (slirp4netns without allow_host_loopback).
 */
export function pastaCommand(
  mode: { program: string; options?: string[] },
  ports: PortMapping[],
  pidfile: string,
  reachHost: boolean,
) {
  const spec = (p: PortMapping) => `${p.hostIp ? `${p.hostIp}/` : ""}${p.hostPort}:${p.containerPort}`;
  const tcp = ports.filter((p) => p.proto === "tcp").flatMap((p) => ["-t", spec(p)]);
  const udp = ports.filter((p) => p.proto === "udp").flatMap((p) => ["-u", spec(p)]);
  return [
    mode.program,
    "--config-net",
    // --debug in OPTIONS replaces it (pasta takes one or the other)
    ...(["--debug", "-d", "--trace"].some((o) => mode.options?.includes(o)) ? [] : ["--quiet"]),
    "--foreground",
    "--pid",
    pidfile,
    "--ns-ifname",
    "eth0",
    ...(tcp.length > 0 ? tcp : ["-t", "none"]),
    ...(udp.length > 0 ? udp : ["-u", "none"]),
    "-T",
    "none",
    "-U",
    "none",
    ...(reachHost ? [] : ["--no-map-gw"]),
    ...(mode.options ?? []),
  ];
}

/** The host's default gateway (what a container under pasta reaches the host's loopback through). */
export function defaultGateway(): string | undefined {
  for (const line of (readFileText("/proc/net/route") ?? "").split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] !== "00000000" || !f[2]) continue;
    const hex = Number.parseInt(f[2], 16);
    return [hex & 255, (hex >>> 8) & 255, (hex >>> 16) & 255, hex >>> 24].join(".");
  }
  return undefined;
}
