// `hull system check [--repair]`: the store read as a whole, every record against what it points to.
// Damage comes from outside hull (a full disk, a hand edit, a crash of the machine below an fsync) or
// from an older hull; a killed hull leaves only temp entries, which the next command sweeps anyway.
// Repair removes what cannot be used and says so; it never guesses at content it cannot check.
import { linkSync, lstatSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { join } from "../sys/path";
import * as v from "valibot";
import { ContainerRecordSchema, containerDir, pidFile, processStart } from "../container/records";
import { removeTree } from "../image/layers";
import { VOLUME_NAME, type VolumeRecord, VolumeRecordSchema } from "../container/volumes";
import { ImageRecordSchema, ImageStore, TagIndexSchema } from "../image/store";
import { BUILTIN_NETWORKS, NETWORK_NAME, NetworkRecordSchema, networksDir, withNetworksLock } from "../network/records";
import { overlaps, parseSubnet } from "../network/subnet";
import { writeFileAtomic } from "../store/atomic";
import { withLock } from "../store/lock";
import type { StorePaths } from "../store/paths";
import { staleTmpEntries } from "../store/tmp";

export interface Problem {
  /**
   * damaged: a record that is not whole, or names what is not there (the store is corrupt);
   * leftover: what an interrupted hull left (a temp entry, a half-removed container, a name of no
   * container), which changes nothing that works and is removed safely
   */
  kind: "damaged" | "leftover";
  /** the store path, relative to its root */
  path: string;
  what: string;
  /** what --repair did, or would do; undefined when it is left to the user */
  repair?: string;
  repaired?: boolean;
}

const HEX64 = /^[a-f0-9]{64}$/;
/** writeFileAtomic's temp names; one older than this belongs to no live writer */
const ATOMIC_TMP = /^\.tmp-[0-9a-f]{12}$/;
const TMP_AGE_MS = 60_000;

const list = (dir: string): string[] => {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
};

/** PATH's JSON; what is wrong in words, and for a file that could not be read, the errno's name */
const parseJson = (path: string): { ok: true; value: unknown } | { ok: false; why: string; code?: string } => {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { ok: false, why: `unreadable (${code})`, code };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, why: "not JSON" };
  }
};

/** PATH is a regular file itself, not a link to one */
const isRealFile = (path: string): boolean => lstatOf(path)?.isFile() === true;

/** Two subnets ("10.89.1.0/24") share addresses; a subnet that does not parse shares none. */
function subnetsOverlap(a: string, b: string): boolean {
  try {
    return overlaps(parseSubnet(a), parseSubnet(b));
  } catch {
    return false;
  }
}

/** PATH is a directory itself, not a link to one */
const isRealDir = (path: string): boolean => lstatOf(path)?.isDirectory() === true;

/** what is at PATH itself (a link is a link), or undefined when nothing is */
function lstatOf(path: string): ReturnType<typeof lstatSync> | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/** something is at PATH (a link counts, whatever it points at) */
const exists = (path: string): boolean => lstatOf(path) !== undefined;

async function sha256File(path: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of Bun.file(path).stream()) hasher.update(chunk);
  return hasher.digest("hex");
}

export async function checkStore(paths: StorePaths, repair: boolean): Promise<Problem[]> {
  const store = new ImageStore(paths);
  // exclusive: no pull, load or garbage collection changes the store while it is read. The lock is
  // taken bare, not through contentLock, which would sweep tmp/ first: without --repair, nothing changes.
  return withLock(join(paths.root, "locks", "content.lock"), () => checkLocked(paths, store, repair));
}

async function checkLocked(paths: StorePaths, store: ImageStore, repair: boolean): Promise<Problem[]> {
  const root = paths.root;
  const problems: Problem[] = [];
  const rel = (p: string) => p.slice(root.length + 1);
  const fixes: Array<{ index: number; fix: () => Promise<void> | void }> = [];
  /** a problem at PATH; with FIX, what --repair does about it (REPAIR says it in words) */
  const problem = (
    kind: Problem["kind"],
    path: string,
    what: string,
    repair?: string,
    fix?: () => Promise<void> | void,
  ) => {
    problems.push({ kind, path: rel(path), what, repair });
    if (fix) fixes.push({ index: problems.length - 1, fix });
  };
  const removeFile = (p: string) => () => rmSync(p, { force: true, recursive: true });

  // blobs: each must hash to its name
  const blobDir = join(root, "blobs", "sha256");
  const blobs = new Set<string>();
  for (const name of list(blobDir)) {
    const p = join(blobDir, name);
    if (!HEX64.test(name)) {
      problem("leftover", p, "not a blob name", "removed", removeFile(p));
      continue;
    }
    const got = await sha256File(p).catch(() => "unreadable");
    if (got !== name)
      problem("damaged", p, `content hashes to ${got}`, "removed (pull the image again)", removeFile(p));
    else blobs.add(`sha256:${name}`);
  }

  // layers: unpacked directories by diff id
  const layers = new Set<string>();
  for (const name of list(paths.layers)) {
    const p = join(paths.layers, name);
    if (HEX64.test(name) && lstatSync(p).isDirectory()) layers.add(`sha256:${name}`);
    else problem("leftover", p, "not an unpacked layer", "removed", () => removeTree(p));
  }

  // image records: whole, and all they name present
  const imagesDir = join(root, "images");
  const images = new Set<string>();
  for (const name of list(imagesDir)) {
    const p = join(imagesDir, name);
    if (ATOMIC_TMP.test(name)) {
      if (Date.now() - lstatSync(p).mtimeMs > TMP_AGE_MS)
        problem("leftover", p, "a temp file a killed hull left", "removed", removeFile(p));
      continue;
    }
    const parsed = parseJson(p);
    const r = parsed.ok ? v.safeParse(ImageRecordSchema, parsed.value) : undefined;
    if (!parsed.ok || !r?.success) {
      problem(
        "damaged",
        p,
        `damaged image record: ${parsed.ok ? "not an image record" : parsed.why}`,
        "removed",
        removeFile(p),
      );
      continue;
    }
    const rec = r.output;
    const missing = [
      ...(blobs.has(rec.id) ? [] : [`config ${rec.id.slice(7, 19)}`]),
      ...rec.layers.filter((l) => !layers.has(l.diffId)).map((l) => `layer ${l.diffId.slice(7, 19)}`),
      // save and push need the blobs as well as the unpacked layers
      ...rec.layers.filter((l) => !blobs.has(l.digest)).map((l) => `blob ${l.digest.slice(7, 19)}`),
    ];
    if (`${rec.id.slice(7)}.json` !== name)
      problem("damaged", p, `holds image ${rec.id}, not the one its name says`, "removed", removeFile(p));
    else if (missing.length > 0)
      problem(
        "damaged",
        p,
        `image ${rec.id.slice(7, 19)} misses its ${missing.join(", ")}`,
        "removed (pull or build it again)",
        removeFile(p),
      );
    else images.add(rec.id);
  }

  // tags: the index whole, every tag naming an image that is there
  const indexPath = join(root, "repositories.json");
  const index = parseJson(indexPath);
  if (list(root).includes("repositories.json")) {
    const r = index.ok ? v.safeParse(TagIndexSchema, index.value) : undefined;
    if (!index.ok || !r?.success) {
      const aside = `${indexPath}.damaged-${Date.now()}`;
      problem(
        "damaged",
        indexPath,
        `damaged tag index: ${index.ok ? "not a tag index" : index.why}`,
        `moved to ${rel(aside)}; tags start empty`,
        () => {
          const { renameSync } = require("node:fs") as typeof import("node:fs");
          renameSync(indexPath, aside);
          writeFileAtomic(indexPath, `${JSON.stringify({ tags: {}, digests: {} }, null, 2)}\n`);
        },
      );
    } else {
      const dangling = [
        ...Object.entries(r.output.tags)
          .filter(([, id]) => !images.has(id))
          .map(([t]) => ["tags", t] as const),
        ...Object.entries(r.output.digests)
          .filter(([, id]) => !images.has(id))
          .map(([t]) => ["digests", t] as const),
      ];
      if (dangling.length > 0)
        problem(
          "damaged",
          indexPath,
          `${dangling.length} tag(s) name no image: ${dangling
            .slice(0, 3)
            .map(([, t]) => t)
            .join(", ")}`,
          "untagged",
          () =>
            store.editTags((idx) => {
              for (const [kind, t] of dangling) delete idx[kind][t];
            }),
        );
    }
  }

  // containers: whole records; names that point at them
  const containers = new Set<string>();
  for (const id of list(paths.containers)) {
    const dir = containerDir(paths, id);
    const parsed = parseJson(join(dir, "container.json"));
    const r = parsed.ok ? v.safeParse(ContainerRecordSchema, parsed.value) : undefined;
    if (parsed.ok && r?.success && r.output.id === id) {
      containers.add(id);
      continue;
    }
    const live = ["supervisor.pid", "init.pid"].some((f) => {
      const pf = pidFile(paths, id, f);
      return pf && processStart(pf.pid) === pf.start;
    });
    // no record at all: a create or a removal that was interrupted; a record that is not whole: damage
    const kind = !parsed.ok && parsed.code === "ENOENT" ? "leftover" : "damaged";
    const why =
      kind === "leftover"
        ? "a container directory without its record (an interrupted create or removal)"
        : `damaged container record: ${parsed.ok ? "not a container record" : parsed.why}`;
    if (live) problem(kind, dir, `${why}; its processes still run (hull stop cannot find it: kill them, then repair)`);
    else problem(kind, dir, why, "removed, with its writable layer", () => removeTree(dir));
  }
  const namesDir = join(root, "names");
  for (const name of list(namesDir)) {
    const p = join(namesDir, name);
    let target = "";
    try {
      target = readlinkSync(p);
    } catch {}
    if (!containers.has(target))
      problem("leftover", p, `the name ${name} names no container`, "released", removeFile(p));
  }

  // networks: NAME.json, whole and naming itself
  const netDir = networksDir(paths);
  // the whole records under their own names (a damaged one is said below, not thrown here)
  const records = list(netDir).flatMap((file) => {
    if (!file.endsWith(".json") || file.startsWith(".")) return [];
    const parsed = parseJson(join(netDir, file));
    const r = parsed.ok ? v.safeParse(NetworkRecordSchema, parsed.value) : undefined;
    return r?.success && `${r.output.name}.json` === file ? [r.output] : [];
  });
  for (const file of list(netDir)) {
    if (!file.endsWith(".json") || file.startsWith(".")) continue;
    const p = join(netDir, file);
    const name = file.slice(0, -5);
    const parsed = parseJson(p);
    // a record this process cannot read may be whole: said, never removed
    if (!parsed.ok && parsed.code !== undefined) {
      problem("damaged", p, `network record ${parsed.why}: see to its permissions`);
      continue;
    }
    const r = parsed.ok ? v.safeParse(NetworkRecordSchema, parsed.value) : undefined;
    // a whole record under another file name (a `mv` by hand): its subnet and labels are kept, under
    // its own name when that is free; beside a record of that name it is only said
    if (
      r?.success &&
      r.output.name !== name &&
      NETWORK_NAME.test(r.output.name) &&
      !BUILTIN_NETWORKS.includes(r.output.name)
    ) {
      const rec = r.output;
      const own = join(netDir, `${rec.name}.json`);
      const what = `a record of network ${JSON.stringify(rec.name)} under another name`;
      // a network made since with the same subnet (network create does not see this record)
      const clash = records.find((n) => n.name !== rec.name && subnetsOverlap(n.subnet, rec.subnet));
      if (!isRealFile(p)) problem("leftover", p, `${what}, and not a file (a link?): hull never made it`);
      else if (exists(own)) problem("leftover", p, `${what}, beside its own record (remove the copy if it is one)`);
      else if (clash)
        problem(
          "damaged",
          p,
          `${what}; its subnet ${rec.subnet} is network ${clash.name}'s now: remove one of them by hand`,
        );
      else
        problem("damaged", p, what, `renamed to networks/${rec.name}.json`, () =>
          // under the networks lock, and link then unlink: a record made meanwhile under that name
          // is not replaced (EEXIST)
          withNetworksLock(paths, () => {
            linkSync(p, own);
            rmSync(p);
          }),
        );
      continue;
    }
    const why = !parsed.ok
      ? parsed.why
      : !r?.success
        ? "not a network record"
        : r.output.name !== name || !NETWORK_NAME.test(name)
          ? `it names network ${JSON.stringify(r.output.name)}`
          : undefined;
    if (why)
      problem(
        "damaged",
        p,
        `damaged network record: ${why}`,
        `removed (hull network create ${NETWORK_NAME.test(name) ? name : "NAME"} makes it again)`,
        removeFile(p),
      );
  }

  // volumes: a record beside each volume's data; the data is never touched
  const volumesDir = join(root, "volumes");
  for (const name of list(volumesDir)) {
    const dir = join(volumesDir, name);
    if (!VOLUME_NAME.test(name)) {
      problem("leftover", dir, "not a volume name: hull never made it (remove it if it is not yours)");
      continue;
    }
    // only a real directory is a volume: a repair through a link would write where it points
    if (!isRealDir(dir)) {
      problem("leftover", dir, "not a directory (a link or a file): hull never made it (remove it if it is not yours)");
      continue;
    }
    // its data a real directory too: a link there would be mounted, wherever it points
    if (!isRealDir(join(dir, "_data"))) {
      problem("damaged", join(dir, "_data"), "not a directory (a link, a file, or missing): hull never made it so");
      continue;
    }
    const p = join(dir, "volume.json");
    const parsed = parseJson(p);
    // a record this process cannot read (or a directory in its place) may be whole: said, not rewritten
    if (!parsed.ok && parsed.code !== undefined && parsed.code !== "ENOENT") {
      problem("damaged", p, `volume record ${parsed.why}: see to its permissions`);
      continue;
    }
    const r = parsed.ok ? v.safeParse(VolumeRecordSchema, parsed.value) : undefined;
    if (parsed.ok && r?.success && r.output.name === name) continue;
    const missing = !parsed.ok && parsed.code === "ENOENT";
    const why = missing
      ? "a volume without its record (an interrupted create)"
      : `damaged volume record: ${parsed.ok ? "not a volume record" : parsed.why}`;
    problem(missing ? "leftover" : "damaged", p, why, "record written again; its data kept", () => {
      const rec: VolumeRecord = { name, created: new Date().toISOString(), anonymous: false };
      writeFileAtomic(p, `${JSON.stringify(rec)}\n`);
    });
  }

  // tmp: what killed hulls left
  for (const p of staleTmpEntries(paths))
    problem("leftover", p, "left half-written by a hull that is gone", "removed", () => removeTree(p));

  if (repair) {
    for (const { index, fix } of fixes) {
      try {
        await fix();
        (problems[index] as Problem).repaired = true;
      } catch (e) {
        (problems[index] as Problem).repair = `could not repair: ${(e as Error).message}`;
      }
    }
  }
  return problems;
}
