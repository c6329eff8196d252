// `hull info` (docker info) and `hull system df`: what a script reads about the host and the store,
// with docker's field names, so `--format '{{.CgroupVersion}}'` and `{{.Images}}` mean the same.
import { cpus, hostname, release, totalmem } from "node:os";
import { join } from "node:path";
import { containers } from "../container/manage";
import { containerDir } from "../container/records";
import { listVolumes, usersOf, volumeData } from "../container/volumes";
import { ImageStore } from "../image/store";
import { findHelper } from "../network/mode";
import { cgroupHost } from "../runtime/cgroup";
import { findProgram } from "../runtime/programs";
import type { StorePaths } from "../store/paths";
import { readFileText } from "../sys/libc";
import { loadConfig } from "../store/config";
import { entryCount, treeSize } from "../store/tree-size";

/** Each setting the config file can give, its value and where it came from. */
export function configSources(rootFrom: string): Record<string, { Value: unknown; From: string }> {
  const { config, path } = loadConfig();
  const run = config.run ?? {};
  const env = (process.env.HULL_INSECURE_REGISTRIES ?? "").split(",").filter(Boolean);
  const insecure = config.registries?.insecure ?? [];
  return {
    StorageRoot: { Value: "", From: rootFrom },
    DefaultNetwork: { Value: run.network ?? "bridge", From: run.network ? path : "default" },
    Pull: { Value: run.pull ?? "missing", From: run.pull ? path : "default" },
    Ulimits: { Value: run.ulimits ?? [], From: run.ulimits ? path : "default" },
    InsecureRegistries: {
      Value: [...env, ...insecure],
      From:
        [env.length ? "HULL_INSECURE_REGISTRIES" : "", insecure.length ? path : ""].filter(Boolean).join(", ") ||
        "default",
    },
    SearchRegistries: {
      Value: config.registries?.search ?? ["docker.io"],
      From: config.registries?.search ? path : "default",
    },
    Aliases: { Value: config.aliases ?? {}, From: config.aliases ? path : "default" },
  };
}

export function systemInfo(paths: StorePaths, version: string, rootFrom = "default"): Record<string, unknown> {
  const all = containers(paths, true);
  const count = (s: string) =>
    all.filter((c) => (s === "paused" ? c.state.status === "running" && c.state.paused : c.state.status === s)).length;
  const running = all.filter((c) => c.state.status === "running" && !c.state.paused).length;
  const cg = cgroupHost();
  const osRelease = readFileText("/etc/os-release") ?? "";
  const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(osRelease)?.[1] ?? "Linux";
  const helper = findHelper();
  const arch = ({ x64: "x86_64", arm64: "aarch64" } as Record<string, string>)[process.arch] ?? process.arch;
  return {
    ID: "",
    Containers: all.length,
    ContainersRunning: running,
    ContainersPaused: count("paused"),
    ContainersStopped: all.length - running - count("paused"),
    Images: new ImageStore(paths).images().length,
    Driver: "overlay",
    DockerRootDir: paths.root,
    CgroupDriver: cg.ok ? "systemd" : "none",
    CgroupVersion: cg.ok ? "2" : "1",
    KernelVersion: release(),
    OperatingSystem: pretty,
    OSType: "linux",
    Architecture: arch,
    NCPU: cpus().length,
    MemTotal: totalmem(),
    Name: hostname(),
    ServerVersion: version,
    SecurityOptions: ["name=seccomp,profile=builtin", "name=rootless", ...(cg.ok ? ["name=cgroupns"] : [])],
    // hull's own: the helpers it found, daemonless
    Rootless: true,
    NetworkBackend: helper?.kind ?? "none",
    // what hull itself would use (PATH, then the system's directories), as doctor reports it
    Newuidmap: findProgram("newuidmap") !== "",
    FuseOverlayfs: findProgram("fuse-overlayfs") !== "",
    CgroupsDelegated: cg.ok && cg.delegated,
    ConfigFile: loadConfig().path,
    ConfigFileFound: loadConfig().found,
    Config: Object.fromEntries(
      Object.entries(configSources(rootFrom)).map(([k, s]) => [
        k,
        k === "StorageRoot" ? { ...s, Value: paths.root } : s,
      ]),
    ),
  };
}

export interface DfRow {
  Type: string;
  TotalCount: number;
  Active: number;
  Size: number;
  Reclaimable: number;
}

/** docker system df: images, containers, volumes and the build cache, in bytes. */
export function diskUsage(paths: StorePaths): DfRow[] {
  const store = new ImageStore(paths);
  const all = containers(paths, true);
  const used = new Set(all.map((c) => c.record.imageId).filter(Boolean));
  const images = store.images();
  // a layer shared by images counts once
  const layerSize = new Map<string, number>();
  const usedLayers = new Set<string>();
  for (const img of images)
    for (const l of img.layers) {
      layerSize.set(l.digest, l.size);
      if (used.has(img.id)) usedLayers.add(l.digest);
    }
  const imageBytes = [...layerSize.values()].reduce((a, b) => a + b, 0);
  const usedBytes = [...usedLayers].reduce((a, d) => a + (layerSize.get(d) ?? 0), 0);
  const ctrSizes = all.map((c) => ({ c, size: treeSize(join(containerDir(paths, c.record.id), "upper")) }));
  const vols = listVolumes(paths).map((v) => ({
    v,
    size: treeSize(volumeData(paths, v.name)),
    users: usersOf(paths, v.name),
  }));
  const cache = treeSize(join(paths.root, "build-cache"));
  return [
    {
      Type: "Images",
      TotalCount: images.length,
      Active: images.filter((i) => used.has(i.id)).length,
      Size: imageBytes,
      Reclaimable: imageBytes - usedBytes,
    },
    {
      Type: "Containers",
      TotalCount: all.length,
      Active: all.filter((c) => c.state.status === "running").length,
      Size: ctrSizes.reduce((a, x) => a + x.size, 0),
      Reclaimable: ctrSizes.filter((x) => x.c.state.status !== "running").reduce((a, x) => a + x.size, 0),
    },
    {
      Type: "Local Volumes",
      TotalCount: vols.length,
      Active: vols.filter((x) => x.users.length > 0).length,
      Size: vols.reduce((a, x) => a + x.size, 0),
      Reclaimable: vols.filter((x) => x.users.length === 0).reduce((a, x) => a + x.size, 0),
    },
    {
      Type: "Build Cache",
      TotalCount: entryCount(join(paths.root, "build-cache")),
      Active: 0,
      Size: cache,
      Reclaimable: cache,
    },
  ];
}
