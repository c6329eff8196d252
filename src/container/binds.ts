// -v HOST:CONTAINER[:ro|rw] bind mounts. Named volumes arrive with `hull volume`.
import { resolve } from "node:path";
import type { BindMount } from "../runtime/plan";
import { accessible, F_OK } from "../sys/libc";

export function parseBind(spec: string, cwd = process.cwd()): BindMount {
  const parts = spec.split(":");
  if (parts.length < 2 || parts.length > 3) throw new Error(`invalid volume ${spec}: use HOST:CONTAINER[:ro]`);
  const [src = "", dst = "", mode = "rw"] = parts;
  if (!src.startsWith("/") && !src.startsWith(".")) {
    throw new Error(`volume ${spec}: named volumes are not supported yet; give an absolute host path`);
  }
  if (!dst.startsWith("/") || dst === "/")
    throw new Error(`volume ${spec}: the container path must be absolute and not /`);
  if (mode !== "ro" && mode !== "rw") throw new Error(`volume ${spec}: mode must be ro or rw, not ${mode}`);
  const source = resolve(cwd, src);
  if (!accessible(source, F_OK)) throw new Error(`bind source path does not exist: ${source} (create it first)`);
  return { source, target: dst, readonly: mode === "ro" };
}
