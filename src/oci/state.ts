// The containers of `hull oci`: a directory each under the runtime root (--root), holding what
// create recorded (oci.json) and what the shim writes as the container runs (init.pid,
// supervisor.pid, exit.json, start.fifo while it waits for `start`).
import { readdirSync } from "node:fs";
import { join } from "../sys/path";
import * as v from "valibot";
import { lazily } from "../sys/lazy-schema";
import { privateRuntimeDir } from "../runtime/runtime-dir";
import { processStart, readOwnerFile } from "../store/owner";
import { accessible, F_OK, readFileText } from "../sys/libc";
import { type OciConfig, parseOciConfig } from "./config";

export const OCI_VERSION = "1.0.2";

/** runc's rule for an id: it names a directory, so no slash and no dot-only name */
export const IdSchema = lazily(() =>
  v.pipe(
    v.string(),
    v.regex(/^[\w+.-]+$/, "a container id takes letters, digits and _ + . - only"),
    v.check((s) => s !== "." && s !== "..", "a container id is not . or .."),
    // it names a directory: a file name is at most 255 bytes
    v.maxLength(200, "a container id is at most 200 characters"),
  ),
);

const RecordSchema = lazily(() =>
  v.object({
    id: v.string(),
    bundle: v.string(),
    rootfs: v.string(),
    created: v.string(),
    annotations: v.optional(v.record(v.string(), v.string())),
  }),
);
export type OciRecord = v.InferOutput<typeof RecordSchema>;

export type OciStatus = "creating" | "created" | "running" | "stopped";

/** --root, else the user's runtime directory's hull-oci (runc's rootless default is its runc). */
export function ociRoot(given: string | undefined): string {
  return given ?? join(privateRuntimeDir().dir, "hull-oci");
}

export const stateDir = (root: string, id: string) => join(root, id);

export function checkId(id: string | undefined): string {
  if (id === undefined) throw new Error("a container id is needed");
  const r = v.safeParse(IdSchema, id);
  if (!r.success) throw new Error(`${JSON.stringify(id)}: ${r.issues[0].message}`);
  return r.output;
}

export function readOciRecord(root: string, id: string): OciRecord {
  const text = readFileText(join(stateDir(root, checkId(id)), "oci.json"));
  if (text === undefined) throw new Error(`container ${id} does not exist`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {}
  const r = v.safeParse(RecordSchema, json);
  if (!r.success) throw new Error(`container ${id}: its state (oci.json) is damaged: hull oci delete --force ${id}`);
  return r.output;
}

function livePid(dir: string, name: string): number | undefined {
  const f = readOwnerFile(join(dir, name));
  return f && processStart(f.pid) === f.start ? f.pid : undefined;
}

/** What runtime-spec's state says of the container, and its pid 1 as the host sees it (0 once stopped). */
export function ociStatus(root: string, id: string): { status: OciStatus; pid: number } {
  const dir = stateDir(root, id);
  const init = livePid(dir, "init.pid");
  if (init !== undefined)
    return { status: accessible(join(dir, "start.fifo"), F_OK) ? "created" : "running", pid: init };
  // the process that makes it is there and the container not yet: it is being made (or setup failed,
  // and that process is on its way out)
  if (livePid(dir, "creator.pid") !== undefined && readFileText(join(dir, "exit.json")) === undefined)
    return { status: "creating", pid: 0 };
  return { status: "stopped", pid: 0 };
}

/** runtime-spec's state of the container, as `runc state` prints it. */
export function ociState(root: string, id: string): Record<string, unknown> {
  const rec = readOciRecord(root, id);
  const { status, pid } = ociStatus(root, id);
  return {
    ociVersion: OCI_VERSION,
    id: rec.id,
    pid,
    status,
    bundle: rec.bundle,
    rootfs: rec.rootfs,
    created: rec.created,
    owner: "",
    ...(rec.annotations && Object.keys(rec.annotations).length > 0 ? { annotations: rec.annotations } : {}),
  };
}

/** The config container ID was made with (kept in its state directory), or undefined when it is not there. */
export function madeWith(root: string, id: string): OciConfig | undefined {
  const text = readFileText(join(stateDir(root, id), "config.json"));
  return text === undefined ? undefined : parseOciConfig(text);
}

export function listIds(root: string): string[] {
  try {
    return readdirSync(root)
      .filter((id) => readFileText(join(root, id, "oci.json")) !== undefined)
      .sort();
  } catch {
    return [];
  }
}
