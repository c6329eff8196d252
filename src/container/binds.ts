// -v, --mount and --tmpfs, parsed into what the plan mounts: host paths (bind), named volumes, tmpfs.
import { resolve } from "node:path";
import { accessible, F_OK } from "../sys/libc";

export type MountSpec =
  | { kind: "bind"; source: string; target: string; readonly: boolean }
  | { kind: "volume"; name: string; target: string; readonly: boolean }
  | { kind: "tmpfs"; target: string; options: string };

function checkTarget(target: string, spec: string): void {
  if (!target.startsWith("/") || target === "/")
    throw new Error(`${spec}: the container path must be absolute and not /`);
}

/** -v HOST:CONTAINER[:ro|rw] (a path: bind) or NAME:CONTAINER[:ro|rw] (a named volume). */
export function parseVolumeFlag(spec: string, cwd = process.cwd()): MountSpec {
  const parts = spec.split(":");
  if (parts.length < 2 || parts.length > 3)
    throw new Error(`invalid volume ${spec}: use HOST:CONTAINER[:ro] or NAME:CONTAINER[:ro]`);
  const [src = "", dst = "", mode = "rw"] = parts;
  checkTarget(dst, `volume ${spec}`);
  if (mode !== "ro" && mode !== "rw") throw new Error(`volume ${spec}: mode must be ro or rw, not ${mode}`);
  if (!src.startsWith("/") && !src.startsWith("."))
    return { kind: "volume", name: src, target: dst, readonly: mode === "ro" };
  const source = resolve(cwd, src);
  if (!accessible(source, F_OK)) throw new Error(`bind source path does not exist: ${source} (create it first)`);
  return { kind: "bind", source, target: dst, readonly: mode === "ro" };
}

/** --mount type=bind|volume|tmpfs,source=..,target=..[,readonly][,tmpfs-size=..][,tmpfs-mode=..] */
export function parseMountFlag(spec: string, cwd = process.cwd()): MountSpec {
  const kv = new Map<string, string>();
  for (const part of spec.split(",")) {
    const eq = part.indexOf("=");
    kv.set(eq < 0 ? part : part.slice(0, eq), eq < 0 ? "true" : part.slice(eq + 1));
  }
  const type = kv.get("type") ?? "volume";
  const target = kv.get("target") ?? kv.get("destination") ?? kv.get("dst") ?? "";
  checkTarget(target, `--mount ${spec}`);
  const ro = ["true", "1"].includes(kv.get("readonly") ?? kv.get("ro") ?? "false");
  const source = kv.get("source") ?? kv.get("src") ?? "";
  if (type === "bind") {
    if (!source) throw new Error(`--mount ${spec}: a bind mount needs source=`);
    const abs = resolve(cwd, source);
    if (!accessible(abs, F_OK)) throw new Error(`bind source path does not exist: ${abs} (create it first)`);
    return { kind: "bind", source: abs, target, readonly: ro };
  }
  if (type === "volume") return { kind: "volume", name: source, target, readonly: ro };
  if (type === "tmpfs") {
    const opts = [
      kv.get("tmpfs-size") && `size=${kv.get("tmpfs-size")}`,
      kv.get("tmpfs-mode") && `mode=${kv.get("tmpfs-mode")}`,
    ];
    return { kind: "tmpfs", target, options: opts.filter(Boolean).join(",") };
  }
  throw new Error(`--mount ${spec}: type must be bind, volume or tmpfs`);
}

/** --tmpfs /path[:options] */
export function parseTmpfsFlag(spec: string): MountSpec {
  const colon = spec.indexOf(":");
  const target = colon < 0 ? spec : spec.slice(0, colon);
  checkTarget(target, `--tmpfs ${spec}`);
  return { kind: "tmpfs", target, options: colon < 0 ? "" : spec.slice(colon + 1) };
}
