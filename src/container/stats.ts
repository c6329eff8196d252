// `hull stats`: CPU, memory, pids, block and network I/O of running containers, in docker's
// columns. A container with a cgroup of its own (run with limits) is read from it, as docker reads
// its; one without is summed from its processes in /proc (found by pid namespace, as top finds
// them), with the host's memory as its limit.
import { join } from "../sys/path";
import { containerCgroup } from "../runtime/cgroup";
import type { StorePaths } from "../store/paths";
import { readFileText } from "../sys/libc";
import { containerState, findContainer, initPid, listContainers } from "./records";
import { namespacePids } from "./top";

interface Sample {
  /** cpu time used, in microseconds */
  cpu: number;
  memory: number;
  limit: number;
  pids: number;
  read: number;
  written: number;
  rx: number;
  tx: number;
}

export interface StatsRow extends Omit<Sample, "cpu"> {
  id: string;
  name: string;
  cpuPercent: number;
}

const TICKS = 100;
const num = (text: string | undefined) => Number(text ?? 0) || 0;
const hostMemory = () => num(/^MemTotal:\s+(\d+)/m.exec(readFileText("/proc/meminfo") ?? "")?.[1]) * 1024;

/** Bytes in and out of the container's network namespace, loopback left out (docker's NET I/O). */
function network(pid: number): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  for (const line of (readFileText(`/proc/${pid}/net/dev`) ?? "").split("\n").slice(2)) {
    const [iface, rest] = line.split(":");
    if (!rest || iface?.trim() === "lo") continue;
    const f = rest.trim().split(/\s+/);
    rx += num(f[0]);
    tx += num(f[8]);
  }
  return { rx, tx };
}

/** docker's MEM USAGE on cgroup v2: memory.current less inactive_file, the page cache it can drop */
function usedMemory(current: number, stat: string): number {
  const inactive = num(/^inactive_file (\d+)/m.exec(stat)?.[1]);
  return inactive < current ? current - inactive : current;
}

function sample(pid: number): Sample {
  const dir = containerCgroup(pid);
  if (dir) {
    const read = (f: string) => readFileText(join(dir, f)) ?? "";
    const max = read("memory.max").trim();
    let rbytes = 0;
    let wbytes = 0;
    for (const m of read("io.stat").matchAll(/rbytes=(\d+)/g)) rbytes += num(m[1]);
    for (const m of read("io.stat").matchAll(/wbytes=(\d+)/g)) wbytes += num(m[1]);
    return {
      cpu: num(/^usage_usec (\d+)/m.exec(read("cpu.stat"))?.[1]),
      memory: usedMemory(num(read("memory.current").trim()), read("memory.stat")),
      limit: max === "max" || max === "" ? hostMemory() : num(max),
      pids: num(read("pids.current").trim()),
      read: rbytes,
      written: wbytes,
      ...network(pid),
    };
  }
  const s: Sample = { cpu: 0, memory: 0, limit: hostMemory(), pids: 0, read: 0, written: 0, ...network(pid) };
  for (const p of namespacePids(pid)) {
    const stat = procText(`/proc/${p}/stat`);
    if (!stat) continue;
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    s.cpu += ((num(f[11]) + num(f[12])) / TICKS) * 1e6;
    s.memory += num(/^VmRSS:\s+(\d+)/m.exec(procText(`/proc/${p}/status`))?.[1]) * 1024;
    const io = procText(`/proc/${p}/io`);
    s.read += num(/^read_bytes: (\d+)/m.exec(io)?.[1]);
    s.written += num(/^write_bytes: (\d+)/m.exec(io)?.[1]);
    s.pids++;
  }
  return s;
}

/**
 * A /proc file of one of the container's processes, "" when it cannot be read: the process may have
 * ended, and a zombie's io refuses to be read (EACCES), which let any container fail hull stats.
 */
function procText(path: string): string {
  try {
    return readFileText(path) ?? "";
  } catch {
    return "";
  }
}

/** The running containers KEYS names (all running ones when none), measured over INTERVAL ms. */
export async function containerStats(paths: StorePaths, keys: string[], interval = 500): Promise<StatsRow[]> {
  const recs = keys.length > 0 ? keys.map((k) => findContainer(paths, k)) : listContainers(paths);
  const running = recs.flatMap((rec) => {
    const pid = containerState(paths, rec).status === "running" ? initPid(paths, rec.id) : undefined;
    if (pid === undefined && keys.length > 0)
      throw new Error(`container ${rec.name ?? rec.id.slice(0, 12)} is not running`);
    return pid === undefined ? [] : [{ rec, pid }];
  });
  const first = running.map((r) => sample(r.pid));
  const t0 = performance.now();
  await Bun.sleep(interval);
  const wall = (performance.now() - t0) * 1000;
  return running.map(({ rec, pid }, i) => {
    const a = first[i] as Sample;
    const b = sample(pid);
    const { cpu, ...rest } = b;
    return { ...rest, id: rec.id, name: rec.name ?? "", cpuPercent: Math.max(0, ((cpu - a.cpu) / wall) * 100) };
  });
}
