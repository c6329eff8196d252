// `hull attach`: to a container run with -i or -t and detached, the shim's attach client connects to
// its supervisor (ffi/attach.c): input, the terminal's size and signals go in, output comes out,
// ctrl-p ctrl-q leaves it running. Other containers have no input to take: their output is followed
// from the log until they stop, as before.
import { join } from "../sys/path";
import * as v from "valibot";
import { lazily } from "../sys/lazy-schema";
import { ABI } from "../runtime/abi";
import { encodeAttachMessage } from "../runtime/message";
import { execShim } from "../runtime/shim";
import type { StorePaths } from "../store/paths";
import { accessible, F_OK, readFileText } from "../sys/libc";
import { containerDir, containerState, findContainer, startedInit } from "./records";

export interface AttachOptions {
  noStdin: boolean;
  detachKeys?: string;
  sigProxy: boolean;
}

/** docker's --detach-keys ("ctrl-p,ctrl-q", "ctrl-a,d", "" for none) as the bytes they send */
export function parseDetachKeys(spec: string): string {
  if (spec === "") return "";
  return spec
    .split(",")
    .map((k) => {
      const ctrl = /^ctrl-(.)$/i.exec(k);
      if (ctrl) {
        const c = (ctrl[1] as string).toUpperCase().charCodeAt(0);
        if (c < 65 || c > 95)
          throw new Error(
            `--detach-keys: ${k} is not a key (ctrl-a to ctrl-z, ctrl-[, ctrl-\\, ctrl-], ctrl-^, ctrl-_)`,
          );
        return String.fromCharCode(c - 64);
      }
      if (k.length === 1) return k;
      throw new Error(`--detach-keys: ${k} is not a key: give ctrl-X or one character, comma-separated`);
    })
    .join("");
}

const SavedFlags = lazily(() => v.looseObject({ flags: v.number() }));

/** Whether KEY takes input through its supervisor (run -d with -i or -t); the flags it was run with. */
export function attachable(paths: StorePaths, id: string): { socket: boolean; flags: number } {
  const dir = containerDir(paths, id);
  const text = readFileText(join(dir, "spec.json"));
  const flags = text ? ((v.safeParse(SavedFlags, JSON.parse(text)).output as { flags?: number })?.flags ?? 0) : 0;
  return { socket: accessible(join(dir, "attach.sock"), F_OK), flags };
}

export async function attachContainer(paths: StorePaths, key: string, o: AttachOptions): Promise<never> {
  const rec = findContainer(paths, key);
  if (containerState(paths, rec).status !== "running")
    throw new Error(`container ${key} is not running: hull start it first (hull start -a shows its output)`);
  const { flags } = attachable(paths, rec.id);
  const keys = parseDetachKeys(o.detachKeys ?? "ctrl-p,ctrl-q");
  const pid = await startedInit(paths, rec, key);
  let f = flags & ABI.HULL_FLAG_TTY;
  if (flags & ABI.HULL_FLAG_STDIN && !o.noStdin) f |= ABI.HULL_FLAG_STDIN;
  if (!o.sigProxy) f |= ABI.HULL_FLAG_NO_SIG_PROXY;
  return execShim(
    encodeAttachMessage({ runDir: containerDir(paths, rec.id), flags: f, detachKeys: keys, targetPid: pid }),
    "attach",
  );
}
