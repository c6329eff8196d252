import type { ArgsDef } from "citty";
import { confirmed, filterArg, forceArg, pruneFilter } from "../prune";
import { checkStore } from "../../system/check";
import { storePaths, storeRoot } from "../../store/paths";
import type { HullCommand } from "../command";
import { familiarName, parseReference } from "../../image/reference";
import { ImageStore } from "../../image/store";
import type { StorePaths } from "../../store/paths";
import { print } from "../output";
import { visible } from "../../sys/control-chars";
import { rootArg } from "./image-common";
import { inspectPrinter } from "../inspected";
import { formatArg, renderListing } from "../listing";

const pruneArgs = {
  all: { type: "boolean", alias: "a", description: "Every image no container uses, not only dangling ones" },
  volumes: { type: "boolean", description: "Anonymous volumes no container uses too" },
  ...forceArg,
  ...filterArg,
  ...rootArg,
} as const satisfies ArgsDef;

const infoArgs = {
  format: { type: "string", alias: "f", description: "A Go template ({{.CgroupVersion}}), or json" },
  ...rootArg,
} as const satisfies ArgsDef;

/** docker info: the host and the store as hull sees them */
export const info: HullCommand = {
  meta: {
    name: "info",
    description: "Show the host and the store as hull sees them: hull info [--format '{{.CgroupVersion}}'|json]",
  },
  takes: 0,
  args: infoArgs,
  async run({ args }) {
    const { storeRootFrom } = await import("../../store/paths");
    const where = storeRootFrom(typeof args.root === "string" ? args.root : undefined);
    const paths = storePaths(where.root);
    const { systemInfo } = await import("../../system/info");
    const { VERSION } = await import("../version");
    const show = args.format === undefined || args.format === "json" ? undefined : inspectPrinter(args.format);
    const i = systemInfo(paths, VERSION, where.from);
    const c = i.Config as Record<string, { Value: unknown; From: string }>;
    const shown = (k: string) => {
      const val = c[k]?.Value;
      const text = Array.isArray(val)
        ? val.join(", ") || "none"
        : typeof val === "object"
          ? Object.keys(val as object).join(", ") || "none"
          : String(val);
      return `${text} (from ${c[k]?.From})`;
    };
    if (args.format === "json") return print(JSON.stringify(i));
    if (show) return show([i]);
    const lines = [
      "Client:",
      ` Version:    ${VERSION}`,
      "",
      "Server:",
      ` Containers: ${i.Containers}`,
      `  Running: ${i.ContainersRunning}`,
      `  Paused: ${i.ContainersPaused}`,
      `  Stopped: ${i.ContainersStopped}`,
      ` Images: ${i.Images}`,
      ` Server Version: ${i.ServerVersion} (hull, daemonless)`,
      ` Storage Driver: ${i.Driver}`,
      ` Cgroup Driver: ${i.CgroupDriver}`,
      ` Cgroup Version: ${i.CgroupVersion}${i.CgroupsDelegated ? "" : " (no delegated cgroup v2: limits unavailable, see hull doctor)"}`,
      ` Network: ${i.NetworkBackend}`,
      " Security Options:",
      ...(i.SecurityOptions as string[]).map((o) => `  ${o}`),
      ` Kernel Version: ${i.KernelVersion}`,
      ` Operating System: ${i.OperatingSystem}`,
      ` OSType: ${i.OSType}`,
      ` Architecture: ${i.Architecture}`,
      ` CPUs: ${i.NCPU}`,
      ` Total Memory: ${((i.MemTotal as number) / 1073741824).toFixed(2)}GiB`,
      ` Name: ${i.Name}`,
      ` Docker Root Dir: ${i.DockerRootDir}`,
      ` Config File: ${i.ConfigFile} (${i.ConfigFileFound ? "read" : "none"})`,
      `  Storage Root: ${shown("StorageRoot")}`,
      `  Default Network: ${shown("DefaultNetwork")}`,
      `  Pull: ${shown("Pull")}`,
      `  Ulimits: ${shown("Ulimits")}`,
      `  Insecure Registries: ${shown("InsecureRegistries")}`,
      `  Search Registries: ${shown("SearchRegistries")}`,
      `  Aliases: ${shown("Aliases")}`,
    ];
    print(lines.join("\n"));
  },
};

const dfArgs = {
  format: { type: "string", description: "table, json, a Go template ({{.Type}} {{.Size}}), or table TEMPLATE" },
  verbose: { type: "boolean", alias: "v", description: "Each image, container and volume with its size, as docker's" },
  ...rootArg,
} as const satisfies ArgsDef;

const DF_HEADERS = { Type: "TYPE", TotalCount: "TOTAL", Active: "ACTIVE", Size: "SIZE", Reclaimable: "RECLAIMABLE" };

/** docker's `system df -v`: a table of images, of containers and of volumes, then the build cache. */
async function verboseDf(
  d: import("../../system/info").DiskDetail,
  paths: StorePaths,
  format: typeof import("./image-common").format,
  table: typeof import("./image-common").table,
): Promise<string> {
  const { commandColumn, status } = await import("./containers");
  const store = new ImageStore(paths);
  const index = store.readableTags();
  const names = (id: string) =>
    Object.entries(index.tags)
      .filter(([, v]) => v === id)
      .map(([k]) => k);
  const imageRows: string[][] = [];
  for (const img of d.images) {
    // the image's own creation, as hull images shows it (the config's), not the record's
    let created = img.created;
    try {
      created = ((await Bun.file(store.blobPath(img.id)).json()) as { created?: string }).created ?? created;
    } catch {}
    const row = (repo: string, tag: string) => [
      repo,
      tag,
      img.id.slice(7, 19),
      format.ago(created),
      format.human(img.size),
      format.human(img.shared),
      format.human(img.size - img.shared),
      String(img.containers),
    ];
    const tags = names(img.id).flatMap((t) => {
      try {
        return [parseReference(t)];
      } catch {
        return [];
      }
    });
    if (tags.length === 0) imageRows.push(row("<none>", "<none>"));
    for (const r of tags) imageRows.push(row(familiarName(r), r.tag ?? ""));
  }
  return [
    "Images space usage:",
    "",
    table([
      ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE", "SHARED SIZE", "UNIQUE SIZE", "CONTAINERS"],
      ...imageRows,
    ]),
    "",
    "Containers space usage:",
    "",
    table([
      ["CONTAINER ID", "IMAGE", "COMMAND", "LOCAL VOLUMES", "SIZE", "CREATED", "STATUS", "NAMES"],
      ...d.containers.map(({ view, size }) => [
        view.record.id.slice(0, 12),
        view.record.image,
        commandColumn(view.record.command),
        String((view.record.volumes ?? []).length),
        format.human(size),
        format.ago(view.record.created),
        status(view, paths),
        view.record.name ?? "",
      ]),
    ]),
    "",
    "Local Volumes space usage:",
    "",
    table([["VOLUME NAME", "LINKS", "SIZE"], ...d.volumes.map((v) => [v.name, String(v.links), format.human(v.size)])]),
    "",
    `Build cache usage: ${format.human(d.cache)}`,
  ].join("\n");
}

export const df: HullCommand = {
  meta: { name: "df", description: "Show the store's disk usage: images, containers, volumes, build cache" },
  takes: 0,
  args: dfArgs,
  async run({ args }) {
    const paths = storePaths(storeRoot(typeof args.root === "string" ? args.root : undefined));
    const { diskDetail, diskUsage } = await import("../../system/info");
    const { format, table } = await import("./image-common");
    if (args.verbose && formatArg(args.format) === undefined) {
      print(await verboseDf(diskDetail(paths), paths, format, table));
      return;
    }
    const rows = diskUsage(paths).map((r) => ({
      Type: r.Type,
      TotalCount: String(r.TotalCount),
      Active: String(r.Active),
      Size: format.human(r.Size),
      Reclaimable: `${format.human(r.Reclaimable)}${r.Size > 0 ? ` (${Math.round((r.Reclaimable / r.Size) * 100)}%)` : ""}`,
    }));
    const text = renderListing(formatArg(args.format), rows, DF_HEADERS, () =>
      table([
        ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"],
        ...rows.map((r) => [r.Type, r.TotalCount, r.Active, r.Size, r.Reclaimable]),
      ]),
    );
    if (text !== "") print(text);
  },
};

export const system: HullCommand = {
  meta: { name: "system", description: "The store as a whole: info, df, check, prune" },
  subCommands: {
    info,
    df,
    prune: {
      meta: {
        name: "prune",
        description:
          "Remove stopped containers, dangling images (-a: unused ones) and the build cache; --volumes: anonymous volumes",
      },
      takes: 0,
      args: pruneArgs,
      async run({ args, rawArgs }) {
        const f = pruneFilter(rawArgs, pruneArgs, "system prune");
        const what = [
          "all stopped containers",
          ...(args.volumes ? ["all anonymous volumes not used by at least one container"] : []),
          args.all ? "all images without at least one container associated to them" : "all dangling images",
          "all build cache",
        ];
        if (!confirmed(Boolean(args.force), `This will remove:\n  - ${what.join("\n  - ")}`)) return;
        const paths = storePaths(storeRoot(typeof args.root === "string" ? args.root : undefined));
        const { pruneContainers } = await import("../../container/manage");
        const { pruneVolumes } = await import("../../container/volumes");
        const { pruneImages, collectGarbage } = await import("../../image/manage");
        const { dropCache } = await import("../../build/cache");
        const { ImageStore } = await import("../../image/store");
        const out = await pruneContainers(paths, (rec) => f.allows(rec.created, rec.labels));
        if (args.volumes) out.push(...(await pruneVolumes(paths, false)));
        const store = new ImageStore(paths);
        out.push(...(await pruneImages(store, Boolean(args.all), (rec) => f.allows(rec.created))));
        const n = await dropCache(store);
        await collectGarbage(store);
        print([...out, `Removed ${n} build cache entr${n === 1 ? "y" : "ies"}`].join("\n"));
      },
    } as HullCommand,
    check: {
      meta: {
        name: "check",
        description:
          "Check every record of the store against what it names (blobs by digest, layers, tags, containers, names, networks, volumes); --repair removes what cannot be used",
      },
      takes: 0,
      args: {
        repair: { type: "boolean", description: "Remove or fix what is damaged, and say what was done" },
        ...rootArg,
      },
      async run({ args }) {
        const paths = storePaths(storeRoot(typeof args.root === "string" ? args.root : undefined));
        const problems = await checkStore(paths, args.repair === true);
        for (const p of problems) {
          const action = p.repaired ? `repaired: ${p.repair}` : p.repair ? `--repair: ${p.repair}` : "left as it is";
          // a store's names are anyone's bytes: no escape sequence reaches the terminal
          print(visible(`${p.kind}: ${p.path}: ${p.what} [${action}]`));
        }
        const left = problems.filter((p) => !p.repaired).length;
        print(
          problems.length === 0
            ? "the store is consistent"
            : `${problems.length} problem(s), ${problems.length - left} repaired, ${left} left`,
        );
        if (left > 0) process.exitCode = 1;
      },
    } as HullCommand,
  },
};
