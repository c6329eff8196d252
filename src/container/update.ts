// `hull update`: new limits for a container. The record keeps them (its next start uses them); a
// running container with a cgroup of its own gets them at once, written where the kernel reads them.
import { dirname, join } from "../sys/path";
import {
  cgroupHost,
  containerCgroup,
  enableControllers,
  neededControllers,
  parseLimits,
  writeLimits,
} from "../runtime/cgroup";
import { writeFileAtomic } from "../store/atomic";
import type { StorePaths } from "../store/paths";
import { containerDir, containerState, findContainer, initPid, withContainerLock } from "./records";

export async function updateLimits(paths: StorePaths, key: string, flags: Record<string, string>): Promise<void> {
  const found = findContainer(paths, key);
  parseLimits(flags); // a bad value is named first, whatever the host
  // a limit no start could give would only make the next start fail: refused before it is kept
  const host = cgroupHost();
  if (!host.ok) throw new Error(`resource limits need cgroup v2: ${host.reason}; ${host.fix}`);
  await withContainerLock(
    paths,
    found.id,
    async () => {
      const rec = findContainer(paths, key);
      const merged = { ...(rec.limits ?? {}), ...flags };
      // --cpus replaces a quota given before, and a quota --cpus
      if (flags.cpus !== undefined) delete merged.cpuQuota;
      if (flags.cpuQuota !== undefined) delete merged.cpus;
      const limits = parseLimits(merged);
      writeFileAtomic(
        join(containerDir(paths, rec.id), "container.json"),
        `${JSON.stringify({ ...rec, limits: merged }, null, 2)}\n`,
      );
      const pid = containerState(paths, rec).status === "running" ? initPid(paths, rec.id) : undefined;
      if (pid === undefined) return;
      const dir = containerCgroup(pid);
      if (!dir)
        throw new Error(
          `container ${key} runs without a cgroup of its own (it was started with no limit): the new limits apply from its next start`,
        );
      // a controller the first limits did not need is handed down now (the scope holds no process)
      enableControllers(dirname(dir), neededControllers(limits));
      writeLimits(dir, limits);
    },
    key,
  );
}
