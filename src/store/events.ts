// The store's event journal (`hull events`): one JSON line per event, in docker's shape, appended to
// STORE/events.log by whichever hull process acts (and by the shim for a container's die and an --rm
// container's destroy, ffi/events.c). With no daemon there is no event stream to subscribe to: the
// journal is it. O_APPEND keeps concurrent writers' lines whole; past 4 MiB the journal moves to
// events.log.1 (one generation kept).
import { join } from "../sys/path";
import * as v from "valibot";
import { lazily } from "../sys/lazy-schema";
import type { StorePaths } from "./paths";
import { close, O_CREAT, O_WRONLY, open, readFileText, rename, writeAll } from "../sys/libc";

export const EventSchema = lazily(() =>
  v.object({
    status: v.optional(v.string()),
    id: v.optional(v.string()),
    from: v.optional(v.string()),
    Type: v.string(),
    Action: v.string(),
    Actor: v.object({ ID: v.string(), Attributes: v.record(v.string(), v.string()) }),
    scope: v.string(),
    time: v.number(),
    timeNano: v.number(),
  }),
);
export type HullEvent = v.InferOutput<typeof EventSchema>;

export type EventType = "container" | "image" | "volume" | "network";

const O_APPEND = 0o2000;
const LIMIT = 4 * 1024 * 1024;

export const journalPath = (paths: StorePaths) => join(paths.root, "events.log");

/** One event, in docker's shape; attributes as docker names them (name, image, exitCode, signal...). */
export function eventLine(type: EventType, action: string, id: string, attrs: Record<string, string> = {}): string {
  const now = Date.now();
  // ns from ms and the sub-ms of the monotonic clock: ordered within a process
  const nano = BigInt(now) * 1_000_000n + BigInt(Math.floor((performance.now() % 1) * 1e6));
  const e: HullEvent = {
    ...(type === "container" ? { status: action, id, from: attrs.image ?? "" } : {}),
    Type: type,
    Action: action,
    Actor: { ID: id, Attributes: attrs },
    scope: "local",
    time: Math.floor(now / 1000),
    timeNano: Number(nano),
  };
  return `${JSON.stringify(e)}\n`;
}

/** Append EVENTS (from eventLine) to the journal; an event that cannot be written never fails the act. */
export function emitEvents(paths: StorePaths, lines: string[]): void {
  const path = journalPath(paths);
  try {
    // Bun's file size and libc's rename: no node:fs on the run path
    if (Bun.file(path).size > LIMIT) rename(path, `${path}.1`);
  } catch {}
  try {
    const fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o600);
    try {
      writeAll(fd, new TextEncoder().encode(lines.join("")));
    } finally {
      close(fd);
    }
  } catch {}
}

export function emitEvent(
  paths: StorePaths,
  type: EventType,
  action: string,
  id: string,
  attrs: Record<string, string> = {},
): void {
  emitEvents(paths, [eventLine(type, action, id, attrs)]);
}

/** The journal's events, the older generation first; lines that do not parse are skipped. */
export function readEvents(paths: StorePaths): HullEvent[] {
  const text = `${readFileText(`${journalPath(paths)}.1`) ?? ""}${readFileText(journalPath(paths)) ?? ""}`;
  const out: HullEvent[] = [];
  for (const line of text.split("\n")) {
    if (!line) continue;
    try {
      const r = v.safeParse(EventSchema, JSON.parse(line));
      if (r.success) out.push(r.output);
    } catch {}
  }
  return out;
}

/** what a container's events say of it (docker's attributes) */
export function containerAttrs(rec: { image: string; name?: string }): Record<string, string> {
  return { image: rec.image, name: rec.name ?? "" };
}
