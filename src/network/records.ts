// User-defined networks as records in the store: networks/NAME.json, written atomically under
// networks/lock, which every change of a network or of who is on one takes (create, rm, and the
// addresses given to containers). Which containers are on a network is kept in their own records
// (ContainerRecord.networks), so a container removed, even by its shim after --rm, leaves nothing
// behind here.
import { networksDir } from "./holder-userns";
import { join } from "../sys/path";
import * as v from "valibot";
import { lazily } from "../sys/lazy-schema";
import { writeFileAtomic } from "../store/atomic";
import { emitEvent } from "../store/events";
import { withLock } from "../store/lock";
import type { StorePaths } from "../store/paths";
import { readDir, readFileText, unlinkIfExists } from "../sys/libc";
import {
  contains,
  formatSubnet,
  freeSubnet,
  hostRange,
  hostRoutes,
  ipToNumber,
  numberToIp,
  overlaps,
  parseSubnet,
} from "./subnet";

/** docker's names: what `hull network create` takes; the built-in modes are not names of records */
export const NETWORK_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/;
export const BUILTIN_NETWORKS = ["bridge", "host", "none", "pasta", "private", "default", "slirp4netns", "container"];

export const NetworkRecordSchema = lazily(() =>
  v.object({
    name: v.pipe(v.string(), v.regex(NETWORK_NAME)),
    id: v.pipe(v.string(), v.regex(/^[a-f0-9]{64}$/)),
    driver: v.literal("bridge"),
    subnet: v.string(),
    gateway: v.string(),
    /** --internal: no way out but to the network's peers (no pasta) */
    internal: v.boolean(),
    labels: v.record(v.string(), v.string()),
    created: v.string(),
  }),
);
export type NetworkRecord = v.InferOutput<typeof NetworkRecordSchema>;

export { networksDir };

/** FN under networks/lock: one change of networks and addresses at a time. */
export function withNetworksLock<T>(paths: StorePaths, fn: () => Promise<T> | T): Promise<T> {
  return withLock(join(networksDir(paths), "lock"), fn);
}

function recordPath(paths: StorePaths, name: string): string {
  return join(networksDir(paths), `${name}.json`);
}

/**
 * The bridge of a network in the shared namespace: at most 15 characters, as the kernel allows. The
 * shared namespace forwards hull-* out (ffi/netlink.c); an --internal network's, hullx*, never.
 */
export const bridgeName = (n: NetworkRecord) => `${n.internal ? "hullx" : "hull-"}${n.id.slice(0, 10)}`;

export class NoSuchNetworkError extends Error {
  constructor(key: string) {
    super(`no such network: ${key} (hull network ls lists them; hull network create ${key} makes it)`);
  }
}

export function readNetwork(paths: StorePaths, name: string): NetworkRecord | undefined {
  if (!NETWORK_NAME.test(name)) return undefined;
  const text = readFileText(recordPath(paths, name));
  if (text === undefined) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    data = undefined;
  }
  const r = v.safeParse(NetworkRecordSchema, data);
  if (!r.success) throw new Error(`network ${name} has a damaged record (${recordPath(paths, name)}): remove it`);
  return r.output;
}

export function listNetworks(paths: StorePaths): NetworkRecord[] {
  let names: string[];
  try {
    names = readDir(networksDir(paths)) ?? [];
  } catch {
    return [];
  }
  return names
    .filter((f) => f.endsWith(".json") && !f.startsWith("."))
    .flatMap((f) => {
      const n = readNetwork(paths, f.slice(0, -5));
      return n ? [n] : [];
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** A network by name, full id or a unique prefix of the id, as docker finds one. */
export function findNetwork(paths: StorePaths, key: string): NetworkRecord {
  const byName = readNetwork(paths, key);
  if (byName) return byName;
  const byId = /^[a-f0-9]{1,64}$/.test(key) ? listNetworks(paths).filter((n) => n.id.startsWith(key)) : [];
  if (byId.length === 1) return byId[0] as NetworkRecord;
  if (byId.length > 1) throw new Error(`network id ${key} is ambiguous: give more of it, or the name`);
  throw new NoSuchNetworkError(key);
}

export interface CreateOptions {
  subnet?: string;
  gateway?: string;
  internal: boolean;
  labels: Record<string, string>;
  driver?: string;
}

export async function createNetwork(paths: StorePaths, name: string, o: CreateOptions): Promise<NetworkRecord> {
  if (BUILTIN_NETWORKS.includes(name))
    throw new Error(`network ${name} is built in (--network ${name}): choose another name`);
  if (!NETWORK_NAME.test(name))
    throw new Error(`invalid network name ${name}: 1 to 64 letters, digits, '_', '.' and '-', not first`);
  if (o.driver !== undefined && o.driver !== "bridge")
    throw new Error(`--driver ${o.driver} is not supported: user networks are bridges (--driver bridge)`);
  const asked = o.subnet !== undefined ? parseSubnet(o.subnet) : undefined;
  return withNetworksLock(paths, () => {
    if (readNetwork(paths, name)) throw new Error(`network with name ${name} already exists`);
    const others = listNetworks(paths);
    const taken = others.map((n) => parseSubnet(n.subnet));
    const clash = asked && others.find((n) => overlaps(asked, parseSubnet(n.subnet)));
    if (clash) throw new Error(`--subnet ${o.subnet} overlaps network ${clash.name} (${clash.subnet})`);
    const route = asked && hostRoutes().find((r) => overlaps(asked, r));
    if (route)
      throw new Error(
        `--subnet ${o.subnet} overlaps the host's route to ${formatSubnet(route)}: a container would lose that part of the host's network`,
      );
    const subnet = asked ?? freeSubnet(taken);
    let gateway = hostRange(subnet).first;
    if (o.gateway !== undefined) {
      // as a number: 10.52.0.010 is 10.52.0.10, and is compared and stored so
      const g = ipToNumber(o.gateway);
      const r = hostRange(subnet);
      if (g === undefined || g < r.first || g > r.last)
        throw new Error(`--gateway ${o.gateway} is not an address of the subnet ${formatSubnet(subnet)}`);
      gateway = g;
    }
    const rec: NetworkRecord = {
      name,
      id: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex"),
      driver: "bridge",
      subnet: formatSubnet(subnet),
      gateway: numberToIp(gateway),
      internal: o.internal,
      labels: o.labels,
      created: new Date().toISOString(),
    };
    writeFileAtomic(recordPath(paths, name), `${JSON.stringify(rec, null, 2)}\n`);
    emitEvent(paths, "network", "create", rec.id, { name: rec.name, type: rec.driver });
    return rec;
  });
}

/** Remove the record (the caller holds the lock and checked that no container is on it). */
export function deleteNetworkRecord(paths: StorePaths, name: string): void {
  unlinkIfExists(recordPath(paths, name));
}

/**
 * The lowest free address of N, or WANT (--ip) when it is N's and free; TAKEN: the addresses
 * containers on N have.
 */
export function pickAddress(n: NetworkRecord, taken: Set<string>, want?: string): string {
  const subnet = parseSubnet(n.subnet);
  const { first, last } = hostRange(subnet);
  if (want !== undefined) {
    const w = ipToNumber(want);
    if (w === undefined || !contains(subnet, w) || w < first || w > last)
      throw new Error(`--ip ${want} is not an address of network ${n.name} (${n.subnet})`);
    // compared and stored in one spelling: 10.52.0.01 is 10.52.0.1
    const ip = numberToIp(w);
    if (ip === n.gateway) throw new Error(`--ip ${want} is network ${n.name}'s gateway`);
    if (taken.has(ip)) throw new Error(`--ip ${want} is taken on network ${n.name}`);
    return ip;
  }
  for (let ip = first; ip <= last; ip++) {
    const s = numberToIp(ip);
    if (s !== n.gateway && !taken.has(s)) return s;
  }
  throw new Error(`network ${n.name} (${n.subnet}) has no free address: remove a container from it`);
}
