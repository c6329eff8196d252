// The validated shape of `hull run`'s options: every CLI value passes through this schema.
import * as v from "valibot";
import { lazily } from "../sys/lazy-schema";
import { reservedKey } from "./labels";
import { ABI } from "../runtime/abi";
import { NAME_RE } from "./names";

const absolutePath = (what: string) =>
  v.pipe(
    v.string(),
    v.check((s) => s.startsWith("/"), `${what} must be an absolute path`),
  );

export const RunOptionsSchema = lazily(() =>
  v.object({
    rm: v.boolean(),
    interactive: v.boolean(),
    tty: v.boolean(),
    init: v.boolean(),
    readOnly: v.boolean(),
    ipc: v.optional(
      v.picklist(
        ["private", "shareable"],
        "--ipc takes private or shareable (the container's own IPC namespace): sharing another container's or the host's is not supported yet",
      ),
    ),
    detach: v.boolean(),
    env: v.array(
      v.pipe(
        v.string(),
        v.regex(/^[^=\s][^=]*(=.*)?$/s, (i) => `-e ${JSON.stringify(i.input)}: takes KEY=VALUE or KEY`),
      ),
    ),
    envFiles: v.array(v.string()),
    workdir: v.optional(absolutePath("the working directory (-w)")),
    user: v.optional(
      v.pipe(
        v.string(),
        v.regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*(:[A-Za-z0-9_][A-Za-z0-9_.-]*)?$/, "-u takes UID[:GID] or NAME[:GROUP]"),
      ),
    ),
    hostname: v.optional(
      v.pipe(
        v.string(),
        v.regex(/^[A-Za-z0-9]([A-Za-z0-9.-]{0,62})$/, "--hostname takes letters, digits, dots and dashes (at most 63)"),
      ),
    ),
    domainname: v.optional(
      v.pipe(
        v.string(),
        v.regex(
          /^[A-Za-z0-9]([A-Za-z0-9.-]{0,62})$/,
          "--domainname takes letters, digits, dots and dashes (at most 63)",
        ),
      ),
    ),
    groupAdd: v.optional(
      v.array(
        v.pipe(v.string(), v.regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/, "--group-add takes a group's name or number")),
      ),
      [],
    ),
    devices: v.optional(v.array(v.string()), []),
    sysctls: v.optional(v.array(v.string()), []),
    entrypoint: v.optional(v.string()),
    volumes: v.array(v.string()),
    mounts: v.array(v.string()),
    volumesFrom: v.array(v.pipe(v.string(), v.regex(/^[^:]+(:(ro|rw))?$/, "--volumes-from takes CONTAINER[:ro|:rw]"))),
    tmpfs: v.array(v.string()),
    attach: v.array(v.picklist(["stdin", "stdout", "stderr"], "-a takes stdin, stdout or stderr")),
    /** undefined: the default (src/network/mode.ts) */
    network: v.optional(v.string()),
    /** --network-alias and --ip: names and an address on the user network */
    networkAliases: v.optional(v.array(v.string()), []),
    ip: v.optional(v.string()),
    publish: v.optional(v.array(v.string()), []),
    publishAll: v.optional(v.boolean(), false),
    expose: v.optional(v.array(v.string()), []),
    dns: v.optional(v.array(v.string()), []),
    dnsSearch: v.optional(v.array(v.string()), []),
    dnsOption: v.optional(v.array(v.string()), []),
    addHost: v.optional(v.array(v.string()), []),
    rootfs: v.optional(v.string()),
    image: v.optional(v.string()),
    command: v.array(v.string()),
    root: v.optional(v.string()),
    pull: v.picklist(["missing", "always", "never"], "--pull takes missing, always or never"),
    quiet: v.optional(v.boolean(), false),
    annotations: v.optional(
      v.array(
        v.pipe(
          v.string(),
          v.regex(/^[^=]+=/, "--annotation takes KEY=VALUE"),
          v.check((a) => !reservedKey(a), "--annotation: __proto__, constructor and prototype cannot be keys"),
        ),
      ),
      [],
    ),
    restart: v.pipe(
      v.string(),
      v.regex(
        /^(no|always|unless-stopped|on-failure(:\d+)?)$/,
        "--restart takes no, on-failure[:N], always or unless-stopped",
      ),
    ),
    name: v.optional(
      v.pipe(
        v.string(),
        v.regex(NAME_RE, "--name takes letters, digits, '_', '.' and '-' (two characters at least)"),
        v.maxLength(200, "--name takes at most 200 characters"),
      ),
    ),
    privileged: v.boolean(),
    capAdd: v.array(v.string()),
    capDrop: v.array(v.string()),
    securityOpt: v.array(v.string()),
    userns: v.optional(v.string()),
    ulimits: v.optional(v.array(v.string()), []),
    cgroups: v.optional(v.picklist(["enabled", "disabled"], "--cgroups takes enabled or disabled"), "enabled"),
    cgroupns: v.optional(v.picklist(["private", "host"], "--cgroupns takes private or host"), "private"),
    oomScoreAdj: v.optional(
      v.pipe(
        v.string(),
        v.regex(/^-?\d{1,4}$/, "--oom-score-adj takes a whole number from -1000 to 1000"),
        v.transform(Number),
        v.minValue(-1000, "--oom-score-adj takes a whole number from -1000 to 1000"),
        v.maxValue(1000, "--oom-score-adj takes a whole number from -1000 to 1000"),
      ),
    ),
    /** docker's resource flags as given, checked by src/runtime/cgroup.ts's parseLimits */
    limits: v.optional(v.record(v.string(), v.string()), {}),
    /** a systemd slice of the user's manager (checkCgroupParent) */
    cgroupParent: v.optional(v.string()),
    labels: v.array(
      v.pipe(
        v.string(),
        v.regex(/^[^=\s][^=]*(=.*)?$/s, "--label takes KEY=VALUE or KEY"),
        v.check((l) => !reservedKey(l), "--label: __proto__, constructor and prototype cannot be keys"),
      ),
    ),
    labelFiles: v.optional(v.array(v.string()), []),
    cidfile: v.optional(v.pipe(v.string(), v.minLength(1, "--cidfile needs a file"))),
    stopSignal: v.optional(v.string()),
    stopTimeout: v.optional(
      v.pipe(
        v.string(),
        v.regex(/^-?\d+$/, "--stop-timeout takes whole seconds (-1: wait for ever)"),
        v.transform(Number),
        v.minValue(-1, "--stop-timeout takes whole seconds (-1: wait for ever)"),
        v.maxValue(2147483647, "--stop-timeout takes at most 2147483647 seconds (-1: wait for ever)"),
      ),
    ),
    platform: v.optional(
      v.pipe(
        v.string(),
        v.regex(/^[a-z0-9]+(\/[a-z0-9_]+){0,2}$/, "--platform takes OS/ARCH[/VARIANT], as linux/amd64"),
      ),
    ),
    shmSize: v.optional(v.string()),
    healthCmd: v.optional(v.string()),
    healthInterval: v.optional(v.string()),
    healthTimeout: v.optional(v.string()),
    healthRetries: v.optional(v.string()),
    healthStartPeriod: v.optional(v.string()),
    noHealthcheck: v.optional(v.boolean(), false),
    logDriver: v.optional(
      v.picklist(["json-file"], "--log-driver: hull keeps docker's json-file log (give json-file, or leave it out)"),
    ),
    logOpts: v.optional(v.array(v.string()), []),
    sigProxy: v.optional(
      v.pipe(
        v.boolean(),
        v.check(
          (b) => b,
          "--sig-proxy=false is not supported: hull's supervisor is the container's parent, and a signal to it always reaches the container",
        ),
      ),
      true,
    ),
  }),
);

export type RunOptions = v.InferOutput<typeof RunOptionsSchema>;

export function parseRunOptions(input: unknown): RunOptions {
  const r = v.safeParse(RunOptionsSchema, input);
  if (!r.success) throw new Error(r.issues[0]?.message ?? "invalid options");
  return r.output;
}

const OverlayModeSchema = lazily(() =>
  v.pipe(
    v.picklist(["auto", "kernel", "fuse"], "HULL_OVERLAY takes auto, kernel or fuse"),
    v.transform(
      (m) => ({ auto: ABI.HULL_OVERLAY_AUTO, kernel: ABI.HULL_OVERLAY_KERNEL, fuse: ABI.HULL_OVERLAY_FUSE })[m],
    ),
  ),
);

/** HULL_OVERLAY (auto, kernel or fuse) as the shim's HULL_OVERLAY_* number; throws on another value. */
export function overlayModeFromEnv(): number {
  return v.parse(OverlayModeSchema, process.env.HULL_OVERLAY || "auto");
}
