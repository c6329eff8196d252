// Named volumes: volumes/<name>/_data, with a small record. Data in a volume outlives every
// container that used it; a container's anonymous volumes (from the image's VOLUME list) go with
// `hull rm -v`.
import { join } from "../sys/path";
import * as v from "valibot";
import { lazily } from "../sys/lazy-schema";
import { removeTree } from "../image/layers";
import { writeFileAtomic } from "../store/atomic";
import { emitEvent } from "../store/events";
import { mkdirs } from "../store/lock";
import type { StorePaths } from "../store/paths";
import { accessible, F_OK, mkdir, readFileText } from "../sys/libc";
import { listContainers } from "./records";

// at most 200 characters, as container names: a longer one fails as ENAMETOOLONG deep in the store
export const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{1,199}$/;

export const VolumeRecordSchema = lazily(() =>
  v.object({
    name: v.string(),
    created: v.string(),
    anonymous: v.boolean(),
    /** volume create --label (absent in records of older hulls) */
    labels: v.optional(v.record(v.string(), v.string())),
  }),
);
export type VolumeRecord = v.InferOutput<typeof VolumeRecordSchema>;

/** The directory of volume NAME; a name that is not a volume name (`../x`) never becomes a path. */
export function volumeDir(paths: StorePaths, name: string): string {
  if (!VOLUME_NAME.test(name))
    throw new Error(`no such volume: ${name} (a volume name is 2 to 200 letters, digits, '_', '.' and '-')`);
  return join(paths.root, "volumes", name);
}

export function volumeData(paths: StorePaths, name: string): string {
  return join(volumeDir(paths, name), "_data");
}

/** The volume NAME, created when missing; its data directory. */
export function ensureVolume(
  paths: StorePaths,
  name: string,
  anonymous = false,
  labels: Record<string, string> = {},
): string {
  if (!VOLUME_NAME.test(name))
    throw new Error(`invalid volume name ${name}: 2 to 200 letters, digits, '_', '.' and '-'`);
  const dir = volumeDir(paths, name);
  const data = volumeData(paths, name);
  if (accessible(join(dir, "volume.json"), F_OK)) return data;
  mkdirs(dir);
  mkdir(data, 0o755, true);
  const rec: VolumeRecord = {
    name,
    created: new Date().toISOString(),
    anonymous,
    ...(Object.keys(labels).length > 0 ? { labels } : {}),
  };
  writeFileAtomic(join(dir, "volume.json"), `${JSON.stringify(rec)}\n`);
  emitEvent(paths, "volume", "create", name, { driver: "local" });
  return data;
}

export function listVolumes(paths: StorePaths): VolumeRecord[] {
  const { readdirSync } = require("node:fs") as typeof import("node:fs");
  let names: string[] = [];
  try {
    names = readdirSync(join(paths.root, "volumes"));
  } catch {}
  // a damaged record is named and left out: the other volumes stay listed (as damaged containers do)
  return names
    .filter((n) => VOLUME_NAME.test(n))
    .flatMap((n) => {
      try {
        const rec = readVolume(paths, n);
        return rec ? [rec] : [];
      } catch (e) {
        console.error(`hull: ${(e as Error).message}`);
        return [];
      }
    });
}

/** Volume NAME's record; undefined when there is none; a damaged one throws, naming the file. */
export function readVolume(paths: StorePaths, name: string): VolumeRecord | undefined {
  const file = join(volumeDir(paths, name), "volume.json");
  const text = readFileText(file);
  if (text === undefined) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    data = undefined;
  }
  const r = v.safeParse(VolumeRecordSchema, data);
  if (!r.success)
    throw new Error(`volume ${name} has a damaged record (${file}): hull volume rm -f ${name}, or repair it`);
  return r.output;
}

/** The containers that use volume NAME. */
export function usersOf(paths: StorePaths, name: string): string[] {
  return listContainers(paths)
    .filter((c) => c.volumes?.includes(name))
    .map((c) => c.id.slice(0, 12));
}

export async function removeVolume(paths: StorePaths, name: string, force = false): Promise<void> {
  if (!accessible(join(volumeDir(paths, name), "volume.json"), F_OK)) throw new Error(`no such volume: ${name}`);
  const users = usersOf(paths, name);
  if (users.length > 0 && !force) throw new Error(`volume ${name} is in use by container ${users[0]}: remove it first`);
  await removeTree(volumeDir(paths, name));
  emitEvent(paths, "volume", "destroy", name, { driver: "local" });
}

/** `hull volume prune`: volumes no container refers to (with ALL false, only anonymous ones, as Docker). */
export async function pruneVolumes(paths: StorePaths, all: boolean): Promise<string[]> {
  const out: string[] = [];
  for (const vol of listVolumes(paths)) {
    if (!all && !vol.anonymous) continue;
    if (usersOf(paths, vol.name).length > 0) continue;
    await removeTree(volumeDir(paths, vol.name));
    out.push(vol.name);
  }
  return out;
}

export function inspectVolume(paths: StorePaths, name: string): Record<string, unknown> {
  const rec = readVolume(paths, name);
  if (!rec) throw new Error(`no such volume: ${name}`);
  return {
    Name: rec.name,
    Driver: "local",
    Mountpoint: volumeData(paths, name),
    CreatedAt: rec.created,
    Labels: rec.labels ?? null,
    Scope: "local",
    Options: null,
    Anonymous: rec.anonymous,
  };
}
