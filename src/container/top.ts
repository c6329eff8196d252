// `hull top`: the container's processes, read from its own /proc (through /proc/<pid 1>/root) so
// that the image needs no ps; pids as the container numbers them.
import { join } from "node:path";
import type { StorePaths } from "../store/paths";
import { readFileText } from "../sys/libc";
import { hostIdMapping } from "../runtime/idmap";
import { containerState, findContainer, initPid } from "./records";

/** A host uid as the container knows it, through the map "inside outside count ...". */
function insideUid(hostUid: number, map: string): string {
  const n = map.split(" ").map(Number);
  for (let i = 0; i + 2 < n.length; i += 3) {
    const [inside, outside, count] = [n[i] as number, n[i + 1] as number, n[i + 2] as number];
    if (hostUid >= outside && hostUid < outside + count) return String(inside + hostUid - outside);
  }
  return `${hostUid}?`;
}

export interface ProcessRow {
  uid: string;
  pid: number;
  ppid: number;
  cmd: string;
}

export function containerTop(paths: StorePaths, key: string): ProcessRow[] {
  const rec = findContainer(paths, key);
  if (containerState(paths, rec).status !== "running") throw new Error(`container ${key} is not running`);
  const pid = initPid(paths, rec.id);
  if (!pid) throw new Error(`container ${key} has not started its command yet`);
  const proc = `/proc/${pid}/root/proc`;
  const { readdirSync } = require("node:fs") as typeof import("node:fs");
  const rows: ProcessRow[] = [];
  const map = hostIdMapping().uidMap;
  for (const entry of readdirSync(proc)) {
    if (!/^\d+$/.test(entry)) continue;
    const status = readFileText(join(proc, entry, "status"));
    if (!status) continue;
    const field = (name: string) => new RegExp(`^${name}:\\s*(\\S+)`, "m").exec(status)?.[1] ?? "";
    const cmdline = (readFileText(join(proc, entry, "cmdline")) ?? "").split("\0").filter(Boolean).join(" ");
    rows.push({
      uid: insideUid(Number(field("Uid")), map),
      pid: Number(entry),
      ppid: Number(field("PPid")),
      cmd: cmdline || `[${field("Name")}]`,
    });
  }
  return rows.sort((a, b) => a.pid - b.pid);
}
