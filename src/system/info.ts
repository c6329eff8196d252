// `hull info` (docker info) and `hull system df`: what a script reads about the host and the store,
// with docker's field names, so `--format '{{.CgroupVersion}}'` and `{{.Images}}` mean the same.
import { cpus, hostname, release, totalmem } from "node:os";
import { join } from "../sys/path";
import { containers, type ContainerView } from "../container/manage";
import { containerDir } from "../container/records";
import { listVolumes, usersOf, volumeData } from "../container/volumes";
import { ImageStore, layerBytes } from "../image/store";
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

/** `system df -v`'s lines: each image, container and volume with its size. */
export interface DiskDetail {
  images: {
    id: string;
    created: string;
    size: number;
    shared: number;
    containers: number;
    layers: { digest: string; size: number }[];
  }[];
  containers: { view: ContainerView; size: number }[];
  volumes: { name: string; links: number; size: number }[];
  cache: number;
  cacheEntries: number;
}

/** docker system df: images, containers, volumes and the build cache, in bytes. */
export function diskUsage(paths: StorePaths): DfRow[] {
  return diskUsageOf(diskDetail(paths));
}

export function diskDetail(paths: StorePaths): DiskDetail {
  const store = new ImageStore(paths);
  const all = containers(paths, true);
  const images = store.images();
  // a layer in more than one image is their shared size
  const imagesOfLayer = new Map<string, number>();
  for (const img of images)
    for (const l of img.layers) imagesOfLayer.set(l.digest, (imagesOfLayer.get(l.digest) ?? 0) + 1);
  const containersOf = new Map<string, number>();
  for (const c of all)
    if (c.record.imageId) containersOf.set(c.record.imageId, (containersOf.get(c.record.imageId) ?? 0) + 1);
  return {
    images: images.map((img) => ({
      id: img.id,
      created: img.created,
      size: img.layers.reduce((a, l) => a + layerBytes(l), 0),
      shared: img.layers.reduce((a, l) => a + ((imagesOfLayer.get(l.digest) ?? 0) > 1 ? layerBytes(l) : 0), 0),
      containers: containersOf.get(img.id) ?? 0,
      layers: img.layers.map((l) => ({ digest: l.digest, size: layerBytes(l) })),
    })),
    containers: all.map((c) => ({
      view: c,
      size: treeSize(join(containerDir(paths, c.record.id), "upper")),
    })),
    volumes: listVolumes(paths).map((v) => ({
      name: v.name,
      links: usersOf(paths, v.name).length,
      size: treeSize(volumeData(paths, v.name)),
    })),
    cache: treeSize(join(paths.root, "build-cache")),
    cacheEntries: entryCount(join(paths.root, "build-cache")),
  };
}

function diskUsageOf(d: DiskDetail): DfRow[] {
  // a layer shared by images counts once
  const layerSize = new Map<string, number>();
  const usedLayers = new Set<string>();
  for (const img of d.images)
    for (const l of img.layers) {
      layerSize.set(l.digest, l.size);
      if (img.containers > 0) usedLayers.add(l.digest);
    }
  const imageBytes = [...layerSize.values()].reduce((a, b) => a + b, 0);
  const usedBytes = [...usedLayers].reduce((a, x) => a + (layerSize.get(x) ?? 0), 0);
  return [
    {
      Type: "Images",
      TotalCount: d.images.length,
      Active: d.images.filter((i) => i.containers > 0).length,
      Size: imageBytes,
      Reclaimable: imageBytes - usedBytes,
    },
    {
      Type: "Containers",
      TotalCount: d.containers.length,
      Active: d.containers.filter((c) => c.view.state.status === "running").length,
      Size: d.containers.reduce((a, x) => a + x.size, 0),
      Reclaimable: d.containers.filter((c) => c.view.state.status !== "running").reduce((a, x) => a + x.size, 0),
    },
    {
      Type: "Local Volumes",
      TotalCount: d.volumes.length,
      Active: d.volumes.filter((x) => x.links > 0).length,
      Size: d.volumes.reduce((a, x) => a + x.size, 0),
      Reclaimable: d.volumes.filter((x) => x.links === 0).reduce((a, x) => a + x.size, 0),
    },
    {
      Type: "Build Cache",
      TotalCount: d.cacheEntries,
      Active: 0,
      Size: d.cache,
      Reclaimable: d.cache,
    },
  ];
}
