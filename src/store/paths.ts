import { homeDir } from "../sys/home";
import { join, resolve } from "../sys/path";
import { expandHome, loadConfig } from "./config";

/**
 * Where hull keeps images and containers: --root, else HULL_ROOT, else the config file's
 * storage.root, else $XDG_DATA_HOME/hull; always absolute (a relative one is taken from the current
 * directory, as every path on a command line).
 */
export function storeRoot(override?: string): string {
  return storeRootFrom(override).root;
}

/** storeRoot, and where it came from (hull info says) */
export function storeRootFrom(override?: string): { root: string; from: string } {
  if (override === "") throw new Error("--root needs a directory: --root DIR");
  // read (and checked) whatever gives the root: a typo in the file is an error wherever it stands
  const { config, path } = loadConfig();
  if (override) return { root: resolve(override), from: "--root" };
  if (process.env.HULL_ROOT) return { root: resolve(process.env.HULL_ROOT), from: "HULL_ROOT" };
  if (config.storage?.root) return { root: resolve(expandHome(config.storage.root)), from: path };
  const data = process.env.XDG_DATA_HOME || join(homeDir(), ".local", "share");
  return { root: join(data, "hull"), from: "default" };
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
