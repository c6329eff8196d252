// Which ids the container gets: the caller's own id as root, plus the subordinate range of
// /etc/subuid and /etc/subgid through newuidmap/newgidmap when both are there.
import { findProgram } from "./programs";
import { readFileText } from "../sys/libc";
import { userName } from "./whoami";

export interface IdRange {
  start: number;
  count: number;
}

export interface IdMapping {
  /** "0 <uid> 1" or "0 <uid> 1 1 <start> <count>", as newuidmap takes it after the pid */
  uidMap: string;
  gidMap: string;
  /** paths of newuidmap/newgidmap, or "" to write a single-id map directly */
  uidMapProg: string;
  gidMapProg: string;
  /** how many ids exist inside the container, starting at 0 */
  size: number;
  /** why subordinate ids are not used, when they are not */
  fallbackReason?: string;
  /** the caller's own ids, and the subordinate ranges behind container ids 1.. (absent in single-id mode) */
  hostUid: number;
  hostGid: number;
  subUid?: IdRange;
  subGid?: IdRange;
}

/** Parse /etc/subuid-style text: "name-or-id:start:count" lines; returns the first range for the user. */
export function findRange(text: string, name: string, id: number): IdRange | undefined {
  for (const line of text.split("\n")) {
    const [who, start, count] = line.trim().split(":");
    if (!who || start === undefined || count === undefined) continue;
    if (who !== name && who !== String(id)) continue;
    const s = Number(start);
    const c = Number(count);
    if (Number.isInteger(s) && Number.isInteger(c) && s > 0 && c > 0) return { start: s, count: c };
  }
  return undefined;
}

const readOr = (path: string): string => readFileText(path) ?? "";

/** /etc/subuid or /etc/subgid, or the file of that name in HULL_TEST_ETC (a test's stand-in /etc) */
export const subIdFile = (name: "subuid" | "subgid"): string => `${process.env.HULL_TEST_ETC ?? "/etc"}/${name}`;

export function hostIdMapping(): IdMapping {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  const name = userName(uid);
  const single: IdMapping = {
    uidMap: `0 ${uid} 1`,
    gidMap: `0 ${gid} 1`,
    uidMapProg: "",
    gidMapProg: "",
    size: 1,
    hostUid: uid,
    hostGid: gid,
  };
  if (process.env.HULL_IDMAP === "single") return { ...single, fallbackReason: "HULL_IDMAP=single" };
  const uidProg = findProgram("newuidmap");
  const gidProg = findProgram("newgidmap");
  if (!uidProg || !gidProg) return { ...single, fallbackReason: "newuidmap/newgidmap not installed" };
  const ur = findRange(readOr(subIdFile("subuid")), name, uid);
  const gr = findRange(readOr(subIdFile("subgid")), name, uid);
  if (!ur || !gr) return { ...single, fallbackReason: `no range for ${name} in /etc/subuid and /etc/subgid` };
  const size = 1 + Math.min(ur.count, gr.count);
  return {
    uidMap: `0 ${uid} 1 1 ${ur.start} ${size - 1}`,
    gidMap: `0 ${gid} 1 1 ${gr.start} ${size - 1}`,
    uidMapProg: uidProg,
    gidMapProg: gidProg,
    size,
    hostUid: uid,
    hostGid: gid,
    subUid: ur,
    subGid: gr,
  };
}

/** HOST_ID as the namespace of MAP knows it (a /proc/PID/uid_map or gid_map text), or undefined. */
export function insideId(hostId: number, map: string): number | undefined {
  const n = map.trim().split(/\s+/).map(Number);
  for (let i = 0; i + 2 < n.length; i += 3) {
    const [inside, outside, count] = [n[i] as number, n[i + 1] as number, n[i + 2] as number];
    if (hostId >= outside && hostId < outside + count) return inside + hostId - outside;
  }
  return undefined;
}

/**
 * CHILD (container ids -> host ids) in the ids of a namespace whose map is PARENT (its ids -> host
 * ids): what a process of the parent namespace writes to a child's /proc/PID/uid_map. Every host id
 * CHILD names must be in PARENT; a container's map (the default or keep-id's) and the network
 * holder's (the default) cover the same host ids.
 */
export function nestedMap(child: string, parent: string): string {
  const triples = (map: string) => {
    const n = map.trim().split(/\s+/).map(Number);
    const out: [number, number, number][] = [];
    for (let i = 0; i + 2 < n.length; i += 3) out.push([n[i] as number, n[i + 1] as number, n[i + 2] as number]);
    return out;
  };
  const lines: string[] = [];
  for (const [inside, outside, count] of triples(child)) {
    let covered = 0;
    for (const [pIn, pOut, pCount] of triples(parent)) {
      const from = Math.max(outside, pOut);
      const to = Math.min(outside + count, pOut + pCount);
      if (from >= to) continue;
      lines.push(`${inside + from - outside} ${pIn + from - pOut} ${to - from}`);
      covered += to - from;
    }
    if (covered !== count) throw new Error(`map ${child} names host ids that ${parent} does not`);
  }
  return lines.join("\n");
}
