import { homedir } from "node:os";
import { join, resolve } from "node:path";

/**
 * Where hull keeps images and containers: --root, else HULL_ROOT, else $XDG_DATA_HOME/hull; always
 * absolute (a relative one is taken from the current directory, as every path on a command line).
 */
export function storeRoot(override?: string): string {
  if (override === "") throw new Error("--root needs a directory: --root DIR");
  if (override) return resolve(override);
  if (process.env.HULL_ROOT) return resolve(process.env.HULL_ROOT);
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
