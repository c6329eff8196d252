// IPv4 subnets of user-defined networks: parsing, overlap, and a free /24 that clashes neither with
// another network nor with a route of the host (pasta copies the host's routes into a container,
// and a subnet the host reaches elsewhere would shadow part of it).
import { readFileText } from "../sys/libc";

export interface Subnet {
  /** the network address, as a 32-bit number */
  base: number;
  prefix: number;
}

export function ipToNumber(ip: string): number | undefined {
  const parts = ip.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

export function numberToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

const mask = (prefix: number) => (prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0);

/** "10.89.1.0/24"; the host part must be zero, and the prefix leave room for a gateway and peers. */
export function parseSubnet(text: string): Subnet {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(text);
  const ip = m ? ipToNumber(m[1] as string) : undefined;
  const prefix = m ? Number(m[2]) : -1;
  if (ip === undefined || prefix < 8 || prefix > 30)
    throw new Error(`--subnet takes an IPv4 network from /8 to /30 (10.89.5.0/24), not ${text}`);
  if ((ip & ~mask(prefix)) >>> 0 !== 0)
    throw new Error(`--subnet ${text} has host bits set: ${numberToIp((ip & mask(prefix)) >>> 0)}/${prefix}`);
  const s = { base: ip, prefix };
  // addresses that mean something else to every host: this host (0/8), loopback, link-local (the DNS
  // forwarder's 169.254.1.1 among them), multicast and the reserved rest
  for (const [r, why] of [
    ["0.0.0.0/8", "this host"],
    ["127.0.0.0/8", "loopback"],
    ["169.254.0.0/16", "link-local"],
    ["224.0.0.0/3", "multicast and reserved"],
  ] as const) {
    const [b, p] = r.split("/");
    if (overlaps(s, { base: ipToNumber(b as string) as number, prefix: Number(p) }))
      throw new Error(
        `--subnet ${text} overlaps ${r} (${why}): choose a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)`,
      );
  }
  return s;
}

export function formatSubnet(s: Subnet): string {
  return `${numberToIp(s.base)}/${s.prefix}`;
}

export function contains(s: Subnet, ip: number): boolean {
  return (ip & mask(s.prefix)) >>> 0 === s.base;
}

export function overlaps(a: Subnet, b: Subnet): boolean {
  const p = Math.min(a.prefix, b.prefix);
  return (a.base & mask(p)) >>> 0 === (b.base & mask(p)) >>> 0;
}

/** The addresses a container may get: the first to the last but one (the broadcast address). */
export function hostRange(s: Subnet): { first: number; last: number } {
  return { first: s.base + 1, last: s.base + 2 ** (32 - s.prefix) - 2 };
}

/** The host's IPv4 routes but the default one, from /proc/net/route (little-endian hex). */
export function hostRoutes(text = readFileText("/proc/net/route") ?? ""): Subnet[] {
  const swap = (hex: string) => {
    const n = Number.parseInt(hex, 16);
    return (((n & 255) << 24) | (((n >>> 8) & 255) << 16) | (((n >>> 16) & 255) << 8) | (n >>> 24)) >>> 0;
  };
  const out: Subnet[] = [];
  for (const line of text.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (!f[1] || !f[7] || f[1] === "00000000") continue;
    const m = swap(f[7]);
    let prefix = 0;
    while (prefix < 32 && (m & (0x80000000 >>> prefix)) !== 0) prefix++;
    out.push({ base: (swap(f[1]) & mask(prefix)) >>> 0, prefix });
  }
  return out;
}

/** The first 10.89.N.0/24 (N from 1, as podman numbers its networks) that TAKEN and the host leave free. */
export function freeSubnet(taken: Subnet[], routes: Subnet[] = hostRoutes()): Subnet {
  for (let n = 1; n < 256; n++) {
    const s = { base: ((10 << 24) | (89 << 16) | (n << 8)) >>> 0, prefix: 24 };
    if (![...taken, ...routes].some((t) => overlaps(s, t))) return s;
  }
  throw new Error("no free subnet in 10.89.0.0/16: remove a network, or give one with --subnet");
}
