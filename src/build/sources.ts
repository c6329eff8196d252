// What a COPY or ADD (without --from) copies: paths of the build context (wildcards, directories less
// what .dockerignore leaves out, symlinks followed), heredocs written to files, and for ADD, http(s)
// URLs fetched and local archives marked for unpacking. With each, its part of the cache key.
import { mkdirSync } from "node:fs";
import { basename, join } from "../sys/path";
import { sha256 } from "../image/digest";
import { compressionByMagic, isTarHeader } from "../image/magic";
import type { BuildLayerRequest } from "./apply";
import type { BuildContext, ContextSource } from "./context";
import { DockerfileError, expand, type Instruction } from "./dockerfile";
import type { Workspace } from "./workspace";

export type CopySource = (BuildLayerRequest["ops"][number] & { op: "copy" })["sources"][number];

/** ADD unpacks a local archive: a tar, plain or compressed (the helper checks what is inside). */
async function isArchive(path: string): Promise<boolean> {
  const head = new Uint8Array(await Bun.file(path).slice(0, 512).arrayBuffer());
  return compressionByMagic(head) !== "none" || isTarHeader(head);
}

export async function copySources(o: {
  ins: Instruction;
  /** the source words, variables expanded */
  words: string[];
  vars: Map<string, string>;
  escape: string;
  ctx: BuildContext;
  ws: Workspace;
}): Promise<{ sources: CopySource[]; key: Record<string, unknown> }> {
  const { ins, ctx, ws } = o;
  const fail = (msg: string) => new DockerfileError(msg, ins.line, 1);
  const key: Record<string, unknown> = {};
  const sources: CopySource[] = [];
  const matched: ContextSource[] = [];
  const heredocs = new Map(ins.heredocs.map((h) => [h.name, h]));
  for (const w of o.words) {
    const h = /^<<-?["']?([A-Za-z_][A-Za-z0-9_]*)["']?$/.exec(w);
    const doc = h ? heredocs.get(h[1] as string) : undefined;
    if (doc) {
      // COPY <<EOF: a file of that name; its variables expand unless the name was quoted
      const body = doc.quoted ? doc.body : expand(doc.body, o.vars, o.escape);
      const file = join(ws.path("heredoc"), doc.name);
      mkdirSync(join(file, ".."), { recursive: true });
      await Bun.write(file, body);
      const { chmodSync } = await import("node:fs");
      chmodSync(file, 0o644);
      sources.push({ path: file });
      key[`heredoc:${doc.name}`] = sha256(body);
      continue;
    }
    if (ins.cmd === "ADD" && /^https?:\/\//i.test(w)) {
      const file = await ws.download(w, ins);
      sources.push({ path: file, name: basename(file) });
      key[`url:${w}`] = sha256(await Bun.file(file).bytes());
      continue;
    }
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(w)) throw fail(`${ins.cmd} ${w}: only ADD takes URLs, and only http(s)`);
    try {
      matched.push(...ctx.match(w));
    } catch (e) {
      throw fail((e as Error).message);
    }
  }
  try {
    if (matched.length > 0) key.context = ctx.hash(matched);
  } catch (e) {
    throw fail(`cannot read the build context: ${(e as Error).message}`);
  }
  for (const m of matched) {
    const path = join(ctx.dir, m.rel);
    const extract = ins.cmd === "ADD" && m.type === "file" && (await isArchive(path));
    sources.push({ path, include: m.include, extract, name: m.name });
  }
  key.sources = sources.map((s) => ({ name: s.name ?? basename(s.path), extract: s.extract, heredoc: s.path.startsWith(ws.dir) }));
  return { sources, key };
}
