// A build's RUN: the command in a container of the previous step, with the same isolation core as
// `hull run` (the shim, pid 1 in its own namespaces), on an overlay whose writable layer becomes the
// step's layer. Nothing is recorded as a container: the step's directory is the build's to remove.
import { join } from "../sys/path";
import { buildEnv } from "../container/env";
import { writeEtcFiles } from "../container/etc-files";
import { resolveUser } from "../container/user";
import { ABI } from "../runtime/abi";
import { hostIdMapping } from "../runtime/idmap";
import { encodeMessage, type ShimSpec } from "../runtime/message";
import { type BindMount, namespaceFlags, planMounts } from "../runtime/plan";
import { findProgram } from "../runtime/programs";
import { DEFAULT_SECURITY, resolveSecurity } from "../runtime/security";
import { spawnShim } from "../runtime/shim";
import type { Instruction } from "./dockerfile";

/**
 * A RUN's command: its JSON form as is; else its text run by SHELL, heredoc bodies included so the
 * shell reads them; a lone `<<EOF` is the script, run by its own interpreter when it starts with #!
 * (the file is bound at argv[0], under /dev, a tmpfs of the container's own).
 */
export function runCommand(ins: Instruction, shell: string[]): { argv: string[]; script?: { name: string; body: string } } {
  if (ins.json) return { argv: ins.json };
  const doc = ins.heredocs[0];
  if (doc && ins.heredocs.length === 1 && /^<<-?(["']?)[A-Za-z_][A-Za-z0-9_]*\1$/.test(ins.args.trim())) {
    if (doc.body.startsWith("#!")) return { argv: [`/dev/pipes/${doc.name}`], script: { name: doc.name, body: doc.body } };
    return { argv: [...shell, doc.body] };
  }
  const bodies = ins.heredocs.map((h) => `${h.body}${h.name}\n`).join("");
  return { argv: [...shell, ins.heredocs.length > 0 ? `${ins.args}\n${bodies}` : ins.args] };
}

/** What a RUN's container mounts over its root file system: left out of the step's layer when empty. */
export const RUN_STUBS = ["proc", "dev", "sys", "etc/hostname", "etc/hosts", "etc/resolv.conf"];

export interface RunStep {
  argv: string[];
  /** the image's Env plus the build args in scope */
  env: string[];
  cwd: string;
  user: string;
  network: "none" | "host";
  /** unpacked layers, topmost first; the step's directory holds upper/, work/ and merged/ */
  lowers: string[];
  dir: string;
  overlayMode: number;
  /** -q: the command's output is kept, and shown only if it fails */
  quiet: boolean;
  /** aborted when the build is interrupted */
  signal?: AbortSignal;
  /** host paths bound into the container (a RUN heredoc's script, RUN --mount's) */
  binds?: BindMount[];
  /** RUN --mount=type=tmpfs */
  tmpfs?: Array<{ target: string; options: string }>;
  /** hull build --memory, --cpu-shares...: the cgroup every RUN enters (src/runtime/cgroup.ts) */
  cgroup?: string;
}

/** Run the step's command; its exit code and, with quiet, its output. */
export async function runStep(s: RunStep): Promise<{ code: number; output: string }> {
  const ids = hostIdMapping();
  let user: ReturnType<typeof resolveUser>;
  try {
    user = resolveUser(s.user, s.lowers);
  } catch (e) {
    return { code: ABI.HULL_EXIT_SETUP, output: `${(e as Error).message}\n` };
  }
  if (user.uid >= ids.size || user.gid >= ids.size) {
    return { code: ABI.HULL_EXIT_SETUP, output: `user ${s.user} is not mapped in the container; see hull doctor\n` };
  }
  const hostname = "hull-build";
  const security = await resolveSecurity(DEFAULT_SECURITY);
  const etcFiles = writeEtcFiles(s.dir, hostname, s.network);
  const spec: ShimSpec = {
    argv: s.argv,
    env: buildEnv({ imageEnv: s.env, hostname, home: user.home, tty: false, cli: [], host: {} }),
    cwd: s.cwd,
    uid: user.uid,
    gid: user.gid,
    groups: ids.uidMapProg ? user.groups.filter((g) => g < ids.size) : [],
    // Docker's defaults, as a build's RUN has them: its capabilities and seccomp profile
    capMask: security.capMask,
    seccomp: security.seccomp,
    hostname,
    nsFlags: namespaceFlags(s.network),
    uidMap: ids.uidMap,
    gidMap: ids.gidMap,
    uidMapProg: ids.uidMapProg,
    gidMapProg: ids.gidMapProg,
    rootfs: join(s.dir, "merged"),
    overlay: `lowerdir=${s.lowers.join(":")},upperdir=${join(s.dir, "upper")},workdir=${join(s.dir, "work")}`,
    fuseProg: findProgram("fuse-overlayfs"),
    overlayMode: s.overlayMode,
    cleanup: [],
    stateFile: "",
    ...(s.cgroup ? { cgroup: s.cgroup } : {}),
    // killed with the build, even by SIGKILL: nothing of a RUN may stay behind
    dieWith: process.pid,
    // an init as pid 1, so that SIGINT and SIGTERM end the command (a pid 1 without handlers
    // ignores them) and an interrupted build does not wait for it
    flags:
      ABI.HULL_FLAG_INIT |
      (s.network === "none" ? ABI.HULL_FLAG_NET_LO : 0) |
      (ids.uidMapProg ? ABI.HULL_FLAG_SETGROUPS : 0),
    steps: planMounts({ network: s.network, ttyGroupMapped: ids.size > 5, etcFiles, binds: s.binds ?? [], tmpfs: s.tmpfs }),
  };
  const r = await spawnShim(encodeMessage(spec), ["run", "0"], !s.quiet, s.signal);
  return { code: r.code, output: r.stdout + r.stderr };
}
