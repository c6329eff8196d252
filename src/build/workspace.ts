// A build's own directory in the store's tmp/ (named for the process, so a later build can sweep the
// directory of one that died) and the file work done there: overlay directories for steps, the
// `hull __build-layer` helper in the user namespace, layers moved into the store, exports of
// another image's paths, downloads.
import { mkdirSync, readdirSync, renameSync } from "node:fs";
import { join, posix } from "../sys/path";
import * as v from "valibot";
import { removeTree } from "../image/layers";
import type { ImageRecord, ImageStore } from "../image/store";
import { findProgram } from "../runtime/programs";
import { runInUserNamespace } from "../runtime/userns-exec";
import { writeNewFile } from "../store/atomic";
import { accessible, F_OK } from "../sys/libc";
import type { BuildLayerRequest } from "./apply";
import { DockerfileError, type Instruction } from "./dockerfile";
import { sweepTmp, tmpEntry } from "../store/tmp";

export type Layer = ImageRecord["layers"][number];

const LAYER = "application/vnd.oci.image.layer.v1.tar";

/** what `hull __build-layer` prints */
const LayerMade = v.union([
  v.object({ diffId: v.pipe(v.string(), v.regex(/^sha256:[a-f0-9]{64}$/)), size: v.number() }),
  v.object({ empty: v.literal(true) }),
]);

export interface OverlayMount {
  rootfs: string;
  overlay: string;
  fuseProg: string;
}

/** Remove what builds (and pulls, loads...) whose process is gone left in tmp/. */
export async function sweepStale(store: ImageStore): Promise<void> {
  await sweepTmp(store.paths, (p) => removeTree(...p));
}

export class Workspace {
  readonly dir: string;
  private count = 0;

  constructor(
    private readonly store: ImageStore,
    /** SOURCE_DATE_EPOCH for the layers' mtimes */
    private readonly epoch?: number,
  ) {
    this.dir = tmpEntry(store.paths, "build");
  }

  /** A new path in the build's directory (not created). */
  path(prefix: string): string {
    return join(this.dir, `${prefix}-${this.count++}`);
  }

  /** A fresh directory with upper/ work/ merged/ for an overlay. */
  stepDir(): string {
    const dir = this.path("step");
    for (const d of ["upper", "work", "merged"]) mkdirSync(join(dir, d), { recursive: true, mode: 0o755 });
    return dir;
  }

  /** The unpacked LAYERS, topmost first. */
  lowers(layers: Layer[]): string[] {
    return layers.map((l) => this.store.layerDir(l.diffId)).reverse();
  }

  /** An overlay's lowerdir: the layers, or an empty directory for an image with none. */
  lowerdir(layers: Layer[]): string {
    const l = this.lowers(layers);
    if (l.length > 0) return l.join(":");
    const empty = join(this.dir, "empty");
    mkdirSync(empty, { recursive: true });
    return empty;
  }

  mount(layers: Layer[], dir: string): OverlayMount {
    return {
      rootfs: join(dir, "merged"),
      overlay: `lowerdir=${this.lowerdir(layers)},upperdir=${join(dir, "upper")},workdir=${join(dir, "work")}`,
      fuseProg: findProgram("fuse-overlayfs"),
    };
  }

  /** `hull __build-layer REQ` as root in the user namespace (with MOUNT's overlay); its stdout. */
  async helper(req: BuildLayerRequest, mount: OverlayMount | undefined, what: string, ins: Instruction): Promise<string> {
    // in a file: a COPY of a large context lists more paths than one argument may hold (128 KiB)
    const file = `${this.path("request")}.json`;
    mkdirSync(this.dir, { recursive: true });
    writeNewFile(file, JSON.stringify(req));
    let stdout = "";
    const r = await runInUserNamespace(
      ["__build-layer", file],
      {},
      (s) => {
        stdout = s;
      },
      mount,
    );
    if (r.code !== 0) {
      const why = r.stderr.trim().split("\n").at(-1)?.replace(/^hull: /, "") ?? `exit code ${r.code}`;
      throw new DockerfileError(`${what}: ${why}`, ins.line, 1);
    }
    return stdout;
  }

  /**
   * A step's file work on an overlay of LAYERS in DIR (when REQ has ops), then its writable layer
   * as a layer of the store; undefined when the step changed nothing.
   */
  async layer(
    layers: Layer[],
    dir: string,
    ins: Instruction,
    req: Partial<BuildLayerRequest> & { ops: BuildLayerRequest["ops"] },
  ): Promise<Layer | undefined> {
    const full: BuildLayerRequest = {
      root: req.ops.length > 0 ? join(dir, "merged") : undefined,
      upper: join(dir, "upper"),
      lowers: this.lowers(layers),
      stubs: [],
      epoch: this.epoch,
      tar: join(dir, "layer.tar"),
      layer: join(dir, "layer"),
      ...req,
    };
    const mount = req.ops.length > 0 ? this.mount(layers, dir) : undefined;
    const made = v.parse(LayerMade, JSON.parse(await this.helper(full, mount, `${ins.cmd} failed`, ins)));
    if (!("diffId" in made)) return undefined;
    if (!this.store.hasBlob(made.diffId)) await this.store.putBlob(made.diffId, Bun.file(full.tar as string).stream(), made.size);
    if (!this.store.hasLayer(made.diffId)) {
      mkdirSync(this.store.paths.layers, { recursive: true });
      try {
        renameSync(full.layer as string, this.store.layerDir(made.diffId));
      } catch (e) {
        // another build made the same layer first: ours goes with the build's directory
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== "ENOTEMPTY" && code !== "EEXIST") throw e;
      }
    }
    return { digest: made.diffId, diffId: made.diffId, size: made.size, mediaType: LAYER };
  }

  /** COPY --from, RUN --mount from=: PATHS out of an image of LAYERS, owners kept; one path each. */
  async exportFrom(layers: Layer[], paths: string[], ins: Instruction): Promise<Array<{ path: string }>> {
    const dir = this.stepDir();
    const out = join(dir, "out");
    mkdirSync(out);
    const req: BuildLayerRequest = { root: join(dir, "merged"), ops: [{ op: "export", paths, out }], lowers: [], stubs: [] };
    await this.helper(req, this.mount(layers, dir), `${ins.cmd} --from failed`, ins);
    return readdirSync(out)
      .sort((a, b) => Number(a) - Number(b))
      .flatMap((n) => readdirSync(join(out, n)).map((name) => ({ path: join(out, n, name) })));
  }

  /** ADD URL: fetched into the build's directory, its name from the URL's path, mode 0600 as Docker. */
  async download(url: string, ins: Instruction): Promise<string> {
    // a server that accepts the connection and then says nothing ends the build, as a registry does
    const { downloadTo } = await import("../image/registry");
    const file = join(this.path("url"), downloadName(url, ins));
    mkdirSync(join(file, ".."), { recursive: true });
    let headers: Headers;
    try {
      headers = await downloadTo(url, file);
    } catch (e) {
      throw new DockerfileError(`ADD ${url}: ${(e as Error).message}`, ins.line, 1);
    }
    const { chmodSync, utimesSync } = await import("node:fs");
    chmodSync(file, 0o600);
    const modified = Date.parse(headers.get("last-modified") ?? "");
    if (Number.isFinite(modified)) utimesSync(file, modified / 1000, modified / 1000);
    return file;
  }

  /** Remove the build's directory, which holds files of any id of the range. */
  async remove(): Promise<void> {
    if (accessible(this.dir, F_OK)) await removeTree(this.dir).catch(() => {});
  }
}

/**
 * The file name ADD gives a download: the last segment of the URL's path once decoded, as Docker's
 * path.Base(url.Path). Decoding first matters: `..%2F..%2Ftmp%2Fx` is one segment until decoded,
 * and joined undecoded-then-decoded it named a file outside the build.
 */
export function downloadName(url: string, ins: Instruction): string {
  let path: string;
  try {
    path = decodeURIComponent(new URL(url).pathname);
  } catch {
    throw new DockerfileError(`ADD ${url}: the URL's path is not valid percent-encoding`, ins.line, 1);
  }
  const name = posix.basename(path);
  if (name === "" || name === "/") return "index.html";
  if (name === "." || name === ".." || name.includes("\0"))
    throw new DockerfileError(`ADD ${url}: cannot take a file name from the URL; name the destination file`, ins.line, 1);
  return name;
}
