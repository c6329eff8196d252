// RUN --mount: what BuildKit's Dockerfile frontend offers for a RUN that needs more than the image.
// type=cache (a directory kept between builds), type=bind (part of the context, or of another stage
// or image, read-only), type=tmpfs, and type=secret (a file given with `hull build --secret`).
// ssh agents have no way in yet.
import * as v from "valibot";

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
