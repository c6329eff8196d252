// docker's -p/--publish and -P: which host ports lead to which of the container's, checked before
// anything is made, so a port in use or one the kernel keeps for root is one line and exit 125,
// never a container that started and then failed.
import { probeUdpBind, readFileText } from "../sys/libc";

export interface PortMapping {
  /** "" for every address of the host */
  hostIp: string;
  hostPort: number;
  containerPort: number;
  proto: "tcp" | "udp";
  /** `-p 8000-8009:80`: the host ports to choose from (docker takes the first free one); parse only */
  hostRange?: [number, number];
}

function port(text: string, spec: string): number {
  const n = Number(text);
  if (!/^\d{1,5}$/.test(text) || n < 1 || n > 65535)
    throw new Error(`-p ${spec}: ${text || "an empty port"} is not a port (1-65535)`);
  return n;
}

/** "80" or "80-90": the first and last port */
function range(text: string, spec: string): [number, number] {
  const [a, b] = text.split("-") as [string, string | undefined];
  const first = port(a, spec);
  const last = b === undefined ? first : port(b, spec);
  if (last < first) throw new Error(`-p ${spec}: the range ${text} runs backwards`);
  return [first, last];
}

/**
 * One -p value, docker's `[IP:][HOST_PORT:]CONTAINER_PORT[/PROTO]` with ranges (8000-8009:80-89)
 * and IPv6 in brackets ([::1]:8080:80): a mapping per port; hostPort 0 where the host port is left
 * to hull (`-p 80`, `-p 127.0.0.1::80`).
 */
export function parsePublish(spec: string): PortMapping[] {
  const slash = spec.lastIndexOf("/");
  const proto = slash >= 0 ? spec.slice(slash + 1).toLowerCase() : "tcp";
  if (proto !== "tcp" && proto !== "udp") throw new Error(`-p ${spec}: the protocol is tcp or udp, not ${proto}`);
  let rest = slash >= 0 ? spec.slice(0, slash) : spec;
  let hostIp = "";
  if (rest.startsWith("[")) {
    const end = rest.indexOf("]:");
    if (end < 0) throw new Error(`-p ${spec}: an IPv6 address is written [ADDRESS]:HOST_PORT:CONTAINER_PORT`);
    hostIp = rest.slice(1, end);
    rest = rest.slice(end + 2);
    if (!rest.includes(":")) rest = `:${rest}`;
  }
  const parts = rest.split(":");
  if (parts.length > 3) throw new Error(`-p ${spec}: takes [IP:][HOST_PORT:]CONTAINER_PORT[/tcp|udp]`);
  if (parts.length === 3) hostIp = parts.shift() as string;
  const [hostText, ctrText] = parts.length === 2 ? (parts as [string, string]) : ["", parts[0] as string];
  if (hostIp && !addressBytes(hostIp)) throw new Error(`-p ${spec}: ${hostIp} is not an IP address`);
  const [c0, c1] = range(ctrText, spec);
  if (hostText === "") {
    const out: PortMapping[] = [];
    for (let c = c0; c <= c1; c++) out.push({ hostIp, hostPort: 0, containerPort: c, proto });
    return out;
  }
  const [h0, h1] = range(hostText, spec);
  if (c0 === c1 && h1 > h0) return [{ hostIp, hostPort: h0, containerPort: c0, proto, hostRange: [h0, h1] }];
  if (h1 - h0 !== c1 - c0) throw new Error(`-p ${spec}: the host range and the container range differ in length`);
  const out: PortMapping[] = [];
  for (let c = c0; c <= c1; c++) out.push({ hostIp, hostPort: h0 + (c - c0), containerPort: c, proto });
  return out;
}

/** The lowest port the kernel lets an unprivileged process bind. */
function unprivilegedPortStart(): number {
  const n = Number((readFileText("/proc/sys/net/ipv4/ip_unprivileged_port_start") ?? "1024").trim());
  return Number.isFinite(n) ? n : 1024;
}

/** A TCP listener on HOST_IP:PORT, opened and closed: throws the kernel's refusal. 0: any free port. */
function probeTcp(hostIp: string, port: number): number {
  const server = Bun.listen({ hostname: hostIp || "0.0.0.0", port, socket: { data() {} } });
  const got = server.port;
  server.stop(true);
  return got;
}

/**
 * `hull start`: the ports its record publishes, free again? Taken since (by a host process or
 * another container), that is one line naming the port before anything starts, as at `run`.
 */
export function checkPortsFree(ports: PortMapping[]): void {
  for (const m of ports) {
    try {
      probePort(m, m.hostPort);
    } catch (e) {
      if (!inUse(e)) continue; // the helper's own bind then says what is wrong
      throw new Error(
        `host port ${m.hostIp ? `${m.hostIp.includes(":") ? `[${m.hostIp}]` : m.hostIp}:` : ""}${m.hostPort}/${m.proto}, which it publishes, is in use: stop what listens there (hull ps shows the containers that publish it)`,
      );
    }
  }
}

/**
 * M's host port PORT (0: any free one) bound and let go, as its helper will bind it: the port, or
 * the kernel's refusal thrown. UDP without SO_REUSEADDR (probeUdpBind).
 */
function probePort(m: PortMapping, port: number): number {
  const got = m.proto === "tcp" || port === 0 ? probeTcp(m.hostIp, port) : port;
  const address = m.proto === "udp" ? addressBytes(m.hostIp) : undefined;
  if (address) probeUdpBind(address, got);
  return got;
}

/** E says the port is taken */
const errorCode = (e: unknown) => (e as { code?: string }).code ?? (e as Error).message;
const inUse = (e: unknown) => /EADDRINUSE|in use/i.test(errorCode(e));

/** An IPv4 or IPv6 address in network order ("" is IPv4's any), for a bind; undefined if neither. */
export function addressBytes(ip: string): Uint8Array | undefined {
  // each part as Go's netip writes it: no leading zero (pasta refuses 127.0.0.01 later)
  if (ip === "" || /^(0|[1-9]\d{0,2})(\.(0|[1-9]\d{0,2})){3}$/.test(ip)) {
    const parts = (ip || "0.0.0.0").split(".").map(Number);
    return parts.every((n) => n <= 255) ? Uint8Array.from(parts) : undefined;
  }
  const bare = ip.replace(/^\[|\]$/g, "");
  const halves = bare.split("::");
  if (halves.length > 2) return undefined;
  const groups = (s: string) => (s === "" ? [] : s.split(":"));
  const head = groups(halves[0] as string);
  const tail = halves.length === 2 ? groups(halves[1] as string) : [];
  const fill = 8 - head.length - tail.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return undefined;
  const all = [...head, ...Array(halves.length === 2 ? fill : 0).fill("0"), ...tail];
  if (!all.every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return undefined;
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    const n = Number.parseInt(g, 16);
    out[2 * i] = n >> 8;
    out[2 * i + 1] = n & 255;
  });
  return out;
}

/**
 * MAPPINGS with their host ports chosen (a free port where 0) and checked: a privileged port and a
 * port in use (TCP or UDP) are refused with the fix. What is checked here can still be taken before the
 * helper binds it; the helper's own refusal is then the error.
 */
export function assignPorts(mappings: PortMapping[]): PortMapping[] {
  const start = unprivilegedPortStart();
  const seen = new Set<string>();
  // the ports named outright, on any address: a range's pick leaves them to their own mapping
  const named = new Set(
    mappings.filter((m) => !m.hostRange && m.hostPort !== 0).map((m) => `${m.hostPort}/${m.proto}`),
  );
  return mappings.map((m) => {
    const ip = m.hostIp ? `${m.hostIp.includes(":") ? `[${m.hostIp}]` : m.hostIp}:` : "";
    const where = `${ip}${m.hostPort}`;
    const udp = m.proto === "udp" ? "/udp" : "";
    if (m.hostPort !== 0 && m.hostPort < start)
      throw new Error(
        `-p ${where}:${m.containerPort}${udp}: host port ${m.hostPort} is below ${start}, where the kernel lets only root bind: publish on a higher port (-p ${ip}${8000 + m.hostPort}:${m.containerPort}${udp}), or allow it with sudo sysctl net.ipv4.ip_unprivileged_port_start=${m.hostPort}`,
      );
    const [first, last] = m.hostRange ?? [m.hostPort, m.hostPort];
    for (let candidate = first; ; candidate++) {
      // a port of the range another mapping of this run has taken is not free either
      if (m.hostRange && (named.has(`${candidate}/${m.proto}`) || seen.has(`${m.hostIp}/${candidate}/${m.proto}`))) {
        if (candidate < last) continue;
        throw new Error(
          `-p ${ip}${first}-${last}:${m.containerPort}${udp}: every host port of ${first}-${last} is in use or published by another -p: publish on another range`,
        );
      }
      let hostPort: number;
      try {
        hostPort = probePort(m, candidate);
      } catch (e) {
        const taken = inUse(e);
        if (taken && candidate < last) continue;
        if (taken && m.hostRange)
          throw new Error(
            `-p ${ip}${first}-${last}:${m.containerPort}${udp}: every host port of ${first}-${last} is in use: publish on another range`,
          );
        if (taken)
          throw new Error(
            `-p ${where}:${m.containerPort}${udp}: host port ${m.hostPort} is in use: stop what listens there, or publish on another port`,
          );
        throw new Error(
          `-p ${where}:${m.containerPort}${udp}: cannot listen on ${m.hostIp || "the host"}: ${errorCode(e)}`,
        );
      }
      const key = `${m.hostIp}/${hostPort}/${m.proto}`;
      if (seen.has(key)) throw new Error(`-p: host port ${hostPort}/${m.proto} is published twice`);
      seen.add(key);
      const { hostRange: _, ...chosen } = m;
      return { ...chosen, hostPort };
    }
  });
}

/** An EXPOSE or --expose value ("80", "53/udp", "7000-7002") as ExposedPorts' keys ("80/tcp"). */
export function exposedKeys(spec: string, flag = "--expose"): string[] {
  if (spec.includes(":")) throw new Error(`${flag} ${spec}: takes PORT[-PORT][/tcp|udp], with no host part`);
  try {
    return parsePublish(spec).map((m) => `${m.containerPort}/${m.proto}`);
  } catch (e) {
    throw new Error((e as Error).message.replace(/^-p /, `${flag} `));
  }
}

/**
 * docker's PORTS column: "0.0.0.0:8080->80/tcp, 127.0.0.1:5353->53/udp", then the EXPOSED ports
 * ("80/tcp" keys) that nothing publishes, bare ("9000/tcp").
 */
export function describePorts(ports: PortMapping[], exposed: string[] = []): string {
  const published = new Set(ports.map((p) => `${p.containerPort}/${p.proto}`));
  return [
    ...ports.map((p) => `${p.hostIp || "0.0.0.0"}:${p.hostPort}->${p.containerPort}/${p.proto}`),
    ...exposed.filter((k) => !published.has(k)),
  ].join(", ");
}
