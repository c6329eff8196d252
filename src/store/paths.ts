import { homedir } from "node:os";
import { join } from "node:path";

/** Where hull keeps images and containers: --root, else HULL_ROOT, else $XDG_DATA_HOME/hull. */
export function storeRoot(override?: string): string {
  if (override) return override;
  if (process.env.HULL_ROOT) return process.env.HULL_ROOT;
  const data = process.env.XDG_DATA_HOME || join(homedir(), ".local", "share");
  return join(data, "hull");
}

export interface StorePaths {
  root: string;
  layers: string;
  containers: string;
  tmp: string;
}

export function storePaths(root: string): StorePaths {
  return { root, layers: join(root, "layers"), containers: join(root, "containers"), tmp: join(root, "tmp") };
}
