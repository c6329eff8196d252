// From a name the user gives to an image in the store: tags and digests by their normalised
// reference, image ids by prefix. The embedded busybox enters the store as an ordinary image the
// first time it is asked for, so `hull run busybox` works offline.
import { type ImageConfig, parseImageConfig } from "./config";
import { isEmbedded } from "./embedded";
import { nameCandidates, parseReference } from "./reference";
import type { ImageRecord, ImageStore } from "./store";
import { readFileText } from "../sys/libc";

export interface FoundImage {
  record: ImageRecord;
  config: ImageConfig;
  /** the full name it was found by (a short name's registry resolved); absent when found by id */
  reference?: string;
}

export function findImage(store: ImageStore, name: string): FoundImage | undefined {
  const index = store.readableTags();
  let id: string | undefined;
  let reference: string | undefined;
  if (/^(sha256:)?[a-f0-9]{4,64}$/.test(name)) {
    const hex = name.replace(/^sha256:/, "");
    const ids = new Set(
      [...Object.values(index.tags), ...Object.values(index.digests)].filter((i) => i.slice(7).startsWith(hex)),
    );
    // an image nothing tags (a build without -t) is still found by its id
    if (ids.size === 0) for (const r of store.images()) if (r.id.slice(7).startsWith(hex)) ids.add(r.id);
    if (ids.size > 1) throw new Error(`image id prefix ${name} is ambiguous: give more digits`);
    id = [...ids][0];
  }
  // a short name: the first of its registries (the config's registries.search) that has it here
  for (const candidate of id ? [] : nameCandidates(name)) {
    const ref = parseReference(candidate);
    id = ref.digest
      ? index.digests[`${ref.domain}/${ref.path}@${ref.digest}`]
      : index.tags[`${ref.domain}/${ref.path}:${ref.tag}`];
    if (id) {
      reference = candidate;
      break;
    }
  }
  if (!id) return undefined;
  const record = store.image(id);
  if (!record) return undefined;
  const text = readFileText(store.blobPath(record.id));
  if (text === undefined) throw new Error(`image ${name}: its config blob ${record.id} is missing from the store`);
  return { record, config: parseImageConfig(text, name), ...(reference ? { reference } : {}) };
}

export async function findOrSeed(store: ImageStore, name: string): Promise<FoundImage | undefined> {
  const found = findImage(store, name);
  if (found) return found;
  if (!isEmbedded(name)) return undefined;
  // loaded only on first use, so a warm `hull run` does not pay for it
  const { seedEmbedded } = await import("./seed");
  return seedEmbedded(store);
}
