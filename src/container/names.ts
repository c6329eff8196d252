// Container names are unique: each is a symlink names/<name> -> <container id>, created with
// symlink(2), which fails if the name exists, so two hull processes cannot both take it. A link whose
// container is gone (removed, or a --rm container the shim cleaned up) is stale and reclaimed.
import { join } from "../sys/path";
import { withLock } from "../store/lock";
import type { StorePaths } from "../store/paths";
import { accessible, F_OK, mkdir, readlink, symlinkIfAbsent, unlinkIfExists } from "../sys/libc";
import { generateName } from "./records";

export const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

function namesDir(paths: StorePaths): string {
  return join(paths.root, "names");
}

export function nameLink(paths: StorePaths, name: string): string {
  return join(namesDir(paths), name);
}

async function claim(paths: StorePaths, name: string, id: string): Promise<boolean> {
  const link = join(namesDir(paths), name);
  if (symlinkIfAbsent(id, link)) return true;
  const stale = (owner: string | undefined) => !owner || !accessible(join(paths.containers, owner), F_OK);
  if (!stale(readlink(link))) return false;
  // stale: its container is gone. Reclaimed under the names lock, where the link is read again: two
  // hull processes that both saw it stale would otherwise each unlink the other's fresh link and both
  // believe the name theirs.
  return withLock(join(paths.root, "locks", "names.lock"), () => {
    if (!stale(readlink(link))) return false;
    unlinkIfExists(link);
    return symlinkIfAbsent(id, link);
  });
}

/** Reserve NAME (or a generated one) for container ID; returns the name. */
export async function reserveName(paths: StorePaths, id: string, name?: string): Promise<string> {
  mkdir(namesDir(paths), 0o700, true);
  if (name) {
    if (!NAME_RE.test(name)) throw new Error(`invalid container name ${name}: letters, digits, '_', '.' and '-' only`);
    if (!(await claim(paths, name, id)))
      throw new Error(`the container name ${name} is already in use: remove that container or choose another name`);
    return name;
  }
  const taken = new Set<string>();
  for (;;) {
    const candidate = generateName(taken);
    if (await claim(paths, candidate, id)) return candidate;
    taken.add(candidate);
  }
}

export function releaseName(paths: StorePaths, name: string | undefined, id: string): void {
  if (!name) return;
  const link = join(namesDir(paths), name);
  if (readlink(link) === id) unlinkIfExists(link);
}
