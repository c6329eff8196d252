// --network none without newuidmap: the container's user namespace nested under the shared holder's
// (ffi/netns.c), whose root writes the maps, as for a container on the default network; its network
// namespace is its own, with only lo. newuidmap and newgidmap (two setuid programs) cost more than
// the rest of the namespaces together; the holder pays them once and stays a second past its last
// use, so a loop of runs pays them once. Without a holder to be had, the shim falls back to a user
// namespace of the container's own (HULL_FLAG_HOLDER_USERNS). HULL_NET_SHARED=0 turns it off.
import { join } from "../sys/path";
import { hostIdMapping, type IdMapping, nestedMap } from "../runtime/idmap";
import type { UserNets } from "../runtime/message";
import type { StorePaths } from "../store/paths";
import { mkdir } from "../sys/libc";

/** The store's directory of networks and of the shared namespace's holder (its pid file, its locks). */
export const networksDir = (paths: StorePaths) => join(paths.root, "networks");

/**
 * The holder's part of the message for a container with MAPS (host ids), with no links: its
 * namespaces' directory, its maps, and the container's maps in its ids. Throws when MAPS names ids
 * the holder does not have.
 */
export function holderMaps(paths: StorePaths, maps: Pick<IdMapping, "uidMap" | "gidMap">): UserNets {
  const holder = hostIdMapping();
  return {
    dir: networksDir(paths),
    holderUidMap: holder.uidMap,
    holderGidMap: holder.gidMap,
    nestUidMap: nestedMap(maps.uidMap, holder.uidMap),
    nestGidMap: nestedMap(maps.gidMap, holder.gidMap),
    attach: [],
  };
}

/** holderMaps for `--network none`, its directory made; undefined where the holder cannot serve. */
export function holderUserns(paths: StorePaths, maps: Pick<IdMapping, "uidMap" | "gidMap">): UserNets | undefined {
  if (process.env.HULL_NET_SHARED === "0") return undefined;
  let nets: UserNets;
  try {
    nets = holderMaps(paths, maps);
  } catch {
    return undefined;
  }
  mkdir(nets.dir, 0o700, true);
  return nets;
}
