// `hull __peers --root DIR`: what the shim runs for a container on user networks as it ends or
// restarts (src/network/attach.ts refreshAllPeers). A module of its own: the default network's run
// path carries it, and must not load the user networks' modules (valibot records, ~6 ms).
import { selfCommand } from "../runtime/userns-exec";
import type { StorePaths } from "../store/paths";

export function peersCommand(paths: StorePaths): string[] {
  return [...selfCommand(), "__peers", "--root", paths.root];
}
