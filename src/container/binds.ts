// -v, --mount and --tmpfs, parsed into what the plan mounts: host paths (bind), named volumes, tmpfs.
import { resolve } from "../sys/path";
import { MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY } from "../runtime/abi";
import { accessible, F_OK } from "../sys/libc";

export type MountSpec =
  | { kind: "bind"; source: string; target: string; readonly: boolean; create?: boolean }
  | { kind: "volume"; name: string; target: string; readonly: boolean }
  | { kind: "tmpfs"; target: string; options: string; flags?: number };

function checkTarget(target: string, spec: string): void {
  if (!target.startsWith("/") || target === "/")
    throw new Error(`${spec}: the container path must be absolute and not /`);
}

/** -v options that change nothing here: SELinux labels (no SELinux), macOS consistency hints */
const VOLUME_NOOPS = new Set(["z", "Z", "cached", "delegated", "consistent"]);
/** -v options Docker has that hull does not do yet: refused by name rather than ignored */
const VOLUME_UNSUPPORTED = new Set(["nocopy", "shared", "rshared", "slave", "rslave", "private", "rprivate"]);

/**
 * -v HOST:CONTAINER[:OPTIONS] (a path: bind) or NAME:CONTAINER[:OPTIONS] (a named volume). OPTIONS
 * is Docker's comma-separated list: ro or rw, plus z, Z, cached, delegated, consistent (accepted, no
 * effect here); anything else is an error, never a mount that silently differs from what was asked.
 */
export function parseVolumeFlag(spec: string, cwd = process.cwd()): MountSpec {
  const parts = spec.split(":");
  // -v /app/node_modules: an anonymous volume there
  if (parts.length === 1 && spec.startsWith("/")) {
    checkTarget(spec, `volume ${spec}`);
    return { kind: "volume", name: "", target: spec, readonly: false };
  }
  if (parts.length < 2 || parts.length > 3)
    throw new Error(`invalid volume ${spec}: use HOST:CONTAINER[:ro] or NAME:CONTAINER[:ro]`);
  const [src = "", dst = "", options = ""] = parts;
  checkTarget(dst, `volume ${spec}`);
  let readonly = false;
  let modes = 0;
  for (const opt of options === "" ? [] : options.split(",")) {
    if (opt === "ro" || opt === "rw") {
      readonly = opt === "ro";
      modes++;
    } else if (VOLUME_UNSUPPORTED.has(opt)) {
      throw new Error(`volume ${spec}: the option ${opt} is not supported by hull yet`);
    } else if (!VOLUME_NOOPS.has(opt)) {
      throw new Error(
        `volume ${spec}: unknown option ${JSON.stringify(opt)} (ro, rw, z, Z, cached, delegated, consistent)`,
      );
    }
  }
  if (modes > 1) throw new Error(`volume ${spec}: give ro or rw once`);
  if (src === "") throw new Error(`invalid volume ${spec}: the source is empty`);
  if (!src.startsWith("/") && !src.startsWith(".")) return { kind: "volume", name: src, target: dst, readonly };
  const source = resolve(cwd, src);
  // docker makes a missing source directory for -v (never for --mount): the caller makes it
  return { kind: "bind", source, target: dst, readonly, ...(accessible(source, F_OK) ? {} : { create: true }) };
}

const MOUNT_KEYS = new Set([
  "type",
  "source",
  "src",
  "target",
  "destination",
  "dst",
  "readonly",
  "ro",
  "tmpfs-size",
  "tmpfs-mode",
  "consistency",
]);
const MOUNT_ALIASES: Record<string, string> = { src: "source", destination: "target", dst: "target", ro: "readonly" };
const MOUNT_UNSUPPORTED = new Set([
  "bind-propagation",
  "bind-nonrecursive",
  "bind-recursive",
  "volume-nocopy",
  "volume-subpath",
  "volume-label",
  "volume-driver",
  "volume-opt",
  "image-subpath",
]);

/** readonly / ro as Docker reads them: bare, or true|1|false|0; anything else is an error */
function mountBool(spec: string, key: string, value: string): boolean {
  if (value === "true" || value === "1") return true;
  if (value === "false" || value === "0") return false;
  throw new Error(`--mount ${spec}: ${key} takes true, false, 1 or 0, not ${JSON.stringify(value)}`);
}

/** --mount type=bind|volume|tmpfs,source=..,target=..[,readonly][,tmpfs-size=..][,tmpfs-mode=..] */
export function parseMountFlag(spec: string, cwd = process.cwd()): MountSpec {
  const kv = new Map<string, string>();
  for (const part of spec.split(",")) {
    const eq = part.indexOf("=");
    const given = (eq < 0 ? part : part.slice(0, eq)).trim();
    if (MOUNT_UNSUPPORTED.has(given)) throw new Error(`--mount ${spec}: ${given} is not supported by hull yet`);
    if (!MOUNT_KEYS.has(given)) throw new Error(`--mount ${spec}: unknown option ${JSON.stringify(given)}`);
    // one key under its several names: `readonly=false,ro` must not leave the mount writable
    const key = MOUNT_ALIASES[given] ?? given;
    if (kv.has(key)) throw new Error(`--mount ${spec}: ${key} given twice`);
    // only the booleans may stand bare
    if (eq < 0 && key !== "readonly") throw new Error(`--mount ${spec}: ${given} needs a value (${given}=...)`);
    kv.set(key, eq < 0 ? "true" : part.slice(eq + 1));
  }
  const type = kv.get("type") ?? "volume";
  const target = kv.get("target") ?? "";
  checkTarget(target, `--mount ${spec}`);
  const ro = kv.has("readonly") ? mountBool(spec, "readonly", kv.get("readonly") as string) : false;
  const source = kv.get("source") ?? "";
  if (type !== "tmpfs" && (kv.has("tmpfs-size") || kv.has("tmpfs-mode")))
    throw new Error(`--mount ${spec}: tmpfs-size and tmpfs-mode go with type=tmpfs`);
  if (type === "bind") {
    if (!source) throw new Error(`--mount ${spec}: a bind mount needs source=`);
    const abs = resolve(cwd, source);
    if (!accessible(abs, F_OK)) throw new Error(`bind source path does not exist: ${abs} (create it first)`);
    return { kind: "bind", source: abs, target, readonly: ro };
  }
  if (type === "volume") return { kind: "volume", name: source, target, readonly: ro };
  if (type === "tmpfs") {
    if (source) throw new Error(`--mount ${spec}: a tmpfs has no source`);
    const size = kv.get("tmpfs-size");
    const mode = kv.get("tmpfs-mode");
    if (size !== undefined && !/^\d+[kmgKMG]?$/.test(size))
      throw new Error(`--mount ${spec}: tmpfs-size takes bytes, or a number with k, m or g`);
    if (mode !== undefined && !/^[0-7]{3,4}$/.test(mode))
      throw new Error(`--mount ${spec}: tmpfs-mode takes an octal mode`);
    const opts = [size && `size=${size}`, mode && `mode=${mode}`];
    return { kind: "tmpfs", target, options: opts.filter(Boolean).join(",") };
  }
  throw new Error(`--mount ${spec}: type must be bind, volume or tmpfs`);
}

const TMPFS_DATA: Record<string, RegExp> = {
  size: /^\d+[kmgKMG%]?$/,
  mode: /^[0-7]{3,4}$/,
  uid: /^\d+$/,
  gid: /^\d+$/,
  nr_inodes: /^\d+[kmgKMG]?$/,
  nr_blocks: /^\d+[kmgKMG]?$/,
};
/** mount flags a --tmpfs option sets (positive) or clears (negative); nosuid and nodev are the default */
const TMPFS_FLAGS: Record<string, number> = {
  ro: MS_RDONLY,
  rw: -MS_RDONLY,
  noexec: MS_NOEXEC,
  exec: -MS_NOEXEC,
  nosuid: MS_NOSUID,
  suid: -MS_NOSUID,
  nodev: MS_NODEV,
  dev: -MS_NODEV,
};

/**
 * --tmpfs /path[:options]: Docker's options, each checked here (a bad size left a container that
 * could never start): size, mode, uid, gid, nr_inodes, nr_blocks, and the flags ro, noexec, nosuid,
 * nodev and their opposites.
 */
export function parseTmpfsFlag(spec: string): MountSpec {
  const colon = spec.indexOf(":");
  const target = colon < 0 ? spec : spec.slice(0, colon);
  checkTarget(target, `--tmpfs ${spec}`);
  const data: string[] = [];
  let flags = MS_NOSUID | MS_NODEV;
  for (const opt of colon < 0 ? [] : spec.slice(colon + 1).split(",")) {
    if (opt === "") continue;
    const eq = opt.indexOf("=");
    const key = eq < 0 ? opt : opt.slice(0, eq);
    const flag = TMPFS_FLAGS[key];
    if (flag !== undefined && eq < 0) {
      flags = flag > 0 ? flags | flag : flags & ~-flag;
      continue;
    }
    const re = TMPFS_DATA[key];
    if (!re) throw new Error(`--tmpfs ${spec}: unknown option ${JSON.stringify(opt)}`);
    if (eq < 0 || !re.test(opt.slice(eq + 1)))
      throw new Error(
        `--tmpfs ${spec}: ${key} takes ${key === "mode" ? "an octal mode" : "a number (k, m or g may follow)"}`,
      );
    data.push(opt);
  }
  return { kind: "tmpfs", target, options: data.join(","), flags };
}
