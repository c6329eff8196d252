// Reading the records of the containers in the store. (Their lifecycle commands come with the
// containers issue; images need to know which of them are in use.)
import { readdirSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import type { StorePaths } from "../store/paths";
import { readFileText } from "../sys/libc";

export const ContainerRecordSchema = v.object({
  id: v.pipe(v.string(), v.regex(/^[a-f0-9]{64}$/)),
  image: v.string(),
  imageId: v.optional(v.string()),
  command: v.array(v.string()),
  created: v.string(),
  rm: v.boolean(),
});
export type ContainerRecord = v.InferOutput<typeof ContainerRecordSchema>;

export function listContainers(paths: StorePaths): ContainerRecord[] {
  let ids: string[];
  try {
    ids = readdirSync(paths.containers);
  } catch {
    return [];
  }
  const out: ContainerRecord[] = [];
  for (const id of ids) {
    const text = readFileText(join(paths.containers, id, "container.json"));
    if (text === undefined) continue;
    const r = v.safeParse(ContainerRecordSchema, JSON.parse(text));
    if (r.success) out.push(r.output);
  }
  return out;
}
