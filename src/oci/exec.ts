// `hull oci exec`: a process in a container, from --process or from the words and flags over the
// process of the config the container was made with.
import { resolve } from "../sys/path";
import * as v from "valibot";
import { lazily } from "../sys/lazy-schema";
import { ABI } from "../runtime/abi";
import { checkPidFileDir, OciError, spawnShim } from "./child";
import { jsonPath, type OciProcess } from "./config";
import { madeWith, ociStatus, readOciRecord } from "./state";

const UserSchema = lazily(() =>
  v.pipe(
    v.string(),
    v.regex(/^\d+(:\d+)?$/, "--user takes UID[:GID] (numbers: a bundle has no names to look up)"),
    v.transform((s) => s.split(":").map(Number)),
    v.check((ids) => ids.every((n) => n <= 0xfffffffe), "--user: an id is at most 4294967294"),
  ),
);

/** exec: a process in the container, from --process or from the words and flags over the container's own. */
export async function exec(
  root: string,
  id: string,
  f: Record<string, string>,
  lists: Record<string, string[]>,
  args: string[],
  errorLog?: { path: string; json: boolean },
): Promise<number> {
  readOciRecord(root, id);
  const { status, pid } = ociStatus(root, id);
  if (status !== "created" && status !== "running")
    throw new OciError(`container ${id} is ${status}: nothing to exec in`);
  const config = madeWith(root, id);
  if (!config) throw new OciError(`container ${id}: its config is gone from the state directory`);
  const { ProcessSchema } = await import("./config");
  let proc: OciProcess;
  if (f.process) {
    const file = Bun.file(resolve(f.process));
    if (!(await file.exists())) throw new OciError(`--process ${f.process}: no such file`);
    if (file.size > 1 << 20) throw new OciError(`--process ${f.process}: over 1 MiB, not a process.json`);
    let json: unknown;
    try {
      json = JSON.parse(await file.text());
    } catch (e) {
      throw new OciError(`--process ${f.process}: not JSON (${(e as Error).message})`);
    }
    const r = v.safeParse(ProcessSchema, json);
    if (!r.success) throw new OciError(`${f.process}: ${jsonPath(r.issues[0])}: ${r.issues[0].message}`);
    proc = r.output;
  } else {
    const base = config.process ?? { user: { uid: 0, gid: 0 }, args: ["sh"], cwd: "/" };
    if (args.length === 0) throw new OciError("exec needs a command (or --process FILE)");
    const user = f.user ? v.parse(UserSchema, f.user) : undefined;
    const gids = (lists.gids ?? []).map((g) => {
      if (!/^\d+$/.test(g) || Number(g) > 0xfffffffe) throw new OciError(`--additional-gids ${g}: not a gid`);
      return Number(g);
    });
    const caps = lists.cap ?? [];
    const add = (set: string[] | undefined) => [...new Set([...(set ?? []), ...caps])];
    proc = {
      ...base,
      args,
      terminal: f.tty === "true",
      // -e K=V replaces the config's K (a process reads the first of two)
      env: [
        ...(base.env ?? []).filter((e) => !(lists.env ?? []).some((x) => x.split("=")[0] === e.split("=")[0])),
        ...(lists.env ?? []),
      ],
      cwd: f.cwd ?? base.cwd,
      user: user
        ? { uid: user[0] ?? 0, gid: user[1] ?? 0, additionalGids: gids }
        : { ...base.user, ...(gids.length ? { additionalGids: gids } : {}) },
      capabilities: caps.length
        ? {
            bounding: add(base.capabilities?.bounding),
            effective: add(base.capabilities?.effective),
            permitted: add(base.capabilities?.permitted),
          }
        : base.capabilities,
      noNewPrivileges: f.noNewPrivs === "true" || base.noNewPrivileges,
    };
  }
  const detach = f.detach === "true";
  if (f.pidFile) checkPidFileDir(f.pidFile);
  if (proc.terminal && detach && !f.consoleSocket)
    throw new OciError("a terminal needs --console-socket when the process runs detached");
  const { planProcess } = await import("./bundle-plan");
  const planned = await planProcess(proc, config, f.process ? f.process : "exec");
  let flags = planned.flags | ABI.HULL_FLAG_STDIN;
  if (proc.terminal) flags |= ABI.HULL_FLAG_TTY;
  if (detach) flags |= ABI.HULL_FLAG_ORPHAN;
  const { encodeEnterMessage } = await import("../runtime/message");
  const message = encodeEnterMessage({
    ...planned.spec,
    flags,
    targetPid: pid,
    consoleSocket: f.consoleSocket ? resolve(f.consoleSocket) : undefined,
    pidFile: f.pidFile ? resolve(f.pidFile) : undefined,
    errorLog,
  });
  if (detach) return spawnShim(message, "enter");
  const { execShim } = await import("../runtime/shim");
  return execShim(message, "enter");
}
