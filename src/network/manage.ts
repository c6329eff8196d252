// What `hull network` does beyond a record: inspect as docker shows a network, rm and prune (never a
// network a container is on), and connect and disconnect, which for a running container make or
// delete its link in the shared namespace through the shim (ffi/netns.c).
import { emitEvent } from "../store/events";
import { createHash } from "node:crypto";
import { join } from "../sys/path";
import {
  containerDir,
  savedMaps,
  type ContainerRecord,
  findContainer,
  initPid,
  listContainers,
  withContainerLock,
} from "../container/records";
import { encodeNetMessage } from "../runtime/message";
import { spawnShim } from "../runtime/shim";
import { writeFileAtomic } from "../store/atomic";
import type { StorePaths } from "../store/paths";
import { type Endpoint, newEndpoint, refreshHosts, userNets, vethName, writeLinks } from "./attach";
import {
  bridgeName,
  BUILTIN_NETWORKS,
  deleteNetworkRecord,
  findNetwork,
  listNetworks,
  type NetworkRecord,
  networksDir,
  withNetworksLock,
} from "./records";
import { BRIDGE_GATEWAY, BRIDGE_PREFIX, BRIDGE_SUBNET } from "./bridge";

/** docker's three that always exist; hull's bridge is each container's own pasta network */
export const LISTED_BUILTINS = [
  { name: "bridge", driver: "bridge" },
  { name: "host", driver: "host" },
  { name: "none", driver: "null" },
];

export const builtinId = (name: string) => createHash("sha256").update(`hull-network-${name}`).digest("hex");

function members(all: ContainerRecord[], name: string): ContainerRecord[] {
  return all.filter((c) => c.networks?.[name] !== undefined);
}

export function inspectNetwork(paths: StorePaths, key: string): Record<string, unknown> {
  const builtin = LISTED_BUILTINS.find((b) => b.name === key);
  if (builtin) {
    const { containerState } = require("../container/records") as typeof import("../container/records");
    const bridge = builtin.name === "bridge";
    return {
      Name: builtin.name,
      Id: builtinId(builtin.name),
      Scope: "local",
      Driver: builtin.driver,
      EnableIPv6: false,
      // the default network's shared bridge (a container with a helper of its own has no address on it)
      IPAM: {
        Driver: "default",
        Options: {},
        Config: bridge ? [{ Subnet: BRIDGE_SUBNET, Gateway: BRIDGE_GATEWAY }] : [],
      },
      Internal: false,
      Containers: Object.fromEntries(
        (bridge ? listContainers(paths) : [])
          .filter((c) => c.bridgeIp && containerState(paths, c).status === "running")
          .map((c) => [
            c.id,
            {
              Name: c.name ?? "",
              EndpointID: c.id,
              MacAddress: "",
              IPv4Address: `${c.bridgeIp}/${BRIDGE_PREFIX}`,
              IPv6Address: "",
            },
          ]),
      ),
      Options: {},
      Labels: {},
    };
  }
  const n = findNetwork(paths, key);
  const prefix = n.subnet.split("/")[1];
  const { containerState } = require("../container/records") as typeof import("../container/records");
  return {
    Name: n.name,
    Id: n.id,
    Created: n.created,
    Scope: "local",
    Driver: n.driver,
    EnableIPv6: false,
    IPAM: { Driver: "default", Options: {}, Config: [{ Subnet: n.subnet, Gateway: n.gateway }] },
    Internal: n.internal,
    Attachable: false,
    Ingress: false,
    ConfigFrom: { Network: "" },
    ConfigOnly: false,
    // docker's: the containers on it that run
    Containers: Object.fromEntries(
      members(listContainers(paths), n.name)
        .filter((c) => containerState(paths, c).status === "running")
        .map((c) => [
          c.id,
          {
            Name: c.name ?? "",
            EndpointID: c.id,
            MacAddress: "",
            IPv4Address: `${c.networks?.[n.name]?.ip}/${prefix}`,
            IPv6Address: "",
          },
        ]),
    ),
    Options: {},
    Labels: n.labels,
  };
}

/** `hull network rm`: refused while a container (running or not) is on it, naming them. */
export async function removeNetwork(paths: StorePaths, key: string): Promise<string> {
  if (BUILTIN_NETWORKS.includes(key)) throw new Error(`${key} is a pre-defined network and cannot be removed`);
  return withNetworksLock(paths, () => {
    const n = findNetwork(paths, key);
    const on = members(listContainers(paths), n.name);
    if (on.length > 0)
      throw new Error(
        `network ${n.name} has containers on it (${on.map((c) => c.name ?? c.id.slice(0, 12)).join(", ")}): hull network disconnect ${n.name} CONTAINER, or remove them`,
      );
    deleteNetworkRecord(paths, n.name);
    emitEvent(paths, "network", "destroy", n.id, { name: n.name, type: n.driver });
    return n;
  }).then(async (n) => {
    await deleteLinks(paths, [bridgeName(n)]).catch(() => {});
    return key;
  });
}

/** `hull network prune`: every network no container is on that ALLOWS (filters) lets go. */
export async function pruneNetworks(
  paths: StorePaths,
  allows: (created: string, labels: Record<string, string>) => boolean,
): Promise<string[]> {
  return withNetworksLock(paths, () => {
    const all = listContainers(paths);
    const gone: NetworkRecord[] = [];
    for (const n of listNetworks(paths)) {
      if (members(all, n.name).length > 0 || !allows(n.created, n.labels)) continue;
      deleteNetworkRecord(paths, n.name);
      gone.push(n);
    }
    return gone;
  }).then(async (gone) => {
    await deleteLinks(paths, gone.map(bridgeName)).catch(() => {});
    return gone.map((n) => n.name);
  });
}

function writeRecord(paths: StorePaths, rec: ContainerRecord): void {
  writeFileAtomic(join(containerDir(paths, rec.id), "container.json"), `${JSON.stringify(rec, null, 2)}\n`);
}

/**
 * Delete LINKS (veth ends, bridges) by name in the shared namespace, if its holder lives: the links
 * of a removed container (which a container joined to its namespace would keep alive, address and
 * all), and the bridge of a removed network.
 */
export async function deleteLinks(paths: StorePaths, links: string[]): Promise<void> {
  if (links.length === 0) return;
  const { hostIdMapping } = await import("../runtime/idmap");
  const ids = hostIdMapping();
  const nets = {
    dir: networksDir(paths),
    holderUidMap: ids.uidMap,
    holderGidMap: ids.gidMap,
    nestUidMap: "",
    nestGidMap: "",
    attach: [],
  };
  const r = await spawnShim(encodeNetMessage(0, nets, links, ids), ["net", "0"]);
  if (r.code !== 0) throw new Error(r.stderr.trim().replace(/^hull: /, "") || `the shim failed (${r.code})`);
}

/** The container's pid 1 while it runs; one that `hull run` is still starting is waited for. */
async function runningPid(paths: StorePaths, rec: ContainerRecord, key: string): Promise<number | undefined> {
  const { containerState } = await import("../container/records");
  for (let i = 0; i < 250; i++) {
    const pid = initPid(paths, rec.id);
    if (pid) return pid;
    if (containerState(paths, rec).status !== "running") return undefined;
    await Bun.sleep(20);
  }
  throw new Error(`container ${key} is still starting: try again`);
}

/** Links for the running container REC made through the shim; exit 3 is its "not under the holder". */
async function attachRunning(
  paths: StorePaths,
  rec: ContainerRecord,
  pid: number,
  attach: Record<string, Endpoint>,
  key: string,
): Promise<void> {
  const maps = savedMaps(paths, rec.id, key);
  const nets = userNets(paths, rec.id, attach, maps);
  if (!nets) return;
  const r = await spawnShim(encodeNetMessage(pid, nets, [], maps), ["net", "0"]);
  if (r.code === 3)
    throw new Error(
      `container ${key} has a network namespace of its own (a pasta of its own, for -p or host-gateway), which a user network cannot reach while it runs: hull stop ${key}, connect it, and start it again`,
    );
  if (r.code !== 0) throw new Error(r.stderr.trim().replace(/^hull: /, "") || `the shim failed (${r.code})`);
}

export async function connectNetwork(
  paths: StorePaths,
  netKey: string,
  ctrKey: string,
  o: { ip?: string; aliases: string[] },
): Promise<void> {
  if (BUILTIN_NETWORKS.includes(netKey))
    throw new Error(`hull network connect takes a user network; ${netKey} is a container's own (hull run --network)`);
  findNetwork(paths, netKey);
  const found = findContainer(paths, ctrKey);
  await withContainerLock(paths, found.id, () =>
    withNetworksLock(paths, async () => {
      const n: NetworkRecord = findNetwork(paths, netKey);
      const rec = findContainer(paths, ctrKey);
      const mode = rec.networkMode ?? "";
      if (mode === "host" || mode === "none" || mode.startsWith("container:"))
        throw new Error(
          `container ${ctrKey} uses --network ${mode.replace(/^container:(.{12}).*/, "container:$1")}, which cannot be joined to a user network`,
        );
      if (rec.networks?.[n.name]) throw new Error(`container ${ctrKey} is already on network ${n.name}`);
      const endpoint = newEndpoint(listContainers(paths), n, rec.networks ?? {}, o);
      const pid = await runningPid(paths, rec, ctrKey);
      if (pid) await attachRunning(paths, rec, pid, { [n.name]: endpoint }, ctrKey);
      const updated = { ...rec, networks: { ...(rec.networks ?? {}), [n.name]: endpoint } };
      writeRecord(paths, updated);
      if (pid) writeLinks(paths, updated);
      // its shim was told of no user network as it started: this mark makes it tell the peers as it ends
      if (pid) writeFileAtomic(join(containerDir(paths, rec.id), "peers"), "", 0o644, false);
      refreshHosts(paths, [n.name]);
      emitEvent(paths, "network", "connect", n.id, { name: n.name, type: n.driver, container: rec.id });
    }),
  );
}

export async function disconnectNetwork(paths: StorePaths, netKey: string, ctrKey: string): Promise<void> {
  const found = findContainer(paths, ctrKey);
  await withContainerLock(paths, found.id, () =>
    withNetworksLock(paths, async () => {
      const rec = findContainer(paths, ctrKey);
      // a network removed meanwhile can still be left (its name is all the record has)
      const name = rec.networks?.[netKey] ? netKey : findNetwork(paths, netKey).name;
      const endpoint = rec.networks?.[name];
      if (!rec.networks || !endpoint) throw new Error(`container ${ctrKey} is not connected to network ${name}`);
      const pid = await runningPid(paths, rec, ctrKey);
      // deleted by name: the veth takes its end in the container along
      if (pid) await deleteLinks(paths, [vethName(rec.id, endpoint.networkId)]);
      const { [name]: _gone, ...rest } = rec.networks;
      const updated = { ...rec, networks: rest };
      writeRecord(paths, updated);
      if (pid) writeLinks(paths, updated);
      refreshHosts(paths, [name, ...Object.keys(rest)], [rec.id]);
      emitEvent(paths, "network", "disconnect", endpoint.networkId, { name, type: "bridge", container: rec.id });
    }),
  );
}
