// `hull build`: a Dockerfile's stages, step by step. A metadata step changes the config and history;
// a file step (RUN, COPY, ADD, WORKDIR) runs on an overlay of the previous step and its writable layer
// becomes one layer (src/build/apply.ts). Every step's result is cached under a key of its parent, its
// text, the build args it sees and the digest of what it copies (src/build/cache.ts).
import { join, posix, resolve } from "../sys/path";
import * as v from "valibot";
import { overlayModeFromEnv } from "../container/options";
import { resolveUser } from "../container/user";
import { parseImageConfig } from "../image/config";
import { sha256 } from "../image/digest";
import { hostPlatform, type Platform, parsePlatform } from "../image/manifest";
import { findImage, findOrSeed } from "../image/lookup";
import { parseReference } from "../image/reference";
import type { ImageRecord, ImageStore } from "../image/store";
import type { BindMount } from "../runtime/plan";
import { hostIdMapping } from "../runtime/idmap";
import { accessible, F_OK, readFileText } from "../sys/libc";
import type { BuildLayerRequest } from "./apply";
import { cacheDir, cacheKey, markMetadataStep, readCache, seenMetadataStep, writeCache } from "./cache";
import { type BuildOutput, parseOutput, writeOutput } from "./output";
import { type CacheTarget, exportCache, ImportedCache, parseCacheFrom, parseCacheTo, type UsedCache } from "./cache-io";

/** The id of a state whose config is not written yet: metadata steps since the last layer step. */
const PENDING = "pending:";
import { BuildContext } from "./context";
import { type Dockerfile, DockerfileError, expand, type Instruction, parseDockerfile, type Stage } from "./dockerfile";
import { applyMetadata, DEFAULT_SHELL, envMap, type RunConfig } from "./metadata";
import { parseSecretFlag, runMounts } from "./run-mounts";
import { copySources } from "./sources";
import { withStdinContext } from "./stdin-context";
import { BuildError } from "./errors";
import { RUN_STUBS, runCommand, runStep } from "./run-step";
import { type Layer, sweepStale, Workspace } from "./workspace";
import { keyValues, lex } from "./words";

export const BuildOptionsSchema = v.object({
  context: v.pipe(v.string(), v.minLength(1, "hull build needs a context directory: hull build [OPTIONS] PATH")),
  file: v.optional(v.string()),
  tags: v.array(v.string()),
  buildArgs: v.array(v.string()),
  /** --platform os/arch[/variant]: the platform of the image built (default: this host's) */
  platform: v.optional(v.string()),
  /** --label KEY=VALUE: labels of the image built */
  labels: v.optional(v.record(v.string(), v.string()), {}),
  /** --secret id=ID,src=FILE|env=VAR: for RUN --mount=type=secret, never stored */
  secrets: v.optional(v.array(v.string()), []),
  target: v.optional(v.string()),
  noCache: v.boolean(),
  pull: v.boolean(),
  quiet: v.boolean(),
  /** on a terminal: each step made says how long it took */
  elapsed: v.optional(v.boolean(), false),
  // docker's "default" is the build's default: the host's network, as RUN steps have it here
  network: v.pipe(
    v.picklist(["none", "host", "default"], "--network takes default, host or none"),
    v.transform((n) => (n === "default" ? "host" : n)),
  ),
  /** --cache-from / --cache-to, as given (src/build/cache-io.ts reads them) */
  cacheFrom: v.optional(v.array(v.string()), []),
  cacheTo: v.optional(v.array(v.string()), []),
  /** --memory, --cpu-shares... for RUN steps, as given (src/runtime/cgroup.ts reads them) */
  limits: v.optional(v.record(v.string(), v.string()), {}),
  /** -o/--output, as given (src/build/output.ts reads them) */
  outputs: v.optional(v.array(v.string()), []),
  /** SOURCE_DATE_EPOCH / --timestamp: every time in the image is this (seconds) */
  epoch: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
});
export type BuildOptions = v.InferOutput<typeof BuildOptionsSchema>;


/** An image as the build holds it: the full config JSON (unknown fields kept) and its layers. */
interface State {
  /** the config's digest; "scratch" for the empty start */
  id: string;
  config: { config?: RunConfig; rootfs: { type: "layers"; diff_ids: string[] }; history?: unknown[]; [k: string]: unknown };
  layers: Layer[];
}


/**
 * A config as stored: checked against the schema, but kept as written, since the next step's config
 * (and so its digest) is made from it.
 */
function rawConfig(text: string, origin: string): State["config"] {
  parseImageConfig(text, origin);
  return JSON.parse(text) as State["config"];
}

/** ARGs Docker predefines: usable without a matching ARG line, never warned about */
const PROXY_ARGS = ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"];

/** Buildkit's automatic platform ARGs: BUILD* for this host, TARGET* for the image built. */
function platformArgs(target: Platform): Map<string, string> {
  const m = new Map<string, string>();
  for (const [p, plat] of [
    ["BUILD", hostPlatform()],
    ["TARGET", target],
  ] as const) {
    m.set(`${p}PLATFORM`, `${plat.os}/${plat.architecture}${plat.variant ? `/${plat.variant}` : ""}`);
    m.set(`${p}OS`, plat.os);
    m.set(`${p}ARCH`, plat.architecture);
    m.set(`${p}VARIANT`, plat.variant ?? "");
  }
  return m;
}

function short(id: string): string {
  return id.replace(/^sha256:/, "").slice(0, 12);
}

/** The Dockerfile's text: -f FILE (- for stdin), else Dockerfile or Containerfile in the context. */
async function readDockerfile(context: string, file?: string): Promise<{ text: string; path: string }> {
  if (file === "-") return { text: await Bun.stdin.text(), path: join(context, "Dockerfile") };
  const candidates = file ? [resolve(file)] : [join(context, "Dockerfile"), join(context, "Containerfile")];
  for (const path of candidates) {
    let text: string | undefined;
    try {
      text = readFileText(path);
    } catch {}
    if (text !== undefined) return { text, path };
  }
  throw new BuildError(
    file ? `cannot read ${file}: give the Dockerfile's path with -f` : `no Dockerfile or Containerfile in ${context}: add one, or name it with -f`,
  );
}

export class Builder {
  private stepsTotal = 0;
  private needed: number[] = [];
  private stepNo = 0;
  private readonly buildArgs = new Map<string, string>();
  private readonly usedArgs = new Set<string>();
  private readonly globalVars: Map<string, string>;
  /** --platform: what FROM pulls and the image says it is for, unless FROM --platform says else */
  private readonly platform: Platform;
  private readonly results = new Map<number, State>();
  private readonly ws: Workspace;
  private readonly overlayMode: number;
  private readonly created: string;
  interrupted = false;
  /** --secret: id -> value */
  private readonly secrets = new Map<string, Uint8Array>();
  private readonly singleId = hostIdMapping().size === 1;
  /** --cache-from's caches, consulted when the store's own cache misses */
  private imported?: ImportedCache;
  private cacheTargets: CacheTarget[] = [];
  private outputs: BuildOutput[] = [];
  /** hull build --memory, --cpu-shares...: the cgroup each RUN step runs in */
  private cgroup?: string;
  /** every step of this build, for --cache-to */
  private readonly used: UsedCache = { entries: new Map(), marks: new Map() };
  readonly abort = new AbortController();

  private checkInterrupted(): void {
    if (this.interrupted) throw new BuildError("build interrupted", 130);
  }

  private constructor(
    private readonly store: ImageStore,
    private readonly o: BuildOptions,
    private readonly df: Dockerfile,
    private readonly ctx: BuildContext,
    private readonly say: (line: string) => void,
  ) {
    this.ws = new Workspace(store, o.epoch);
    try {
      this.platform = o.platform ? parsePlatform(o.platform) : hostPlatform();
    } catch (e) {
      throw new BuildError((e as Error).message);
    }
    this.globalVars = platformArgs(this.platform);
    this.overlayMode = overlayModeFromEnv();
    this.created = new Date(o.epoch !== undefined ? o.epoch * 1000 : Date.now()).toISOString();
  }

  /** Build; the image id. Tags are applied and unused build args warned about. */
  static async run(store: ImageStore, o: BuildOptions, say: (line: string) => void): Promise<string> {
    for (const t of o.tags) {
      try {
        parseReference(t);
      } catch (e) {
        throw new BuildError(`-t ${t}: ${(e as Error).message}`);
      }
    }
    if (o.context === "-" && o.file === "-")
      throw new BuildError("stdin holds either the context (hull build -) or the Dockerfile (-f -), not both");
    // limits before anything is read or made: a limit that cannot be had ends the build before it
    // has taken stdin (a context or a Dockerfile) or made a directory
    let cgroup: string | undefined;
    if (Object.keys(o.limits).length > 0) {
      const { parseLimits, placeContainer } = await import("../runtime/cgroup");
      try {
        cgroup = placeContainer(parseLimits(o.limits));
      } catch (e) {
        throw new BuildError((e as Error).message);
      }
    }
    if (o.context !== "-") return Builder.runIn(store, o, resolve(o.context), say, cgroup);
    return withStdinContext(store, (dir, dockerfile) =>
      dockerfile === undefined
        ? Builder.runIn(store, o, dir, say, cgroup)
        : Builder.runIn(store, { ...o, file: undefined }, dir, say, cgroup, dockerfile),
    );
  }

  /** Build with CONTEXT, a directory; DOCKERFILE_TEXT when it came on stdin with no context. */
  private static async runIn(
    store: ImageStore,
    o: BuildOptions,
    context: string,
    say: (line: string) => void,
    cgroup: string | undefined,
    dockerfileText?: string,
  ): Promise<string> {
    if (!accessible(`${context}/.`, F_OK)) throw new BuildError(`build context ${o.context}: no such directory`);
    const { text, path } =
      dockerfileText !== undefined
        ? { text: dockerfileText, path: join(context, "Dockerfile") }
        : await readDockerfile(context, o.file && o.context === "-" && o.file !== "-" ? join(context, o.file) : o.file);
    const df = parseDockerfile(text);
    let ignore = "";
    for (const p of [`${path}.dockerignore`, join(context, ".dockerignore")]) {
      const t = readFileText(p);
      if (t !== undefined) {
        ignore = t;
        break;
      }
    }
    // (a context from stdin is new each time: nothing to remember of it)
    const statCache = o.context === "-" ? undefined : join(cacheDir(store), "context", `${sha256(context).slice(7, 39)}.json`);
    const b = new Builder(store, o, df, new BuildContext(context, ignore, statCache), say);
    b.cgroup = cgroup;
    for (const spec of o.secrets) {
      try {
        const { id, value } = parseSecretFlag(spec, process.env);
        b.secrets.set(id, value);
      } catch (e) {
        throw new BuildError((e as Error).message);
      }
    }
    try {
      if (o.cacheFrom.length > 0) b.imported = new ImportedCache(o.cacheFrom.map(parseCacheFrom), say);
      b.cacheTargets = o.cacheTo.map(parseCacheTo);
      b.outputs = o.outputs.map(parseOutput);
    } catch (e) {
      throw new BuildError((e as Error).message);
    }
    b.initGlobalArgs();
    const target = b.targetIndex();
    b.needed = b.dependencies(target);
    b.stepsTotal = b.needed.reduce((n, i) => n + 1 + (df.stages[i]?.instructions.length ?? 0), 0);
    await sweepStale(store);
    // Ctrl-C or SIGTERM: the step under way ends (a RUN gets the terminal's SIGINT itself), and the
    // build stops there, its directory removed
    const stop = () => {
      b.interrupted = true;
      b.abort.abort();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    try {
      return await store.contentLock(() => b.buildAll(target));
    } finally {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
    }
  }

  private targetIndex(): number {
    if (!this.o.target) return this.df.stages.length - 1;
    const i = this.df.stages.findIndex((s) => s.name === this.o.target?.toLowerCase());
    if (i < 0) throw new BuildError(`target stage ${this.o.target} is not in the Dockerfile (FROM ... AS ${this.o.target})`);
    return i;
  }

  /** A stage named by FROM or --from: its index among the stages before BEFORE, if it is one. */
  private stageRef(name: string, before: number): number | undefined {
    if (/^\d+$/.test(name)) {
      const i = Number(name);
      return i < before ? i : undefined;
    }
    const i = this.df.stages.findIndex((s) => s.name === name.toLowerCase());
    return i >= 0 && i < before ? i : undefined;
  }

  /** The stages TARGET needs, in order: only those are built. */
  private dependencies(target: number): number[] {
    const need = new Set<number>();
    const visit = (i: number) => {
      if (need.has(i)) return;
      need.add(i);
      const stage = this.df.stages[i] as Stage;
      const from = this.stageRef(this.fromName(stage), i);
      if (from !== undefined) visit(from);
      for (const ins of stage.instructions) {
        // COPY --from=STAGE, RUN --mount=...,from=STAGE
        const froms = ins.cmd === "COPY" && ins.flags.from ? [ins.flags.from] : [];
        if (ins.cmd === "RUN") for (const m of ins.mounts) froms.push(.../(?:^|,)from=([^,]+)/.exec(m)?.slice(1) ?? []);
        for (const f of froms) {
          const ref = this.stageRef(expand(f, this.globalVars, this.df.escape), i);
          if (ref !== undefined) visit(ref);
        }
      }
    };
    visit(target);
    return [...need].sort((a, b) => a - b);
  }

  private initGlobalArgs(): void {
    for (const a of this.o.buildArgs) {
      const eq = a.indexOf("=");
      if (eq === 0) throw new BuildError(`--build-arg ${a}: the name before = is empty`);
      if (eq > 0) this.buildArgs.set(a.slice(0, eq), a.slice(eq + 1));
      else if (process.env[a] !== undefined) this.buildArgs.set(a, process.env[a] as string);
    }
    for (const ins of this.df.globalArgs) {
      for (const [k, dflt] of this.pairs(ins, this.globalVars, "ARG")) {
        this.usedArgs.add(k);
        const value = this.buildArgs.get(k) ?? dflt;
        if (value !== undefined) this.globalVars.set(k, value);
        else this.globalVars.delete(k);
      }
    }
  }

  private pairs(ins: Instruction, vars: Map<string, string>, what: "ENV" | "LABEL" | "ARG") {
    try {
      return keyValues(ins.args, vars, this.df.escape, what);
    } catch (e) {
      throw new DockerfileError((e as Error).message, ins.line, 1);
    }
  }

  private fromName(stage: Stage): string {
    try {
      return expand(stage.from, this.globalVars, this.df.escape);
    } catch (e) {
      throw new DockerfileError((e as Error).message, stage.line, 1);
    }
  }

  private async buildAll(target: number): Promise<string> {
    try {
      for (const i of this.needed) this.results.set(i, await this.buildStage(i));
    } finally {
      this.ctx.saveStatCache();
      await this.ws.remove();
    }
    let final = this.results.get(target) as State;
    if (Object.keys(this.o.labels).length > 0) {
      // --label: on the image built, as a last metadata step
      const labels = this.o.labels;
      const text = `LABEL ${Object.entries(labels).map(([k, val]) => `${k}=${JSON.stringify(val)}`).join(" ")}`;
      final = await this.step(final, { cmd: "--label", labels }, text, (c) => {
        const rc = c.config as RunConfig;
        rc.Labels = { ...(rc.Labels ?? {}), ...labels };
      });
    }
    if (final.id === "scratch" || final.id.startsWith(PENDING)) {
      // metadata steps last (or FROM scratch and nothing else): their config is written now
      final = { ...final, id: await this.putConfig(final.config) };
    }
    const record: ImageRecord = { id: final.id, layers: final.layers, created: String(final.config.created ?? this.created) };
    if (!this.store.image(final.id)) await this.store.putImage(record);
    if (this.o.tags.length > 0) {
      const keys = this.o.tags.map((t) => {
        const ref = parseReference(t);
        return `${ref.domain}/${ref.path}:${ref.tag ?? "latest"}`;
      });
      if (keys.some((k) => this.store.tags().tags[k] !== final.id)) {
        await this.store.editTags((index) => {
          for (const k of keys) index.tags[k] = final.id;
        });
      }
      for (const t of this.o.tags) this.say(`Successfully tagged ${t}`);
    }
    for (const out of this.outputs) {
      try {
        await writeOutput(this.store, final.id, final.layers.map((l) => this.store.layerDir(l.diffId)), out);
      } catch (e) {
        throw new BuildError(`-o: ${(e as Error).message}`);
      }
    }
    for (const t of this.cacheTargets) {
      try {
        const digest = await exportCache(this.store, t, this.used);
        this.say(`cache to ${t.kind === "local" ? t.dir : t.ref}: ${this.used.entries.size} steps, ${digest}`);
      } catch (e) {
        throw new BuildError(`--cache-to ${t.kind === "local" ? t.dir : t.ref}: ${(e as Error).message}`);
      }
    }
    const unused = [...this.buildArgs.keys()].filter((k) => !this.usedArgs.has(k) && !PROXY_ARGS.includes(k));
    if (unused.length > 0) this.say(`[Warning] One or more build-args [${unused.join(" ")}] were not consumed`);
    return final.id;
  }

  private stepStart = 0;

  /** " 1.2s": the time since the step's header, with --progress tty (a terminal's default) */
  private took(): string {
    return this.o.elapsed ? ` ${((performance.now() - this.stepStart) / 1000).toFixed(1)}s` : "";
  }

  private stepHeader(text: string): void {
    this.checkInterrupted();
    this.stepNo++;
    this.stepStart = performance.now();
    const oneLine = text.split("\n")[0] as string;
    this.say(`STEP ${this.stepNo}/${this.stepsTotal}: ${oneLine}`);
  }

  private async buildStage(index: number): Promise<State> {
    const stage = this.df.stages[index] as Stage;
    const from = this.fromName(stage);
    this.stepHeader(`FROM ${stage.from}${stage.name ? ` AS ${stage.name}` : ""}`);
    let platform: string | undefined;
    try {
      platform = stage.platform ? expand(stage.platform, this.globalVars, this.df.escape) : undefined;
    } catch (e) {
      throw new DockerfileError((e as Error).message, stage.line, 1);
    }
    let state = await this.baseState(from, index, stage.line, platform);
    const instructions = [...stage.instructions];
    const triggers = state.config.config?.OnBuild ?? [];
    if (triggers.length > 0) {
      const parsed = parseDockerfile(`FROM scratch\n${triggers.join("\n")}\n`).stages[0]?.instructions ?? [];
      instructions.unshift(...parsed.map((ins) => ({ ...ins, line: stage.line })));
      state = { ...state, config: { ...state.config, config: { ...state.config.config, OnBuild: null } } };
    }
    const args = new Map<string, string>();
    let cmdSet = false;
    for (const ins of instructions) {
      const vars = new Map([...args, ...envMap(state.config.config ?? {})]);
      this.stepHeader(`${ins.cmd} ${Object.entries(ins.flags).map(([k, val]) => `--${k}=${val} `).join("")}${ins.args}`);
      if (ins.cmd === "ARG") {
        for (const [k, dflt] of this.pairs(ins, vars, "ARG")) {
          this.usedArgs.add(k);
          // a build arg, else the line's default, else the value of the ARG before FROM (or a platform ARG)
          const value = this.buildArgs.get(k) ?? dflt ?? this.globalVars.get(k);
          if (value !== undefined) args.set(k, value);
          else args.delete(k);
        }
        continue;
      }
      if (ins.cmd === "CMD") cmdSet = true;
      state = await this.instruction(state, ins, vars, args, cmdSet);
    }
    return state;
  }

  private async baseState(name: string, index: number, line: number, platform?: string): Promise<State> {
    const stage = this.stageRef(name, index);
    if (stage !== undefined) return this.results.get(stage) as State;
    if (name.toLowerCase() === "scratch") {
      return {
        id: "scratch",
        config: {
          architecture: this.platform.architecture,
          os: "linux",
          config: {},
          rootfs: { type: "layers", diff_ids: [] },
          history: [],
        },
        layers: [],
      };
    }
    return this.imageState(name, line, platform);
  }

  /** An image of the store, pulled when missing (or with --pull, or when it is not of PLATFORM). */
  private async imageState(name: string, line: number, platform?: string): Promise<State> {
    try {
      // FROM --platform, else hull build --platform; neither: what the store has, or this host's
      const want = platform ? parsePlatform(platform) : this.o.platform ? this.platform : undefined;
      const pull = async () => {
        const { pull } = await import("../image/pull");
        await pull(this.store, name, { say: this.say, platform: want });
      };
      if (this.o.pull) await pull();
      let found = await findOrSeed(this.store, name);
      const other = (a?: string, o?: string) => want && (a !== want.architecture || o !== want.os);
      if (!found || other(found.config.architecture, found.config.os)) {
        await pull();
        found = findImage(this.store, name);
      }
      if (!found) throw new Error(`image ${name} not found`);
      const text = readFileText(this.store.blobPath(found.record.id)) as string;
      return { id: found.record.id, config: rawConfig(text, name), layers: found.record.layers };
    } catch (e) {
      throw new DockerfileError(`${name}: ${(e as Error).message}`, line, 1);
    }
  }

  private async putConfig(config: State["config"]): Promise<string> {
    const text = JSON.stringify(config);
    const id = sha256(text);
    if (!this.store.hasBlob(id)) await this.store.putBlob(id, new Blob([text]).stream());
    return id;
  }

  /**
   * One step: from the cache when its key is there, else MAKE's layer (if any) and the config
   * after MUTATE, recorded in the cache.
   */
  private async step(
    state: State,
    key: Record<string, unknown>,
    createdBy: string,
    mutate: (c: State["config"]) => void,
    make?: () => Promise<Layer | undefined>,
  ): Promise<State> {
    // a build with only the caller's id mapped could not keep other owners: its steps are its own
    const k = cacheKey({ parent: state.id, single: this.singleId || undefined, ...key });
    if (!make) return this.metadataStep(state, k, createdBy, mutate);
    if (!this.o.noCache) {
      let hit = readCache(this.store, k);
      if (!hit && this.imported) {
        hit = await this.imported.entry(this.store, k);
        if (hit) writeCache(this.store, k, hit);
      }
      if (hit) {
        this.used.entries.set(k, hit);
        const text = readFileText(this.store.blobPath(hit.config)) as string;
        const config = rawConfig(text, hit.config);
        this.say(`--> Using cache ${short(hit.config)}`);
        return { id: hit.config, config, layers: hit.layers };
      }
    }
    let layer: Layer | undefined;
    try {
      layer = make ? await make() : undefined;
    } finally {
      this.checkInterrupted();
    }
    const config = this.nextConfig(state, createdBy, mutate, layer);
    const id = await this.putConfig(config);
    const layers = [...state.layers, ...(layer ? [layer] : [])];
    writeCache(this.store, k, { config: id, layers });
    this.used.entries.set(k, { config: id, layers });
    this.say(`--> ${short(id)}${this.took()}`);
    return { id, config, layers };
  }

  /** A step that makes no layer: its config stays in memory, under an id made of its cache key. */
  private async metadataStep(
    state: State,
    k: string,
    createdBy: string,
    mutate: (c: State["config"]) => void,
  ): Promise<State> {
    let seen = this.o.noCache ? undefined : seenMetadataStep(this.store, k);
    if (!seen && !this.o.noCache && this.imported) seen = await this.imported.mark(k);
    if (!seen || !seenMetadataStep(this.store, k)) markMetadataStep(this.store, k, seen ?? this.created);
    this.used.marks.set(k, seen ?? this.created);
    // with --timestamp / SOURCE_DATE_EPOCH every time is the one given, whatever a cache recorded
    const created = this.o.epoch !== undefined ? this.created : (seen ?? this.created);
    const config = this.nextConfig(state, createdBy, mutate, undefined, created);
    this.say(seen ? `--> Using cache ${k.slice(0, 12)}` : `--> ${k.slice(0, 12)}${this.took()}`);
    return { id: `${PENDING}${k}`, config, layers: state.layers };
  }

  /** STATE's config after a step: MUTATE's changes, the new layer's diff id, one more history entry. */
  private nextConfig(
    state: State,
    createdBy: string,
    mutate: (c: State["config"]) => void,
    layer?: Layer,
    created = this.created,
  ) {
    const config: State["config"] = { ...state.config, config: structuredClone(state.config.config ?? {}) };
    mutate(config);
    config.created = created;
    config.rootfs = { type: "layers", diff_ids: [...state.config.rootfs.diff_ids, ...(layer ? [layer.diffId] : [])] };
    config.history = [
      ...(state.config.history ?? []),
      { created, created_by: createdBy, comment: "hull build", ...(layer ? {} : { empty_layer: true }) },
    ];
    return config;
  }

  private async instruction(
    state: State,
    ins: Instruction,
    vars: Map<string, string>,
    args: Map<string, string>,
    cmdSet: boolean,
  ): Promise<State> {
    const text = `${ins.cmd} ${ins.args}`;
    switch (ins.cmd) {
      case "RUN":
        return this.run(state, ins, args, vars);
      case "COPY":
      case "ADD":
        return this.copy(state, ins, vars);
      case "WORKDIR":
        return this.workdir(state, ins, vars);
      case "MAINTAINER":
        return this.step(state, { text }, `MAINTAINER ${ins.args}`, (c) => {
          c.author = ins.args;
        });
    }
    const next = applyMetadata(ins, state.config.config ?? {}, { vars, escape: this.df.escape, cmdSet });
    // the key is the result, so variables expanded differently make a different step
    return this.step(state, { cmd: ins.cmd, config: next }, text, (c) => {
      c.config = next;
    });
  }

  private async run(state: State, ins: Instruction, args: Map<string, string>, vars: Map<string, string>): Promise<State> {
    const c = state.config.config ?? {};
    for (const f of Object.keys(ins.flags)) {
      if (f !== "network" && f !== "mount") throw new DockerfileError(`RUN --${f} is not supported by hull`, ins.line, 1);
    }
    const mounts = await runMounts({
      specs: ins.mounts,
      ins,
      vars,
      escape: this.df.escape,
      workdir: c.WorkingDir || "/",
      secrets: this.secrets,
      cacheRoot: cacheDir(this.store),
      ws: this.ws,
      ctx: this.ctx,
      image: async (name) => {
        const ref = this.stageRef(name, this.df.stages.length);
        if (ref === undefined) return this.imageState(name, ins.line);
        const built = this.results.get(ref);
        if (!built) throw new DockerfileError(`--mount from=${name}: that stage comes later`, ins.line, 1);
        return built;
      },
    });
    const net = ins.flags.network ?? "default";
    if (!["default", "none", "host"].includes(net)) throw new DockerfileError(`RUN --network takes default, none or host, not ${net}`, ins.line, 1);
    const network = net === "default" ? this.o.network : (net as "none" | "host");
    const { argv, script } = runCommand(ins, c.Shell ?? DEFAULT_SHELL);
    // build args reach the command as variables, but never the image
    const env = envMap(c);
    const argEnv = [...args].filter(([k]) => !env.has(k)).map(([k, val]) => `${k}=${val}`);
    // proxy settings given with --build-arg reach every RUN without an ARG line, and, as in Docker,
    // stay out of the cache key: a build behind a proxy reuses what one without it made
    const proxyEnv = PROXY_ARGS.filter((k) => this.buildArgs.has(k) && !args.has(k) && !env.has(k)).map(
      (k) => `${k}=${this.buildArgs.get(k)}`,
    );
    const createdBy = `RUN ${ins.json ? JSON.stringify(ins.json) : script ? ins.args : argv.join(" ")}`;
    return this.step(
      state,
      { cmd: "RUN", argv, argEnv, network, script: script?.body, mounts: mounts.map((m) => m.key) },
      createdBy,
      () => {},
      async () => {
        const dir = this.ws.stepDir();
        const lowers = this.ws.lowers(state.layers);
        const binds: BindMount[] = [];
        const tmpfs: Array<{ target: string; options: string }> = [];
        for (const m of mounts) {
          const made = await m.prepare();
          if ("tmpfs" in made) tmpfs.push({ target: m.target, options: made.tmpfs });
          else binds.push({ source: made.source, target: m.target, readonly: made.readonly });
        }
        if (script) {
          const file = join(dir, "script");
          await Bun.write(file, script.body);
          const { chmodSync } = await import("node:fs");
          chmodSync(file, 0o755);
          binds.push({ source: file, target: argv[0] as string, readonly: true });
        }
        const r = await runStep({
          binds,
          tmpfs,
          argv,
          env: [...(c.Env ?? []), ...argEnv, ...proxyEnv],
          cwd: c.WorkingDir || "/",
          user: c.User ?? "",
          network,
          lowers: lowers.length > 0 ? lowers : [this.ws.lowerdir(state.layers)],
          dir,
          overlayMode: this.overlayMode,
          quiet: this.o.quiet,
          signal: this.abort.signal,
          ...(this.cgroup ? { cgroup: this.cgroup } : {}),
        });
        if (r.code !== 0) {
          if (this.o.quiet) process.stderr.write(r.output);
          throw new BuildError(`Dockerfile:${ins.line}: ${createdBy.split("\n")[0]}: exit code ${r.code}`);
        }
        // a mount's target is a mount point the runtime made, not a change of the step
        const stubs = [...RUN_STUBS, ...mounts.map((m) => m.target.slice(1))];
        return this.ws.layer(state.layers, dir, ins, { ops: [], stubs });
      },
    );
  }

  private workdir(state: State, ins: Instruction, vars: Map<string, string>): Promise<State> {
    const c = state.config.config ?? {};
    let path: string;
    try {
      path = lex(ins.args, vars, this.df.escape).join(" ");
    } catch (e) {
      throw new DockerfileError((e as Error).message, ins.line, 1);
    }
    const abs = posix.resolve(c.WorkingDir || "/", path);
    // as BuildKit (moby/buildkit#1002): the directories WORKDIR makes belong to the USER of the
    // moment; the classic builder made them root's
    const owner = c.User ? this.owner(state, c.User, ins, "USER") : undefined;
    return this.step(
      state,
      { cmd: "WORKDIR", path: abs, owner },
      `WORKDIR ${abs}`,
      (cfg) => {
        (cfg.config as RunConfig).WorkingDir = abs;
      },
      () => this.ws.layer(state.layers, this.ws.stepDir(), ins, { ops: [{ op: "mkdir", path: abs, owner }] }),
    );
  }

  /** --chown's USER[:GROUP], with names from the image's /etc/passwd and /etc/group. */
  private owner(state: State, spec: string, ins: Instruction, what = "--chown"): { uid: number; gid: number } {
    try {
      const [u, g] = spec.split(":");
      const user = resolveUser(u as string, this.ws.lowers(state.layers));
      // --chown=UID alone means UID:UID (Docker's rule); a USER of a bare uid runs with gid 0
      const bareUid = what === "--chown" && /^\d+$/.test(u as string);
      const gid = g !== undefined ? resolveUser(`${u}:${g}`, this.ws.lowers(state.layers)).gid : bareUid ? user.uid : user.gid;
      const size = hostIdMapping().size;
      if (user.uid >= size || gid >= size) {
        throw new Error(`ids ${user.uid}:${gid} are not mapped in hull's user namespace (0-${size - 1}); see hull doctor`);
      }
      return { uid: user.uid, gid };
    } catch (e) {
      throw new DockerfileError(`${what === "USER" ? "USER " : "--chown="}${spec}: ${(e as Error).message}`, ins.line, 1);
    }
  }

  private async copy(state: State, ins: Instruction, vars: Map<string, string>): Promise<State> {
    const fail = (msg: string) => new DockerfileError(msg, ins.line, 1);
    const allowed = ins.cmd === "COPY" ? ["from", "chown", "chmod", "link"] : ["chown", "chmod", "link"];
    for (const f of Object.keys(ins.flags)) {
      if (!allowed.includes(f)) throw fail(`${ins.cmd} --${f} is not supported by hull`);
    }
    let words: string[];
    try {
      words = ins.json ? ins.json.map((w) => expand(w, vars, this.df.escape)) : lex(ins.args, vars, this.df.escape);
    } catch (e) {
      throw fail((e as Error).message);
    }
    if (words.length < 2) throw fail(`${ins.cmd} needs a source and a destination: ${ins.cmd} SRC... DEST`);
    const c = state.config.config ?? {};
    const destWord = words.at(-1) as string;
    const dest = posix.resolve(c.WorkingDir || "/", destWord) + (destWord.endsWith("/") && destWord !== "/" ? "/" : "");
    const srcWords = words.slice(0, -1);
    const expandFlag = (f?: string) => (f === undefined ? undefined : expand(f, vars, this.df.escape));
    const chown = expandFlag(ins.flags.chown);
    const chmodText = expandFlag(ins.flags.chmod);
    if (chmodText !== undefined && !/^[0-7]{3,4}$/.test(chmodText)) throw fail(`--chmod=${chmodText}: give octal permissions such as 0755`);
    const mode = chmodText !== undefined ? Number.parseInt(chmodText, 8) : undefined;
    const owner = chown ? this.owner(state, chown, ins) : undefined;
    const destIsDir = dest.endsWith("/") || dest === "/";
    const from = expandFlag(ins.flags.from);

    const key: Record<string, unknown> = { cmd: ins.cmd, dest, owner, mode };
    type Source = BuildLayerRequest["ops"][number] & { op: "copy" };
    let sources: Source["sources"] = [];
    let prepare: (() => Promise<Source["sources"]>) | undefined;

    if (from) {
      const ref = this.stageRef(from, this.df.stages.length);
      if (ref !== undefined && !this.results.has(ref)) throw fail(`--from=${from}: that stage comes later; a stage can copy only from earlier ones`);
      const fromState = ref !== undefined ? (this.results.get(ref) as State) : await this.imageState(from, ins.line);
      key.from = fromState.id;
      key.paths = srcWords;
      prepare = () => this.ws.exportFrom(fromState.layers, srcWords, ins);
    } else {
      const found = await copySources({ ins, words: srcWords, vars, escape: this.df.escape, ctx: this.ctx, ws: this.ws });
      sources = found.sources;
      Object.assign(key, found.key);
    }
    const count = from ? srcWords.length : sources.length;
    if (count > 1 && !destIsDir) {
      throw fail(`${ins.cmd} of more than one source needs a directory destination ending in /: ${destWord}/`);
    }
    const flagText = Object.entries(ins.flags).map(([k, val]) => `--${k}=${val} `).join("");
    const createdBy = `${ins.cmd} ${flagText}${ins.args.split("\n")[0]}`;
    return this.step(
      state,
      key,
      createdBy,
      () => {},
      async () => {
        if (prepare) sources = await prepare();
        const op = {
          op: "copy" as const,
          dest: dest.replace(/\/$/, "") || "/",
          destIsDir: destIsDir || sources.length > 1,
          sources,
          owner,
          keepOwners: from !== undefined,
          mode,
        };
        return this.ws.layer(state.layers, this.ws.stepDir(), ins, { ops: [op] });
      },
    );
  }

}
