// What --network asks for, and the helper that provides it. docker's default is a private network
// with outbound access; rootless, pasta (Debian's passt) gives a namespace that: it copies the
// host's addresses and routes into it and carries its traffic through ordinary sockets of the user,
// and it publishes ports (-p) by listening on the host. slirp4netns, where pasta is missing, does
// the same through a user-mode TCP/IP stack behind a NAT (10.0.2.0/24). Without either the default
// is --network none, said once per run; asking for a helper or -p without one is an error with the fix.
import { DNS_FORWARDER } from "../container/etc-files";
import { findProgram } from "../runtime/programs";
import { readFileText } from "../sys/libc";
import type { PortMapping } from "./publish";

/** The program that connects a container's own network namespace to the host's network. */
export interface Helper {
  kind: "pasta" | "slirp4netns";
  program: string;
  /** pasta's own options (--network pasta:OPT,OPT), or slirp4netns's in podman's KEY=VALUE form */
  options: string[];
}

export type NetworkMode =
  | { kind: "none" }
  | { kind: "host" }
  /** a network namespace of its own with outbound access through HELPER (docker's default); SHARED:
   * the default network as asked for (no helper named), which may go through the shared namespace */
  | { kind: "private"; helper: Helper; shared?: boolean }
  /** a user-defined network (src/network/records.ts); HELPER: the way out, when one is installed */
  | { kind: "user"; name: string; helper?: Helper }
  /** --network container:NAME: the network namespace of that container */
  | { kind: "container"; target: string };

export const PASTA_INSTALL =
  "install pasta (Debian and Ubuntu: sudo apt-get install passt; Fedora: sudo dnf install passt)";

/** The helper installed (on PATH), pasta first; undefined when neither is. */
export function findHelper(): Helper | undefined {
  const pasta = findProgram("pasta", true);
  if (pasta) return { kind: "pasta", program: pasta, options: [] };
  const slirp = findProgram("slirp4netns", true);
  if (slirp) return { kind: "slirp4netns", program: slirp, options: [] };
  return undefined;
}

/** podman's slirp4netns options that hull takes (port_handler is always slirp4netns's own) */
const SLIRP_OPTIONS =
  /^(allow_host_loopback=(true|false)|enable_ipv6=(true|false)|mtu=\d{3,5}|port_handler=slirp4netns)$/;

/** The --network FLAG (undefined: the default); WARN gets the one line of a fallback to none. */
export function parseNetwork(flag: string | undefined, warn: (line: string) => void): NetworkMode {
  const value = flag ?? "default";
  if (value === "none") return { kind: "none" };
  if (value === "host") return { kind: "host" };
  const [name, ...rest] = value.split(":");
  const options = rest.join(":") === "" ? [] : rest.join(":").split(",");
  if (name === "default" || name === "bridge" || name === "private") {
    const helper = findHelper();
    if (helper) return { kind: "private", helper, shared: true };
    if (flag === undefined) {
      warn(`hull: no pasta here, so the container has no network but lo (--network none): ${PASTA_INSTALL}`);
      return { kind: "none" };
    }
    throw new Error(`--network ${value} needs pasta: ${PASTA_INSTALL}, or use --network none`);
  }
  if (name === "pasta") {
    const program = findProgram("pasta", true);
    if (!program) throw new Error(`--network ${value} needs pasta: ${PASTA_INSTALL}, or use --network none`);
    return { kind: "private", helper: { kind: "pasta", program, options } };
  }
  if (name === "slirp4netns") {
    const program = findProgram("slirp4netns", true);
    if (!program)
      throw new Error(
        `--network ${value} needs slirp4netns (Debian and Ubuntu: sudo apt-get install slirp4netns), or use the default network`,
      );
    const bad = options.find((o) => !SLIRP_OPTIONS.test(o));
    if (bad)
      throw new Error(
        `--network slirp4netns:${bad} is not supported: allow_host_loopback=, enable_ipv6=, mtu= and port_handler=slirp4netns are`,
      );
    return { kind: "private", helper: { kind: "slirp4netns", program, options } };
  }
  if (name === "container") {
    const target = rest.join(":");
    if (!target) throw new Error("--network container: needs a container: --network container:NAME");
    return { kind: "container", target };
  }
  if (rest.length > 0) throw new Error(`--network ${value}: options are pasta's (pasta:OPTIONS), not a network's`);
  return { kind: "user", name: name as string, helper: findHelper() };
}

/** What the shim runs and waits for (src/runtime/message.ts: netHelper and the fields after it). */
export interface HelperCommand {
  /** the command; "{pid}" stands where the container's pid goes */
  argv: string[];
  /** pasta: ready once its pid file is written */
  pidfile?: string;
  /** slirp4netns: ready once it writes to fd 3; then each request goes to its API socket */
  readyFd?: boolean;
  apiSocket?: string;
  apiRequests?: string[];
}

/** The address a container's own network reaches the host by (--add-host NAME:host-gateway). */
export function hostGateway(helper: Helper): string | undefined {
  return helper.kind === "slirp4netns" ? "10.0.2.2" : defaultGateway();
}

/**
 * HELPER's command line for a container whose files are in DIR. Only the published PORTS lead in,
 * and nothing leads from the container to the host's own listening ports (pasta: -T/-U none and
 * --no-map-gw, as its default would let a container reach every service on the host's loopback;
 * slirp4netns: --disable-host-loopback), unless REACH_HOST: the user named the host with --add-host
 * NAME:host-gateway. A database listening on the host's 127.0.0.1 trusts that only the host's own
 * users reach it; rootless docker keeps it so too. DNS_FORWARD: the host's resolvers are on its
 * loopback, and pasta forwards DNS_FORWARDER to the first (slirp4netns always forwards 10.0.2.3).
 */
export function helperCommand(
  helper: Helper,
  ports: PortMapping[],
  dir: string,
  reachHost: boolean,
  dnsForward = false,
): HelperCommand {
  if (helper.kind === "pasta")
    return { argv: pastaArgv(helper, ports, `${dir}/net.pid`, reachHost, dnsForward), pidfile: `${dir}/net.pid` };
  const opt = (key: string) => helper.options.find((o) => o.startsWith(`${key}=`))?.slice(key.length + 1);
  const api = apiSocketPath(dir);
  return {
    argv: [
      helper.program,
      "--configure",
      `--mtu=${opt("mtu") ?? "65520"}`,
      "--ready-fd=3",
      ...(reachHost || opt("allow_host_loopback") === "true" ? [] : ["--disable-host-loopback"]),
      ...(opt("enable_ipv6") === "true" ? ["--enable-ipv6"] : []),
      "--api-socket",
      api,
      "{pid}",
      "eth0",
    ],
    readyFd: true,
    apiSocket: api,
    apiRequests: ports.map((p) =>
      JSON.stringify({
        execute: "add_hostfwd",
        arguments: {
          proto: p.proto,
          host_addr: p.hostIp || "0.0.0.0",
          host_port: p.hostPort,
          guest_port: p.containerPort,
        },
      }),
    ),
  };
}

/**
 * slirp4netns's API socket: in the container's directory DIR when the path fits a socket address
 * (108 bytes), else in the caller's private runtime directory (a store under a long home path does
 * not fit): never a name in /tmp that another user could have taken first.
 */
function apiSocketPath(dir: string): string {
  const inDir = `${dir}/net.sock`;
  if (inDir.length < 100) return inDir;
  const id = dir.slice(dir.lastIndexOf("/") + 1, dir.lastIndexOf("/") + 17);
  const { privateRuntimeDir } = require("../runtime/runtime-dir") as typeof import("../runtime/runtime-dir");
  const runtime = privateRuntimeDir().dir;
  if (runtime.length >= 60)
    throw new Error(
      `the slirp4netns socket fits neither under ${dir} nor under ${runtime}: a shorter --root or XDG_RUNTIME_DIR`,
    );
  return `${runtime}/hull-net-${id}.sock`;
}

/** pasta's: the network set up inside (--config-net) with an eth0 as docker's, in the foreground. */
function pastaArgv(helper: Helper, ports: PortMapping[], pidfile: string, reachHost: boolean, dnsForward: boolean) {
  const spec = (p: PortMapping) => `${p.hostIp ? `${p.hostIp}/` : ""}${p.hostPort}:${p.containerPort}`;
  const tcp = ports.filter((p) => p.proto === "tcp").flatMap((p) => ["-t", spec(p)]);
  const udp = ports.filter((p) => p.proto === "udp").flatMap((p) => ["-u", spec(p)]);
  // pasta refuses ports given beside "none": OPTIONS' own -t/-u/-T/-U replace hull's none, as podman's do
  const given = (short: string, long: string) =>
    helper.options.some((o) => o === long || o.startsWith(`${long}=`) || (o.startsWith(short) && !o.startsWith("--")));
  const none = (short: string, long: string, own: string[]) =>
    own.length > 0 ? own : given(short, long) ? [] : [short, "none"];
  return [
    helper.program,
    "--config-net",
    // --debug in OPTIONS replaces it (pasta takes one or the other)
    ...(["--debug", "-d", "--trace"].some((o) => helper.options.includes(o)) ? [] : ["--quiet"]),
    "--foreground",
    "--pid",
    pidfile,
    "--ns-ifname",
    "eth0",
    ...none("-t", "--tcp-ports", tcp),
    ...none("-u", "--udp-ports", udp),
    ...none("-T", "--tcp-ns", []),
    ...none("-U", "--udp-ns", []),
    ...(reachHost ? [] : ["--no-map-gw"]),
    ...(dnsForward ? ["--dns-forward", DNS_FORWARDER] : []),
    ...helper.options,
    "{pid}",
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
