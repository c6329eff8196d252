// `hull exec`: a new process in a running container's namespaces, with the container's
// environment, user and working directory unless -e, -u, -w say otherwise.
import { join } from "../sys/path";
import * as v from "valibot";
import { lazily } from "../sys/lazy-schema";
import { ABI } from "../runtime/abi";
import { encodeEnterMessage } from "../runtime/message";
import { execShim, readShimSoon } from "../runtime/shim";
import type { StorePaths } from "../store/paths";
import { isatty, readFileText } from "../sys/libc";
import { containerDir, containerState, findContainer, startedInit } from "./records";
import { resolveUser } from "./user";

export interface ExecOptions {
  container: string;
  argv: string[];
  env: string[];
  user?: string;
  workdir?: string;
  tty: boolean;
  interactive: boolean;
}

const Saved = lazily(() =>
  v.looseObject({
    env: v.array(v.string()),
    cwd: v.string(),
    uid: v.number(),
    gid: v.number(),
    groups: v.array(v.number()),
    flags: v.number(),
    capMask: v.optional(v.pipe(v.string(), v.regex(/^\d+$/))),
    seccomp: v.optional(v.string()),
    rlimits: v.optional(v.array(v.string())),
    oomScoreAdj: v.optional(v.number()),
  }),
);

export async function execInContainer(paths: StorePaths, o: ExecOptions): Promise<never> {
  if (o.argv.length === 0) throw new Error("hull exec needs a command: hull exec CONTAINER COMMAND [ARG...]");
  // the shim's bytes are read on Bun's I/O threads while the container is looked up
  readShimSoon();
  if (o.tty && o.interactive && !isatty(0))
    throw new Error("the input device is not a TTY: drop -t, or run from a terminal");
  return execShim(await enterMessage(paths, o), "enter");
}

/** The shim's message that runs O's command in its container (hull exec's, and the health check's). */
export async function enterMessage(paths: StorePaths, o: ExecOptions): Promise<Uint8Array> {
  const rec = findContainer(paths, o.container);
  const state = containerState(paths, rec);
  if (state.status !== "running") throw new Error(`container ${o.container} is not running`);
  if (state.paused) throw new Error(`container ${o.container} is paused: hull unpause it first`);
  const pid = await startedInit(paths, rec, o.container);
  const text = readFileText(join(containerDir(paths, rec.id), "spec.json"));
  if (!text) throw new Error(`container ${o.container} has no saved spec (made by an older hull?)`);
  const spec = v.parse(Saved, JSON.parse(text));

  const env = new Map(spec.env.map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
  for (const e of o.env) {
    const eq = e.indexOf("=");
    if (eq >= 0) env.set(e.slice(0, eq), e.slice(eq + 1));
    else if (process.env[e] !== undefined) env.set(e, process.env[e] as string);
  }
  let { uid, gid, groups } = spec;
  if (o.user !== undefined) {
    // the container's own /etc/passwd, as it is now
    const u = resolveUser(o.user, [`/proc/${pid}/root`]);
    ({ uid, gid } = u);
    groups = u.groups;
    env.set("HOME", u.home);
  }
  // the container's own capabilities, seccomp filter and no_new_privs, as docker exec applies them
  let flags = spec.flags & (ABI.HULL_FLAG_SETGROUPS | ABI.HULL_FLAG_NO_NEW_PRIVS);
  if (o.tty) flags |= ABI.HULL_FLAG_TTY;
  if (o.interactive) flags |= ABI.HULL_FLAG_STDIN;
  if (o.tty && !env.has("TERM")) env.set("TERM", "xterm");
  // into the container's limits, where it has a cgroup of its own (docker exec's processes are the
  // container's too)
  const { containerCgroup, joinContainerCgroup } = await import("../runtime/cgroup");
  const cgroup = containerCgroup(pid);
  if (cgroup) joinContainerCgroup(cgroup);
  return encodeEnterMessage({
    argv: o.argv,
    env: [...env].map(([k, val]) => `${k}=${val}`),
    cwd: o.workdir ?? spec.cwd,
    uid,
    gid,
    groups,
    capMask: spec.capMask,
    seccomp: spec.seccomp,
    rlimits: spec.rlimits,
    oomScoreAdj: spec.oomScoreAdj,
    flags,
    targetPid: pid,
  });
}
