// --network container:NAME: which running container's network namespace a new one joins, and what
// it takes from it (its user namespace's maps, its host name, its /etc/hosts and resolv.conf).
import { join } from "../sys/path";
import type { RunOptions } from "../container/options";
import { containerDir, findContainer, initPid, processStart, savedMaps } from "../container/records";
import type { StorePaths } from "../store/paths";

export interface Joined {
  id: string;
  pid: number;
  start: string | undefined;
  hostname: string;
  uidMap: string;
  gidMap: string;
  etcFiles: { hosts: string; resolvConf: string };
}

/**
 * --network container:KEY: the running container whose network namespace (and so user namespace:
 * the network namespace belongs to it) the new one joins. docker's conflicts are refused: the names
 * and ports are the joined container's.
 */
export async function joinTarget(paths: StorePaths, key: string, o: RunOptions): Promise<Joined> {
  for (const [given, flagName] of [
    [o.publish.length > 0 || o.publishAll, "-p/-P"],
    [o.hostname !== undefined, "--hostname"],
    [o.dns.length + o.dnsSearch.length + o.dnsOption.length > 0, "--dns"],
    [o.addHost.length > 0, "--add-host"],
  ] as const)
    if (given) throw new Error(`${flagName} and --network container: conflict: the network is ${key}'s`);
  const target = findContainer(paths, key);
  const pid = initPid(paths, target.id);
  if (!pid) throw new Error(`--network container:${key}: the container is not running (hull start ${key})`);
  if (target.networkMode === "host")
    throw new Error(`--network container:${key}: it uses the host's network, so use --network host`);
  if (target.userns?.startsWith("keep-id"))
    throw new Error(`--network container:${key}: joining a --userns=keep-id container is not supported yet`);
  const spec = savedMaps(paths, target.id, key);
  const dir = containerDir(paths, target.id);
  return {
    id: target.id,
    pid,
    start: processStart(pid),
    hostname: target.hostname ?? target.id.slice(0, 12),
    uidMap: spec.uidMap,
    gidMap: spec.gidMap,
    etcFiles: { hosts: join(dir, "hosts"), resolvConf: join(dir, "resolv.conf") },
  };
}
