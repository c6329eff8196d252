// RUN --mount: what BuildKit's Dockerfile frontend offers for a RUN that needs more than the image.
// type=cache (a directory kept between builds), type=bind (part of the context, or of another stage
// or image, read-only) and type=tmpfs. Secrets and ssh agents have no way in yet.
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
const RunMountSchema = v.variant("type", [CacheMount, BindMount, TmpfsMount]);
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
  if (fields.type === "secret" || fields.type === "ssh") {
    throw new Error(`--mount=type=${fields.type} is not supported by hull: there is no --secret or --ssh yet`);
  }
  if (!["cache", "bind", "tmpfs"].includes(fields.type)) {
    throw new Error(`--mount=${spec}: type takes cache, bind or tmpfs, not ${fields.type}`);
  }
  if (!fields.target) throw new Error(`--mount=${spec}: needs target=PATH`);
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
