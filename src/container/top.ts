// `hull top`: the container's processes, found in the host's /proc by their pid namespace (the
// container's own /proc is out of reach when its root is a FUSE mount, which only the namespace may
// enter) and shown as the container sees them: its pids and its uids, in docker's columns. With ps
// options, the host's ps is run as docker runs it and its rows are kept for the container's pids.
import { join } from "../sys/path";
import type { StorePaths } from "../store/paths";
import { insideId } from "../runtime/idmap";
import { readFileText, readlink } from "../sys/libc";
import { containerState, findContainer, startedInit } from "./records";

/** A host uid as the container knows it, through its /proc/PID/uid_map; "N?" when it has none. */
function insideUid(hostUid: number, map: string): string {
  return String(insideId(hostUid, map) ?? `${hostUid}?`);
}

export interface ProcessRow {
  uid: string;
  /** the pid in the container, and on the host */
  pid: number;
  hostPid: number;
  ppid: number;
  /** ps's C: cpu use over the process's life, in percent */
  c: number;
  stime: string;
  tty: string;
  time: string;
  cmd: string;
}

const TICKS = 100; // USER_HZ: what /proc/PID/stat counts in, on every Linux architecture hull runs on

function twoDigits(n: number): string {
  return String(n).padStart(2, "0");
}

/** ps's STIME: the time of day for a process started today, else the month and day. */
function startTime(started: Date, now: Date): string {
  if (started.toDateString() === now.toDateString())
    return `${twoDigits(started.getHours())}:${twoDigits(started.getMinutes())}`;
  return `${started.toLocaleString("en", { month: "short" })}${twoDigits(started.getDate())}`;
}

/** ps's TIME: cpu seconds as [DD-]HH:MM:SS */
function cpuTime(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const hms = `${twoDigits(Math.floor((seconds % 86400) / 3600))}:${twoDigits(Math.floor((seconds % 3600) / 60))}:${twoDigits(seconds % 60)}`;
  return d > 0 ? `${d}-${hms}` : hms;
}

/** ps's TTY from stat's tty_nr: pts/N for a pseudo-terminal, ? for none */
function ttyName(nr: number): string {
  if (nr === 0) return "?";
  const major = (nr >> 8) & 0xfff;
  const minor = (nr & 0xff) | ((nr >> 12) & 0xfff00);
  return major >= 136 && major <= 143 ? `pts/${(major - 136) * 256 + minor}` : `tty${minor}`;
}

/** The running container KEY's pid 1 on the host; throws when it is not running. */
async function runningInit(paths: StorePaths, key: string): Promise<number> {
  const rec = findContainer(paths, key);
  if (containerState(paths, rec).status !== "running") throw new Error(`container ${key} is not running`);
  return startedInit(paths, rec, key);
}

/** Host pids of every process in the pid namespace of INIT: those started by `hull exec` too. */
export function namespacePids(init: number): number[] {
  const ns = readlink(`/proc/${init}/ns/pid`);
  if (!ns) throw new Error("the container stopped while its processes were read");
  const { readdirSync } = require("node:fs") as typeof import("node:fs");
  const same = (pid: string) => {
    try {
      return readlink(`/proc/${pid}/ns/pid`) === ns;
    } catch {
      return false; // another user's process (EACCES), or one that just ended
    }
  };
  return readdirSync("/proc")
    .filter((e) => /^\d+$/.test(e) && same(e))
    .map(Number);
}

export async function containerTop(paths: StorePaths, key: string): Promise<ProcessRow[]> {
  const init = await runningInit(paths, key);
  const map = readFileText(`/proc/${init}/uid_map`) ?? "";
  const btime = Number(/^btime (\d+)/m.exec(readFileText("/proc/stat") ?? "")?.[1] ?? 0);
  const uptime = Number((readFileText("/proc/uptime") ?? "0").split(" ")[0]);
  const now = new Date();
  const byHost = new Map<number, number>();
  const rows: (ProcessRow & { hostPpid: number })[] = [];
  for (const hostPid of namespacePids(init)) {
    const dir = join("/proc", String(hostPid));
    const status = readFileText(join(dir, "status"));
    const stat = readFileText(join(dir, "stat"));
    if (!status || !stat) continue; // gone since the listing
    const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, "m").exec(status)?.[1]?.trim() ?? "";
    // stat's fields after "(comm)", which may hold spaces: state is field 3
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const at = (n: number) => Number(f[n - 3]);
    const cpu = (at(14) + at(15)) / TICKS;
    const life = uptime - at(22) / TICKS;
    const pid = Number(field("NSpid").split(/\s+/).at(-1));
    byHost.set(hostPid, pid);
    const cmdline = (readFileText(join(dir, "cmdline")) ?? "").split("\0").filter(Boolean).join(" ");
    rows.push({
      uid: insideUid(Number(field("Uid").split(/\s+/)[0]), map),
      pid,
      hostPid,
      ppid: 0,
      hostPpid: at(4),
      c: life > 0 ? Math.floor((cpu * 100) / life) : 0,
      stime: startTime(new Date((btime + at(22) / TICKS) * 1000), now),
      tty: ttyName(at(7)),
      time: cpuTime(Math.floor(cpu)),
      cmd: cmdline || `[${field("Name")}]`,
    });
  }
  // a parent outside the namespace (the shim that started pid 1, or hull exec's) is 0, as in ps
  for (const r of rows) r.ppid = byHost.get(r.hostPpid) ?? 0;
  return rows.sort((a, b) => a.pid - b.pid);
}

/** `hull top KEY PS-OPTIONS`: the host's ps with those options, only the rows of the container's pids. */
export async function containerTopWithPs(paths: StorePaths, key: string, options: string[]): Promise<string> {
  const pids = new Set(namespacePids(await runningInit(paths, key)).map(String));
  const { findProgram } = require("../runtime/programs") as typeof import("../runtime/programs");
  const ps = findProgram("ps");
  if (!ps) throw new Error("hull top with ps options runs the host's ps, which is missing: apt-get install procps");
  // -e: ps alone lists only the caller's own processes, and the container's run under other ids
  const r = Bun.spawnSync([ps, ...options, "-e"], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`ps ${options.join(" ")}: ${r.stderr.toString().trim().split("\n")[0]}`);
  const [head = "", ...lines] = r.stdout.toString().split("\n");
  const at = /(?:^|\s)PID(?=\s|$)/.exec(head);
  if (!at)
    throw new Error(`ps ${options.join(" ")} prints no PID column, so its rows cannot be matched (docker's rule too)`);
  // ps right-aligns PID under its heading: the number ends where the heading does, whatever the
  // columns before it hold (a COMMAND with spaces in it shifted a split by words onto a host process)
  const end = at.index + at[0].length;
  const rows = lines.filter((l) => l.trim() !== "");
  const pidOf = (l: string) => /(?:^|\s)(\d+)$/.exec(l.slice(0, end))?.[1];
  if (rows.some((l) => pidOf(l) === undefined))
    throw new Error(`ps ${options.join(" ")}: the PID column cannot be read (give it first: -o pid,...)`);
  return [head, ...rows.filter((l) => pids.has(pidOf(l) as string))].join("\n");
}
