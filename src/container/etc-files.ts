// The /etc/hostname, /etc/hosts and /etc/resolv.conf a container gets: files in its directory that
// the shim binds over the image's (plan.ts), for `hull run` and for a build's RUN alike.
import { join } from "../sys/path";
import { writeNewFile } from "../store/atomic";
import { readFileText } from "../sys/libc";

export interface EtcFiles {
  hostname: string;
  hosts: string;
  resolvConf: string;
}

function hostFile(path: string): string {
  try {
    return readFileText(path) ?? "";
  } catch {
    return "";
  }
}

/** docker's --dns, --dns-search, --dns-option and --add-host */
export interface NameOptions {
  dns?: string[];
  dnsSearch?: string[];
  dnsOption?: string[];
  addHost?: string[];
}

/**
 * --add-host HOST:IP lines; IP host-gateway is what GATEWAY says (the host, as the container reaches
 * it), and whether any line named it.
 */
function addedHosts(specs: string[], gateway: () => string | undefined): { lines: string; namesHost: boolean } {
  let namesHost = false;
  const lines = specs
    .map((spec) => {
      // HOST:IP, HOST=IP (docker 25's), and IPv6 after the first colon
      const sep = /^[^:=]+[:=]/.exec(spec)?.[0].length;
      const host = sep ? spec.slice(0, sep - 1) : "";
      let ip = sep ? spec.slice(sep) : "";
      if (ip === "host-gateway") {
        const gw = gateway();
        if (!gw)
          throw new Error(
            `--add-host ${spec}: the container has no way to the host (--network none, or no default route)`,
          );
        ip = gw;
        namesHost = true;
      }
      if (!/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(host) || !/^[\d.]+$|^\[?[0-9a-fA-F:]+\]?$/.test(ip))
        throw new Error(`--add-host takes HOST:IP (db:10.0.0.5, or host.docker.internal:host-gateway), not ${spec}`);
      return `${ip.replace(/^\[|\]$/g, "")}\t${host}\n`;
    })
    .join("");
  return { lines, namesHost };
}

/**
 * Where a container's own network sends DNS when the host's resolvers are all on the host's loopback
 * (systemd-resolved's 127.0.0.53, a dnsmasq): the container cannot reach those, so pasta forwards
 * what is sent to this address to the host's first resolver (podman's choice of address).
 */
export const DNS_FORWARDER = "169.254.1.1";

/** Are the nameservers of resolv.conf TEXT all on loopback (and is there one)? */
export function loopbackResolvers(text: string): boolean {
  const servers = text
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[0] === "nameserver" && f[1])
    .map((f) => f[1] as string);
  return servers.length > 0 && servers.every((ip) => /^127\./.test(ip) || ip === "::1");
}

/**
 * The host's resolv.conf with --dns, --dns-search and --dns-option in place of its own lines; with
 * the host's resolvers on loopback, FORWARDER (what the container's network helper forwards DNS
 * from) in their place.
 */
function resolvConf(o: NameOptions, forwarder: string | undefined, host = hostFile("/etc/resolv.conf")): string {
  if (forwarder && !o.dns?.length && loopbackResolvers(host))
    host = `${host
      .split("\n")
      .filter((l) => l.trim().split(/\s+/)[0] !== "nameserver")
      .join("\n")
      .trim()}\nnameserver ${forwarder}\n`.replace(/^\n/, "");
  if (!o.dns?.length && !o.dnsSearch?.length && !o.dnsOption?.length) return host;
  for (const ip of o.dns ?? [])
    if (!/^[\d.]+$|^[0-9a-fA-F:]+$/.test(ip)) throw new Error(`--dns takes an IP address, not ${ip}`);
  const keep = (key: string) => host.split("\n").filter((l) => l.trim().split(/\s+/)[0] === key);
  const lines = [
    ...(o.dns?.length ? o.dns.map((ip) => `nameserver ${ip}`) : keep("nameserver")),
    ...(o.dnsSearch?.length ? [`search ${o.dnsSearch.join(" ")}`] : keep("search")),
    ...(o.dnsOption?.length ? [`options ${o.dnsOption.join(" ")}`] : keep("options")),
  ];
  return `${lines.join("\n")}\n`;
}

/**
 * What NAMES add to /etc/hosts and make of resolv.conf, checked (before anything is made), and
 * whether they name the host (host-gateway): only then may the container reach it.
 */
export function nameFiles(
  names: NameOptions,
  gateway: () => string | undefined = () => undefined,
  /** where the container's network helper forwards DNS from (pasta: DNS_FORWARDER; slirp4netns: 10.0.2.3) */
  forwarder?: string,
  hostResolv?: string,
): { hostsTail: string; resolv: string; namesHost: boolean; dnsForward: boolean } {
  const added = addedHosts(names.addHost ?? [], gateway);
  const resolv = resolvConf(names, forwarder, hostResolv);
  return {
    hostsTail: added.lines,
    resolv,
    namesHost: added.namesHost,
    dnsForward: forwarder !== undefined && resolv.includes(`nameserver ${forwarder}\n`),
  };
}

/**
 * The container's own line of /etc/hosts: its address (127.0.1.1, Debian's, where it has none of its
 * own), its host name and its container name, as podman writes it.
 */
export function ownHostsLine(hostname: string, own: { name?: string; ip?: string }): string {
  const names = own.name && own.name !== hostname ? `${hostname} ${own.name}` : hostname;
  return `${own.ip ?? "127.0.1.1"}\t${names}`;
}

/**
 * Write them into DIR, which is new and private until the shim starts (plain writes suffice). With
 * the host's network the host's /etc/hosts; else localhost and HOSTNAME. resolv.conf is the host's,
 * or NAMES' (nameFiles); its --add-host lines end /etc/hosts.
 */
export function writeEtcFiles(
  dir: string,
  hostname: string,
  network: "none" | "host",
  names?: { hostsTail: string; resolv: string },
  /** the container's name, and its address where it has one of its own (the default network's) */
  own: { name?: string; ip?: string } = {},
): EtcFiles {
  const files = { hostname: join(dir, "hostname"), hosts: join(dir, "hosts"), resolvConf: join(dir, "resolv.conf") };
  writeNewFile(files.hostname, `${hostname}\n`);
  writeNewFile(
    files.hosts,
    (network === "host"
      ? hostFile("/etc/hosts")
      : `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n${ownHostsLine(hostname, own)}\n`) +
      (names?.hostsTail ?? ""),
  );
  writeNewFile(files.resolvConf, names?.resolv ?? hostFile("/etc/resolv.conf"));
  return files;
}
