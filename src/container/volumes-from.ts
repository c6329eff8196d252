// --volumes-from CONTAINER[:ro|:rw]: the volumes and bind mounts of another container, at the same
// paths, as docker gives them. A volume is shared, never copied, and stays the other container's:
// `hull rm -v` of this one leaves it.
import type { StorePaths } from "../store/paths";
import { accessible, F_OK } from "../sys/libc";
import type { MountSpec } from "./binds";
import { findContainer } from "./records";
import { volumeDir } from "./volumes";

/** The mounts FLAGS name, for the paths TAKEN (given by -v, --mount, --tmpfs) does not already cover. */
export function mountsFrom(paths: StorePaths, flags: string[], taken: Set<string>): MountSpec[] {
  const out: MountSpec[] = [];
  for (const flag of flags) {
    const [key = "", mode] = flag.split(":");
    const rec = findContainer(paths, key);
    if (!rec.mounts)
      throw new Error(`--volumes-from ${key}: it was made by an older hull, which did not record its mounts`);
    for (const m of rec.mounts) {
      if (m.type === "tmpfs" || taken.has(m.target)) continue;
      taken.add(m.target);
      const readonly = mode ? mode === "ro" : m.readonly;
      if (m.type === "bind") out.push({ kind: "bind", source: m.source, target: m.target, readonly });
      else {
        if (!accessible(`${volumeDir(paths, m.source)}/volume.json`, F_OK))
          throw new Error(`--volumes-from ${key}: its volume ${m.source} (at ${m.target}) was removed`);
        out.push({ kind: "volume", name: m.source, target: m.target, readonly });
      }
    }
  }
  return out;
}
