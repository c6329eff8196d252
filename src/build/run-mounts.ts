// RUN --mount: what BuildKit's Dockerfile frontend offers for a RUN that needs more than the image.
// type=cache (a directory kept between builds), type=bind (part of the context, or of another stage
// or image, read-only), type=tmpfs, and type=secret (a file given with `hull build --secret`).
// ssh agents have no way in yet.
import { mkdirSync } from "node:fs";
import { join, posix } from "../sys/path";
import * as v from "valibot";
import { sha256 } from "../image/digest";
import type { BuildContext, ContextSource } from "./context";
import { DockerfileError, expand, type Instruction } from "./dockerfile";
import type { Layer, Workspace } from "./workspace";

const Target = v.pipe(v.string(), v.minLength(1, "needs target=PATH"));
const Octal = v.pipe(
  v.string(),
  v.regex(/^[0-7]{3,4}$/, "mode takes octal permissions such as 0755"),
  v.transform((s) => Number.parseInt(s, 8)),
);
const Id = v.pipe(
  v.string(),
  v.regex(/^\d+$/, "uid and gid take numbers"),
  v.transform((s) => Number(s)),
);
const Flag = v.pipe(
  v.picklist(["", "true", "false"], "takes true or false"),
  v.transform((s) => s !== "false"),
);

const CacheMount = v.object({
  type: v.literal("cache"),
  target: Target,
  id: v.optional(v.string()),
  mode: v.optional(Octal, "0755"),
  uid: v.optional(Id, "0"),
  gid: v.optional(Id, "0"),
  readonly: v.optional(Flag, "false"),
  sharing: v.optional(v.picklist(["shared", "private", "locked"], "sharing takes shared, private or locked")),
  // a cache seeded from another stage is not supported: refused below
  from: v.optional(v.string()),
  source: v.optional(v.string()),
});
const BindMount = v.object({
  type: v.literal("bind"),
  target: Target,
  source: v.optional(v.string(), "/"),
  from: v.optional(v.string()),
  readonly: v.optional(Flag, "true"),
});
const TmpfsMount = v.object({
  type: v.literal("tmpfs"),
  target: Target,
  size: v.optional(v.pipe(v.string(), v.regex(/^\d+[kmgKMG]?$/, "size takes a number of bytes, with k, m or g"))),
});
const SecretMount = v.object({
  type: v.literal("secret"),
  id: v.pipe(v.string(), v.minLength(1, "needs id=NAME")),
  target: v.optional(v.string()),
  required: v.optional(Flag, "false"),
  mode: v.optional(Octal, "0400"),
  uid: v.optional(Id, "0"),
  gid: v.optional(Id, "0"),
});
const RunMountSchema = v.variant("type", [CacheMount, BindMount, TmpfsMount, SecretMount]);
export type RunMount = v.InferOutput<typeof RunMountSchema>;

const KEYS: Record<string, string> = {
  type: "type",
  target: "target",
  dst: "target",
  destination: "target",
  source: "source",
  src: "source",
  from: "from",
  id: "id",
  mode: "mode",
  uid: "uid",
  gid: "gid",
  sharing: "sharing",
  size: "size",
  readonly: "readonly",
  ro: "readonly",
  rw: "rw",
  readwrite: "rw",
  required: "required",
};

/** One --mount=SPEC: comma-separated key=value (a bare key is a true flag); type=bind if none. */
export function parseRunMount(spec: string): RunMount {
  const fields: Record<string, string> = {};
  for (const part of spec.split(",")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const rawKey = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? "" : part.slice(eq + 1).trim();
    const key = KEYS[rawKey];
    if (!key) throw new Error(`--mount=${spec}: unknown option ${rawKey}`);
    if (key === "rw") fields.readonly = value === "false" ? "true" : "false";
    else fields[key] = value;
  }
  fields.type ??= "bind";
  if (fields.type === "ssh") throw new Error("--mount=type=ssh is not supported by hull: there is no --ssh yet");
  if (!["cache", "bind", "tmpfs", "secret"].includes(fields.type)) {
    throw new Error(`--mount=${spec}: type takes cache, bind, tmpfs or secret, not ${fields.type}`);
  }
  if (fields.type === "secret") {
    // a secret is found by id, at /run/secrets/ID unless it says where
    if (!fields.id && fields.target) fields.id = fields.target.split("/").at(-1) as string;
  } else if (!fields.target) throw new Error(`--mount=${spec}: needs target=PATH`);
  const r = v.safeParse(RunMountSchema, fields);
  if (!r.success) throw new Error(`--mount=${spec}: ${r.issues[0].message}`);
  const m = r.output;
  if (m.type === "bind" && !m.readonly) {
    throw new Error(`--mount=${spec}: writable bind mounts are not supported by hull; drop rw`);
  }
  if (m.type === "cache" && (m.from || m.source)) {
    throw new Error(`--mount=${spec}: a cache seeded from another stage is not supported by hull`);
  }
  return m;
}

/** `hull build --secret id=ID,src=PATH` or `--secret id=ID,env=VAR`: the secret's id and value. */
export function parseSecretFlag(spec: string, env: NodeJS.ProcessEnv): { id: string; value: Uint8Array } {
  const fields: Record<string, string> = {};
  for (const part of spec.split(",")) {
    const eq = part.indexOf("=");
    if (eq <= 0) throw new Error(`--secret ${spec}: give id=ID,src=FILE or id=ID,env=VARIABLE`);
    fields[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  const id = fields.id;
  const src = fields.src ?? fields.source;
  if (!id) throw new Error(`--secret ${spec}: needs id=ID`);
  if (src) {
    const { readFileSync } = require("node:fs") as typeof import("node:fs");
    try {
      return { id, value: readFileSync(src) };
    } catch (e) {
      throw new Error(`--secret ${spec}: cannot read ${src}: ${(e as Error).message}`);
    }
  }
  const name = fields.env ?? id;
  const value = env[name];
  if (value === undefined) throw new Error(`--secret ${spec}: no file given, and no variable ${name} set`);
  return { id, value: new TextEncoder().encode(value) };
}

export interface MountContext {
  /** the RUN's --mount flags, as written */
  specs: string[];
  ins: Instruction;
  vars: Map<string, string>;
  escape: string;
  /** the step's WORKDIR: relative targets are beneath it */
  workdir: string;
  /** --secret: id -> value */
  secrets: Map<string, Uint8Array>;
  /** where cache mounts live: one directory per id */
  cacheRoot: string;
  ws: Workspace;
  ctx: BuildContext;
  /** a stage built earlier, or an image: for from= */
  image(name: string): Promise<{ id: string; layers: Layer[] }>;
}

export interface PreparedMount {
  target: string;
  /** the mount's part of the step's cache key */
  key: unknown;
  /** made when the step runs (a cache hit needs none of it) */
  prepare(): Promise<{ source: string; readonly: boolean } | { tmpfs: string }>;
}

/**
 * A RUN's mounts: each one's part of the cache key, and how to make its source once the step runs.
 * A cache directory lives in the store until `hull builder prune`; a bind of the context is keyed
 * by the content it shows, one of another stage or image by that image; a secret by its id only.
 */
export async function runMounts(mc: MountContext): Promise<PreparedMount[]> {
  const { ins, ws } = mc;
  const fail = (msg: string) => new DockerfileError(msg, ins.line, 1);
  /** OWNER and MODE on a host path, as root in the user namespace */
  const own = (path: string, uid: number, gid: number, mode: number, what: string) =>
    ws.helper({ root: "/", ops: [{ op: "own", path, owner: { uid, gid }, mode }], lowers: [], stubs: [] }, undefined, what, ins);
  const out: PreparedMount[] = [];
  for (const spec of mc.specs) {
    let m: RunMount;
    try {
      m = parseRunMount(expand(spec, mc.vars, mc.escape));
    } catch (e) {
      throw fail((e as Error).message);
    }
    if (m.type === "secret") {
      const value = mc.secrets.get(m.id);
      if (!value) {
        if (m.required) throw fail(`secret ${m.id} is required: hull build --secret id=${m.id},src=FILE`);
        continue;
      }
      const target = posix.resolve("/run/secrets", m.target ?? m.id);
      const { uid, gid, mode } = m;
      // the key names the secret, never its value: a new token does not rebuild, as with BuildKit
      out.push({
        target,
        key: { type: "secret", id: m.id, target, uid, gid, mode },
        prepare: async () => {
          const file = ws.path("secret");
          await Bun.write(file, value);
          const { chmodSync } = await import("node:fs");
          chmodSync(file, mode);
          if (uid !== 0 || gid !== 0) await own(file, uid, gid, mode, "RUN --mount=type=secret failed");
          return { source: file, readonly: true };
        },
      });
      continue;
    }
    const target = posix.resolve(mc.workdir, m.target);
    if (m.type === "tmpfs") {
      const options = m.size ? `size=${m.size}` : "mode=1777";
      out.push({ target, key: m, prepare: async () => ({ tmpfs: options }) });
    } else if (m.type === "cache") {
      const id = m.id ?? target;
      const dir = join(mc.cacheRoot, "mounts", sha256(id).slice(7, 39));
      const { uid, gid, mode, readonly } = m;
      out.push({
        target,
        key: { ...m, id },
        prepare: async () => {
          mkdirSync(join(dir, ".."), { recursive: true });
          try {
            mkdirSync(dir);
          } catch (e) {
            // made by an earlier build (or one running now): used as it is
            if ((e as NodeJS.ErrnoException).code === "EEXIST") return { source: dir, readonly };
            throw e;
          }
          await own(dir, uid, gid, mode, "RUN --mount=type=cache failed");
          return { source: dir, readonly };
        },
      });
    } else if (m.from) {
      const from = await mc.image(m.from);
      const source = m.source;
      out.push({
        target,
        key: { ...m, from: from.id },
        prepare: async () => {
          const [exported] = await ws.exportFrom(from.layers, [source], ins);
          return { source: (exported as { path: string }).path, readonly: true };
        },
      });
    } else {
      let matched: ContextSource[];
      let content: string;
      try {
        matched = mc.ctx.match(m.source);
        content = mc.ctx.hash(matched);
      } catch (e) {
        throw fail(`--mount source=${m.source}: ${(e as Error).message}`);
      }
      out.push({
        target,
        key: { ...m, content },
        prepare: async () => ({ source: mc.ctx.view(matched[0] as ContextSource, ws.path("bind")), readonly: true }),
      });
    }
  }
  return out;
}
