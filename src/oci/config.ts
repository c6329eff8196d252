// An OCI bundle's config.json (runtime-spec 1.x), parsed by a schema that knows each field hull
// carries out. A field of runtime-spec that hull does not carry out is refused by its JSON path
// (`linux.intelRdt`), so a bundle never runs with less isolation than it asked for. A property the
// spec does not define is ignored, as the spec says a runtime MUST, and named in the --log.
import * as v from "valibot";

const absolute = (what: string) =>
  v.pipe(
    v.string(),
    v.check((p) => p.startsWith("/"), `${what} must be an absolute path`),
  );
const u32 = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(0xffffffff));
/** a uid or gid: (uid_t)-1 means "no change" to setresuid, so the container would stay root */
const id = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(0xfffffffe, "an id is at most 4294967294"));

/** a field of runtime-spec that hull does not carry out: refused whenever it is there */
const unsupported = (why = "not supported by hull (refused rather than ignored)") =>
  v.optional(v.custom<never>(() => false, why));

/** a field hull refuses unless it is empty: an AppArmor profile, an SELinux label */
const emptyOnly = (why: string) =>
  v.optional(
    v.pipe(
      v.string(),
      v.check((s) => s === "", why),
    ),
  );

const Capabilities = v.looseObject({
  bounding: v.optional(v.array(v.string())),
  effective: v.optional(v.array(v.string())),
  inheritable: v.optional(v.array(v.string())),
  permitted: v.optional(v.array(v.string())),
  ambient: v.optional(v.array(v.string())),
});

export const ProcessSchema = v.looseObject({
  terminal: v.optional(v.boolean()),
  consoleSize: v.optional(v.looseObject({ height: u32, width: u32 })),
  user: v.looseObject({
    uid: id,
    gid: id,
    additionalGids: v.optional(v.array(id)),
    umask: v.optional(v.pipe(u32, v.maxValue(0o777))),
  }),
  args: v.pipe(v.array(v.string()), v.minLength(1, "process.args needs at least the command")),
  env: v.optional(v.array(v.string())),
  cwd: absolute("process.cwd"),
  capabilities: v.optional(Capabilities),
  rlimits: v.optional(
    v.array(
      v.looseObject({
        type: v.pipe(v.string(), v.regex(/^RLIMIT_[A-Z]+$/, "an rlimit type is RLIMIT_NAME")),
        hard: v.pipe(v.number(), v.integer(), v.minValue(0)),
        soft: v.pipe(v.number(), v.integer(), v.minValue(0)),
      }),
    ),
  ),
  noNewPrivileges: v.optional(v.boolean()),
  oomScoreAdj: v.optional(v.pipe(v.number(), v.integer(), v.minValue(-1000), v.maxValue(1000))),
  apparmorProfile: emptyOnly("hull loads no AppArmor profile of a bundle's: leave it empty"),
  selinuxLabel: emptyOnly("hull sets no SELinux label: leave it empty"),
  ioPriority: unsupported(),
  scheduler: unsupported(),
  execCPUAffinity: unsupported(),
});

const Mount = v.looseObject({
  destination: absolute("a mount's destination"),
  type: v.optional(v.string()),
  source: v.optional(v.string()),
  options: v.optional(v.array(v.string())),
  uidMappings: unsupported("id-mapped mounts are not supported by hull"),
  gidMappings: unsupported("id-mapped mounts are not supported by hull"),
});

const IdMap = v.looseObject({ containerID: u32, hostID: u32, size: v.pipe(u32, v.minValue(1)) });
/** hull writes at most 20 extents (newuidmap's arguments; the kernel takes 340) */
const IdMaps = v.pipe(v.array(IdMap), v.maxLength(20, "at most 20 extents"));

export const NAMESPACES = ["pid", "network", "mount", "ipc", "uts", "user", "cgroup"] as const;

/** the namespaces hull joins by path (podman gives its network namespace so); the others it makes */
export const JOINABLE = ["network", "ipc", "uts"];

const Namespace = v.pipe(
  v.looseObject({
    type: v.picklist(NAMESPACES, `a namespace type is one of ${NAMESPACES.join(", ")} (time is not supported)`),
    path: v.optional(v.string()),
  }),
  v.forward(
    v.check((n) => !n.path || JOINABLE.includes(n.type), `hull joins only ${JOINABLE.join(", ")} namespaces by path`),
    ["path"],
  ),
);

const Device = v.looseObject({
  path: absolute("a device's path"),
  type: v.picklist(["c", "b", "u", "p"]),
  major: v.optional(v.number()),
  minor: v.optional(v.number()),
  fileMode: v.optional(v.number()),
  uid: v.optional(u32),
  gid: v.optional(u32),
});

const i64 = v.pipe(v.number(), v.integer());
const u64 = v.pipe(v.number(), v.integer(), v.minValue(0));

/**
 * linux.resources: the limits hull run's flags give, in the cgroup v2 subtree delegated to the user
 * (src/runtime/cgroup.ts); device rules only that deny (nothing rootless can enforce an allow list,
 * and without a device cgroup a deny is what a user namespace gives anyway). What cgroup v2 has no
 * file for, or hull no code for, is refused.
 */
const Resources = v.looseObject({
  memory: v.optional(
    v.looseObject({
      limit: v.optional(i64),
      reservation: v.optional(i64),
      swap: v.optional(i64),
      kernel: unsupported("memory.kernel has no cgroup v2 file"),
      kernelTCP: unsupported("memory.kernelTCP has no cgroup v2 file"),
      swappiness: unsupported("memory.swappiness has no cgroup v2 file"),
      disableOOMKiller: unsupported(),
      useHierarchy: unsupported(),
      checkBeforeUpdate: unsupported(),
    }),
  ),
  cpu: v.optional(
    v.looseObject({
      shares: v.optional(u64),
      quota: v.optional(i64),
      period: v.optional(u64),
      cpus: v.optional(v.string()),
      mems: v.optional(v.string()),
      realtimeRuntime: unsupported("cpu.realtimeRuntime has no cgroup v2 file"),
      realtimePeriod: unsupported("cpu.realtimePeriod has no cgroup v2 file"),
      burst: unsupported(),
      idle: unsupported(),
    }),
  ),
  pids: v.optional(v.looseObject({ limit: i64 })),
  blockIO: v.optional(
    v.looseObject({
      weight: v.optional(v.pipe(u64, v.minValue(10), v.maxValue(1000))),
      leafWeight: unsupported(),
      weightDevice: unsupported(),
      throttleReadBpsDevice: unsupported(),
      throttleWriteBpsDevice: unsupported(),
      throttleReadIOPSDevice: unsupported(),
      throttleWriteIOPSDevice: unsupported(),
    }),
  ),
  unified: v.optional(v.record(v.string(), v.string())),
  hugepageLimits: unsupported(),
  network: unsupported(),
  rdma: unsupported(),
  devices: v.optional(
    v.array(
      v.looseObject({
        allow: v.literal(false, "an allowing device rule cannot be enforced rootless (no device cgroup)"),
        type: v.optional(v.string()),
        major: v.optional(v.nullable(v.number())),
        minor: v.optional(v.nullable(v.number())),
        access: v.optional(v.string()),
      }),
    ),
  ),
});

const Linux = v.looseObject({
  uidMappings: v.optional(IdMaps),
  gidMappings: v.optional(IdMaps),
  sysctl: v.optional(v.record(v.string(), v.string())),
  resources: v.optional(Resources),
  // where a runtime with cgroups would put the container; hull makes no cgroup for a bundle (there
  // are no limits to put in it), as rootless runc and crun do without a delegated subtree
  cgroupsPath: v.optional(v.string()),
  namespaces: v.optional(v.array(Namespace)),
  devices: v.optional(v.array(Device)),
  seccomp: v.optional(v.looseObject({ defaultAction: v.string() })),
  rootfsPropagation: v.optional(
    v.picklist(
      ["private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable", ""],
      "rootfsPropagation is one of private, shared, slave, unbindable (r- forms too)",
    ),
  ),
  maskedPaths: v.optional(v.array(absolute("a masked path"))),
  readonlyPaths: v.optional(v.array(absolute("a read-only path"))),
  mountLabel: emptyOnly("hull sets no SELinux mount label: leave it empty"),
  intelRdt: unsupported(),
  personality: unsupported(),
  timeOffsets: unsupported(),
  memoryPolicy: unsupported(),
  netDevices: unsupported(),
});

const Hook = v.looseObject({
  path: absolute("a hook's path"),
  args: v.optional(v.array(v.string())),
  env: v.optional(v.array(v.string())),
  timeout: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1, "a hook's timeout is at least 1 s"))),
});
const hooks = v.optional(v.array(Hook));

export const OciConfigSchema = v.looseObject({
  ociVersion: v.pipe(v.string(), v.regex(/^1\.\d+\.\d+/, "hull runs runtime-spec 1.x bundles")),
  process: v.optional(ProcessSchema),
  root: v.looseObject({ path: v.string(), readonly: v.optional(v.boolean()) }),
  hostname: v.optional(v.string()),
  domainname: v.optional(v.string()),
  mounts: v.optional(v.array(Mount)),
  hooks: v.optional(
    v.looseObject({
      prestart: hooks,
      createRuntime: hooks,
      createContainer: hooks,
      startContainer: hooks,
      poststart: hooks,
      poststop: hooks,
    }),
  ),
  annotations: v.optional(v.record(v.string(), v.string())),
  linux: v.optional(Linux),
});

export type OciConfig = v.InferOutput<typeof OciConfigSchema>;
export type OciMount = v.InferOutput<typeof Mount>;
export type OciProcess = v.InferOutput<typeof ProcessSchema>;
export type OciHook = v.InferOutput<typeof Hook>;
export type OciIdMap = v.InferOutput<typeof IdMap>;

/** `process.args[0]`, `linux.namespaces[2].path`: where in config.json an issue is. */
export function jsonPath(issue: v.BaseIssue<unknown>): string {
  let out = "";
  for (const item of issue.path ?? []) {
    const key = (item as { key: unknown }).key;
    out += typeof key === "number" ? `[${key}]` : `${out ? "." : ""}${String(key)}`;
  }
  return out || "(the top)";
}

/** Where VALUE has properties SCHEMA does not define (runtime-spec's extensibility: ignored). */
function unknownKeys(schema: unknown, value: unknown, path: string, out: string[]): void {
  let s = schema as { type: string; wrapped?: unknown; entries?: Record<string, unknown>; item?: unknown };
  while (s.type === "optional" || s.type === "nullable") s = s.wrapped as typeof s;
  if (s.entries && value && typeof value === "object" && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) {
      const at = path ? `${path}.${k}` : k;
      if (k in s.entries) unknownKeys(s.entries[k], v, at, out);
      else out.push(at);
    }
  } else if (s.type === "array" && Array.isArray(value)) {
    for (const [i, item] of value.entries()) unknownKeys(s.item, item, `${path}[${i}]`, out);
  }
}

/** The properties of a parsed bundle's config that runtime-spec does not define (for the --log). */
export function unknownProperties(text: string): string[] {
  const out: string[] = [];
  unknownKeys(OciConfigSchema, JSON.parse(text), "", out);
  return out;
}

/** The config of TEXT, or an error naming the first field that is wrong or that hull does not carry out. */
export function parseOciConfig(text: string, file = "config.json"): OciConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not JSON (${(e as Error).message})`);
  }
  const r = v.safeParse(OciConfigSchema, raw);
  if (r.success) return r.output;
  const issue = r.issues[0];
  return fail(`${file}: ${jsonPath(issue)}: ${issue.message}`);
}

function fail(message: string): never {
  throw new Error(message);
}
