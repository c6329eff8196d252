// The default network through the shared namespace: each container a veth on the bridge hull0
// (10.88.0.0/16) in the holder's namespace, whose one pasta and NAT take it out (ffi/netns.c,
// ffi/netlink.c). Starting a container then costs a veth, not a pasta of its own. Addresses are
// leases, networks/bridge/<ip> created exclusively (no lock, no scan of the records): a random pick
// in 65,000 addresses, removed with the container (by hull rm, or by the shim after --rm).
import { join } from "../sys/path";
import { DNS_FORWARDER } from "../container/etc-files";
import { holderMaps, networksDir } from "./holder-userns";
import type { UserNets } from "../runtime/message";
import { writeFileAtomic } from "../store/atomic";
import type { StorePaths } from "../store/paths";
import { SysError } from "../sys/error";
import { close, type Fd, mkdir, O_CREAT, O_EXCL, O_WRONLY, open, unlinkIfExists, writeAll } from "../sys/libc";
import { hostRoutes, overlaps, parseSubnet } from "./subnet";
import { vethName } from "./veth";

const SUBNET = "10.88.0.0/16";
const GATEWAY = "10.88.0.1";
/** for inspect: the default network's gateway and prefix length, as docker shows its bridge's */
export const BRIDGE_GATEWAY = GATEWAY;
export const BRIDGE_SUBNET = SUBNET;
export const BRIDGE_PREFIX = 16;
/** --network values that mean the default network (with a helper's options after a colon) */
export const DEFAULT_MODE = /^(bridge|default|private|pasta|slirp4netns)(:|$)/;

const leaseDir = (paths: StorePaths) => join(networksDir(paths), "bridge");
export const leasePath = (paths: StorePaths, ip: string) => join(leaseDir(paths), ip);

/** Can the shared bridge be had here: its subnet clashes with no route of the host's. */
export function sharedUsable(): boolean {
  const s = parseSubnet(SUBNET);
  return !hostRoutes().some((r) => overlaps(s, r));
}

/** A free address of hull0 for container ID, leased; undefined after 32 taken picks. */
export function leaseAddress(paths: StorePaths, id: string): string | undefined {
  mkdir(networksDir(paths), 0o700, true);
  mkdir(leaseDir(paths), 0o700, true);
  const pick = crypto.getRandomValues(new Uint8Array(64));
  for (let i = 0; i < 32; i++) {
    const a = pick[2 * i] as number;
    const b = ((pick[2 * i + 1] as number) % 253) + 2;
    const ip = `10.88.${a}.${b}`;
    let fd: Fd;
    try {
      fd = open(leasePath(paths, ip), O_WRONLY | O_CREAT | O_EXCL, 0o644);
    } catch (e) {
      if (e instanceof SysError && e.code === "EEXIST") continue;
      throw e;
    }
    writeAll(fd, new TextEncoder().encode(`${id}\n`));
    close(fd);
    return ip;
  }
  return undefined;
}

export function releaseAddress(paths: StorePaths, ip: string): void {
  unlinkIfExists(leasePath(paths, ip));
}

/** The attach line of the container's eth0 on hull0, its default route through the bridge. */
export function bridgeLine(veth: string, ip: string): string {
  return `hull0 ${GATEWAY}/16 ${veth} eth0 ${ip}/16 ${GATEWAY}`;
}

/**
 * What the shim needs to put container ID (files in DIR, maps in host ids MAPS) on hull0 at IP, and
 * its links file, as attach.ts's userNets and writeLinks make them for a container on no user
 * network: here without loading the user networks' modules, on the path of every default `hull run`.
 */
export function bridgeNets(
  paths: StorePaths,
  id: string,
  dir: string,
  ip: string,
  maps: { uidMap: string; gidMap: string },
): UserNets {
  const line = bridgeLine(vethName(id, "hull0"), ip);
  const file = join(dir, "links");
  writeFileAtomic(file, `${line}\n`, 0o644, false);
  return { ...holderMaps(paths, maps), attach: [line], file };
}

/** The shared namespace's own pasta: no ports in, nothing to the host's loopback, DNS forwarded. */
export function holderHelperArgv(pasta: string, paths: StorePaths): string[] {
  return [
    pasta,
    "--config-net",
    "--quiet",
    "--pid",
    join(networksDir(paths), "holder.pasta.pid"),
    "--ns-ifname",
    "eth0",
    "-t",
    "none",
    "-u",
    "none",
    "-T",
    "none",
    "-U",
    "none",
    "--no-map-gw",
    "--dns-forward",
    DNS_FORWARDER,
    "{pid}",
  ];
}
