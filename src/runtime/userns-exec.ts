// Runs hull itself as root in a user namespace with the caller's full id map: the way image layers
// are unpacked (files of uid 1000 must really belong to the subordinate id behind 1000) and removed.
// Bun cannot enter a user namespace itself (it is multi-threaded), so the shim's `exec` mode
// creates the namespace, waits for newuidmap/newgidmap, and execs the command given.
import { hostIdMapping } from "./idmap";
import { encodeExecMessage } from "./message";
import { shimFd } from "./shim";

let shimPath: string | undefined;

/** argv that starts this same hull: the compiled binary, or bun plus the entry script in development. */
export function selfCommand(): string[] {
  return Bun.main.startsWith("/$bunfs/") ? [process.execPath] : [process.execPath, Bun.main];
}

export interface ExecResult {
  code: number;
  stderr: string;
}

export async function runInUserNamespace(
  args: string[],
  env: Record<string, string> = {},
  onStdout?: (text: string) => void,
  mount?: { rootfs: string; overlay: string; fuseProg: string; mode?: number },
  targetPid?: number,
): Promise<ExecResult> {
  const p = await spawnInUserNamespace([...selfCommand(), ...args], env, "pipe", mount, targetPid);
  const [code, stdout, stderr] = await Promise.all([
    p.exited,
    new Response(p.stdout as ReadableStream).text(),
    new Response(p.stderr as ReadableStream).text(),
  ]);
  onStdout?.(stdout);
  return { code, stderr };
}

/**
 * Delete PATHS, which may hold files of any id of the container range: the shim's `remove` mode,
 * root in the user namespace, with no program started for it. With HOLDER_DIR (a store's networks
 * directory), in its live holder's user namespace, where there is one: no newuidmap either.
 */
export async function removeInUserNamespace(paths: string[], holderDir?: string): Promise<ExecResult> {
  if (!shimPath) shimPath = `/proc/${process.pid}/fd/${await shimFd(false)}`;
  const p = Bun.spawn([shimPath, "remove"], {
    stdin: encodeExecMessage(paths, [], hostIdMapping(), undefined, undefined, holderDir),
    stdout: "ignore",
    stderr: "pipe",
  });
  const [code, stderr] = await Promise.all([p.exited, new Response(p.stderr).text()]);
  return { code, stderr };
}

/** ARGV (an absolute program path first) as root in the user namespace; stdin is /dev/null. */
export async function spawnInUserNamespace(
  argv: string[],
  env: Record<string, string>,
  stdio: "pipe" | "inherit",
  mount?: { rootfs: string; overlay: string; fuseProg: string; mode?: number },
  targetPid?: number,
) {
  if (!shimPath) shimPath = `/proc/${process.pid}/fd/${await shimFd(false)}`;
  const envList = Object.entries({
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? "/",
    ...env,
  }).map(([k, v]) => `${k}=${v}`);
  const message = encodeExecMessage(argv, envList, hostIdMapping(), mount, targetPid);
  return Bun.spawn([shimPath, "exec"], { stdin: message, stdout: stdio, stderr: stdio });
}
