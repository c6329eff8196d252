// Containers on user-defined networks: the address each gets, the links the shim makes for it
// (a veth on the network's bridge in the shared namespace, ffi/netns.c), and /etc/hosts files that
// name every peer. The hosts files are rewritten in place (the container sees its bind mount of the
// file, which a rename would leave behind) whenever a container joins or leaves a network, under
// the networks lock, so a peer's name resolves from the moment `hull run` or `network connect`
// returns and is gone when `hull rm` or `network disconnect` does.
import { join } from "../sys/path";
import { containerDir, type ContainerRecord, containerState, listContainers } from "../container/records";
import { ownHostsLine } from "../container/etc-files";
import { holderMaps, networksDir } from "./holder-userns";
import { mkdir, unlinkIfExists } from "../sys/libc";
import { writeFileAtomic } from "../store/atomic";
import type { UserNets } from "../runtime/message";
import type { StorePaths } from "../store/paths";
import { bridgeName, type NetworkRecord, pickAddress, readNetwork } from "./records";
import { bridgeLine, DEFAULT_MODE } from "./bridge";
import { parseSubnet } from "./subnet";
import { vethName } from "./veth";

export interface Endpoint {
  ip: string;
  aliases: string[];
  /** the interface inside the container (eth0 is pasta's) */
  ifname: string;
  networkId: string;
}

export { vethName };

/** Each network's taken addresses, from the records of ALL containers. */
export function takenAddresses(all: ContainerRecord[]): Map<string, Set<string>> {
  const taken = new Map<string, Set<string>>();
  for (const c of all)
    for (const [name, e] of Object.entries(c.networks ?? {})) {
      if (!taken.has(name)) taken.set(name, new Set());
      taken.get(name)?.add(e.ip);
    }
  return taken;
}

/**
 * An endpoint on N for a container whose endpoints are HAS (call under the networks lock, and write
 * the record before it is released). IP: --ip; ALIASES: --network-alias.
 */
export function newEndpoint(
  all: ContainerRecord[],
  n: NetworkRecord,
  has: Record<string, Endpoint>,
  o: { ip?: string; aliases?: string[] },
): Endpoint {
  const used = new Set(Object.values(has).map((e) => e.ifname));
  let i = 1;
  while (used.has(`eth${i}`)) i++;
  for (const a of o.aliases ?? [])
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(a))
      throw new Error(`--network-alias ${JSON.stringify(a)} is not a host name (letters, digits, '.', '_', '-')`);
  return {
    ip: pickAddress(n, takenAddresses(all).get(n.name) ?? new Set(), o.ip),
    aliases: o.aliases ?? [],
    ifname: `eth${i}`,
    networkId: n.id,
  };
}

/** The attach line of one endpoint, as ffi/netns.c reads it. */
function attachLine(containerId: string, n: NetworkRecord, e: Endpoint, route = false): string {
  const prefix = parseSubnet(n.subnet).prefix;
  const line = `${bridgeName(n)} ${n.gateway}/${prefix} ${vethName(containerId, n.id)} ${e.ifname} ${e.ip}/${prefix}`;
  return route ? `${line} ${n.gateway}` : line;
}

/**
 * The user network whose gateway carries C's default route: with no helper of its own (sharedOut),
 * and not on the default network's bridge, the first of its networks that is not --internal.
 */
export function routeNetwork(paths: StorePaths, c: ContainerRecord): string | undefined {
  if (!c.sharedOut || c.bridgeIp) return undefined;
  return Object.keys(c.networks ?? {}).find((name) => readNetwork(paths, name)?.internal === false);
}

/** The networks of ENDPOINTS that still exist as they were: a network removed since is refused. */
function networksOf(paths: StorePaths, endpoints: Record<string, Endpoint>): [NetworkRecord, Endpoint][] {
  return Object.entries(endpoints).map(([name, e]) => {
    const n = readNetwork(paths, name);
    if (!n || n.id !== e.networkId)
      throw new Error(`network ${name} is gone: hull network disconnect ${name} <container>, then start it`);
    return [n, e];
  });
}

/**
 * What the shim needs to put container ID (whose maps, in host ids, are UIDMAP and GIDMAP) on
 * ENDPOINTS; undefined when it is on none. The holder has the default map, which covers every id
 * a container's map (default or keep-id) names.
 */
export function userNets(
  paths: StorePaths,
  id: string,
  endpoints: Record<string, Endpoint> | undefined,
  maps: { uidMap: string; gidMap: string },
  /** its address on the default network's shared bridge (src/network/bridge.ts) */
  bridgeIp?: string,
  /** the network whose gateway carries its default route (routeNetwork) */
  routeVia?: string,
): UserNets | undefined {
  if ((!endpoints || Object.keys(endpoints).length === 0) && !bridgeIp) return undefined;
  return {
    ...holderMaps(paths, maps),
    attach: [
      ...(bridgeIp ? [bridgeLine(vethName(id, "hull0"), bridgeIp)] : []),
      ...networksOf(paths, endpoints ?? {}).map(([n, e]) => attachLine(id, n, e, n.name === routeVia)),
    ],
    file: linksFile(paths, id),
  };
}

/** The file the shim reads the container's links from before every run (ffi/netns.c). */
export const linksFile = (paths: StorePaths, id: string) => join(containerDir(paths, id), "links");

/**
 * May container C go out (a helper for its own eth0)? On the default network always; started on a
 * user network, while one of its networks is not --internal. Networks gone count as internal.
 */
export function wantsOutbound(paths: StorePaths, c: ContainerRecord): boolean {
  const mode = c.networkMode ?? "bridge";
  const builtin = DEFAULT_MODE.test(mode);
  if (builtin) return true;
  return Object.keys(c.networks ?? {}).some((name) => readNetwork(paths, name)?.internal === false);
}

/**
 * Write C's links file as its record has them now (call under the networks lock): a restart of a
 * running container makes exactly these. Networks removed since are left out.
 */
export function writeLinks(paths: StorePaths, c: ContainerRecord): void {
  const lines: string[] = c.bridgeIp ? [bridgeLine(vethName(c.id, "hull0"), c.bridgeIp)] : [];
  const route = routeNetwork(paths, c);
  for (const [name, e] of Object.entries(c.networks ?? {})) {
    const n = readNetwork(paths, name);
    if (n && n.id === e.networkId) lines.push(attachLine(c.id, n, e, name === route));
  }
  if (!wantsOutbound(paths, c)) lines.push("outbound no");
  writeFileAtomic(linksFile(paths, c.id), lines.length > 0 ? `${lines.join("\n")}\n` : "", 0o644, false);
}

/** /etc/hosts of container C: localhost, its own name at its first address, every peer, --add-host. */
function hostsText(
  c: ContainerRecord,
  peers: Map<string, { id: string; ip: string; names: string[] }[]>,
  /** the peers named: those running (C names itself whatever its state) */
  running: ReadonlySet<string>,
): string {
  const hostname = c.hostname ?? c.id.slice(0, 12);
  const lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback"];
  if (Object.keys(c.networks ?? {}).length === 0) lines.push(ownHostsLine(hostname, { name: c.name, ip: c.bridgeIp }));
  const seen = new Set<string>();
  for (const name of Object.keys(c.networks ?? {}))
    for (const p of peers.get(name) ?? []) {
      if (p.id !== c.id && !running.has(p.id)) continue;
      // its own lines carry its host name too
      const names = p.id === c.id && !p.names.includes(hostname) ? [hostname, ...p.names] : p.names;
      const line = `${p.ip}\t${names.join(" ")}`;
      if (!seen.has(line)) lines.push(line);
      seen.add(line);
    }
  return `${lines.join("\n")}\n${c.hostsTail ?? ""}`;
}

/** `hull __peers`, which the shim runs as a container on a user network ends or restarts: every network's hosts again. */
export async function refreshAllPeers(paths: StorePaths): Promise<void> {
  const { withNetworksLock } = await import("./records");
  // Coalesced: many containers ending at once (a crash loop on a network) each start one of these.
  // The mark says "a change since the last refresh"; whoever holds the lock next and finds it
  // removes it and refreshes, seeing every change made before the mark; the others find it gone.
  mkdir(networksDir(paths), 0o700, true);
  const pending = join(networksDir(paths), "peers.pending");
  writeFileAtomic(pending, "", 0o600, false);
  await withNetworksLock(paths, () => {
    if (!unlinkIfExists(pending)) return;
    const nets = new Set(listContainers(paths).flatMap((c) => Object.keys(c.networks ?? {})));
    refreshHosts(paths, [...nets]);
  });
}

/**
 * Rewrite /etc/hosts of every container on NETWORKS (call under the networks lock): in place, so
 * the running containers see it. A container's peers are named by name, --network-alias and short id.
 */
export function refreshHosts(paths: StorePaths, networks: string[], alsoIds: string[] = []): void {
  if (networks.length === 0 && alsoIds.length === 0) return;
  const { openSync, writeSync, ftruncateSync, closeSync } = require("node:fs") as typeof import("node:fs");
  const all = listContainers(paths);
  const peers = new Map<string, { id: string; ip: string; names: string[] }[]>();
  // as docker's resolver: a peer is named while it runs (a created or stopped one is not), and a
  // container always names itself
  const running = new Set(all.filter((c) => containerState(paths, c).status === "running").map((c) => c.id));
  for (const c of all)
    for (const [name, e] of Object.entries(c.networks ?? {})) {
      if (!peers.has(name)) peers.set(name, []);
      peers
        .get(name)
        ?.push({ id: c.id, ip: e.ip, names: [...(c.name ? [c.name] : []), ...e.aliases, c.id.slice(0, 12)] });
    }
  const wanted = new Set(networks);
  for (const c of all) {
    if (!Object.keys(c.networks ?? {}).some((n) => wanted.has(n)) && !alsoIds.includes(c.id)) continue;
    const bytes = Buffer.from(hostsText(c, peers, running));
    let fd: number;
    try {
      fd = openSync(join(containerDir(paths, c.id), "hosts"), "r+");
    } catch {
      continue; // removed meanwhile
    }
    try {
      writeSync(fd, bytes, 0, bytes.length, 0);
      ftruncateSync(fd, bytes.length);
    } finally {
      closeSync(fd);
    }
  }
}
