// --network none without newuidmap: the container's user namespace nested under the shared holder's
// (ffi/netns.c), whose root writes the maps, as for a container on the default network; its network
// namespace is its own, with only lo. newuidmap and newgidmap (two setuid programs) cost more than
// the rest of the namespaces together; the holder pays them once and stays a second past its last
// use, so a loop of runs pays them once. Without a holder to be had, the shim falls back to a user
// namespace of the container's own (HULL_FLAG_HOLDER_USERNS). HULL_NET_SHARED=0 turns it off.
import { join } from "node:path";
import { hostIdMapping, type IdMapping, nestedMap } from "../runtime/idmap";
import type { UserNets } from "../runtime/message";
import type { StorePaths } from "../store/paths";
import { mkdir } from "../sys/libc";

/** The holder's part of the message for a container with MAPS (host ids), or undefined when its maps
 * cannot be written from the holder's (ids the holder does not have). */
export function holderUserns(paths: StorePaths, maps: Pick<IdMapping, "uidMap" | "gidMap">): UserNets | undefined {
  if (process.env.HULL_NET_SHARED === "0") return undefined;
  const holder = hostIdMapping();
  let nestUidMap: string;
  let nestGidMap: string;
  try {
    nestUidMap = nestedMap(maps.uidMap, holder.uidMap);
    nestGidMap = nestedMap(maps.gidMap, holder.gidMap);
  } catch {
    return undefined;
  }
  const dir = join(paths.root, "networks");
  mkdir(dir, 0o700, true);
  return { dir, holderUidMap: holder.uidMap, holderGidMap: holder.gidMap, nestUidMap, nestGidMap, attach: [] };
}
