import {
  sweepDeadRemovals,
  inspectContainer,
  pruneContainers,
  removeContainer,
  renameContainer,
} from "../../container/manage";
import type { ContainerView } from "../../container/manage";
import { containerDir, findContainer, NoSuchContainerError, startedAt } from "../../container/records";
import { existsCommand } from "../exists";
import { storePaths, storeRoot } from "../../store/paths";
import type { ArgsDef } from "citty";
import { all, last, parseInterspersed } from "../argv";
import type { HullCommand } from "../command";
import { print } from "../output";
import { visible } from "../../sys/control-chars";
import { format, openStore, rootArg, table } from "./image-common";
import { formatArg, labelFields, renderListing, noTrunc } from "../listing";
import { formatFlag, inspectPrinter } from "../inspected";
import { goTime } from "../go-time";
import { UsageError } from "../argv";
import { join } from "../../sys/path";
import { treeSize } from "../../store/tree-size";
import { healthWords, readHealth } from "../../container/health";
import { checkValues, labelsPass, parseFilters, passes } from "../filters";
import { eachName } from "../each";
import { confirmed, filterArg, forceArg, pruneFilter } from "../prune";
import { DEFAULT_MODE } from "../../network/bridge";
import { describePorts } from "../../network/publish";
import { layerBytes } from "../../image/store";

const paths = (root: unknown) => storePaths(storeRoot(typeof root === "string" ? root : undefined));

/** docker's COMMAND column: quoted, and cut at 20 characters (whole ones, not UTF-16 halves) with … */
export function commandColumn(c: string[], trunc = true): string {
  const text = c.join(" ");
  if (!trunc) return JSON.stringify(text);
  return JSON.stringify([...text].length > 20 ? `${[...text].slice(0, 19).join("")}…` : text);
}

/** docker's STATUS column: "Up 2 minutes (healthy)", "Exited (0) 3 seconds ago", "Restarting (1) 1 second ago", "Created" */
export function status(c: ContainerView, p: ReturnType<typeof paths>): string {
  const s = c.state;
  // "Up" counts from the latest start, not from the creation (docker's rule after a restart)
  if (s.status === "running")
    return `Up ${format.ago(startedAt(p, c.record.id) ?? c.record.created).replace(/ ago$/, "")}${s.paused ? " (Paused)" : c.record.health ? healthWords(readHealth(p, c.record.id)) : ""}`;
  if (s.status === "exited")
    return `${s.restarting ? "Restarting" : "Exited"} (${s.exitCode}) ${format.ago(s.finishedAt)}`;
  if (s.status === "created") return "Created";
  return "Dead";
}

/** The networks a container is on, by name, as docker's .Networks lists them */
function networkNames(c: ContainerView): string[] {
  const own = Object.keys(c.record.networks ?? {});
  if (own.length > 0) return own;
  const mode = c.record.networkMode ?? "bridge";
  if (mode.startsWith("container:")) return [];
  return [DEFAULT_MODE.test(mode) ? "bridge" : mode];
}

const PS_HEADERS = {
  ID: "CONTAINER ID",
  Image: "IMAGE",
  Command: "COMMAND",
  CreatedAt: "CREATED AT",
  RunningFor: "CREATED",
  Ports: "PORTS",
  State: "STATE",
  Status: "STATUS",
  Size: "SIZE",
  Names: "NAMES",
  Labels: "LABELS",
  Mounts: "MOUNTS",
  Networks: "NETWORKS",
  LocalVolumes: "LOCAL VOLUMES",
};

export const ps: HullCommand = {
  meta: { name: "ps", description: "List containers: CONTAINER ID IMAGE COMMAND CREATED STATUS PORTS NAMES" },
  takes: 0,
  args: {
    all: { type: "boolean", alias: "a", description: "Show all containers (default: running ones)" },
    quiet: { type: "boolean", alias: "q", description: "Only ids" },
    format: {
      type: "string",
      description: "table, json (one object per line), a Go template ({{.Names}}), or table TEMPLATE",
    },
    filter: {
      type: "string",
      alias: "f",
      description:
        "name=, id=, status=, exited=, ancestor=, label=KEY[=VALUE], volume=, network=, before=, since=, health= (repeatable; docker's rules)",
    },
    "no-trunc": { type: "boolean", description: "Full ids and commands" },
    size: { type: "boolean", alias: "s", description: "The size of each container's writable layer (and its image's)" },
    last: { type: "string", alias: "n", description: "The N containers created last (any state)" },
    latest: { type: "boolean", alias: "l", description: "The container created last (any state)" },
    ...rootArg,
  },
  async run({ args, rawArgs }) {
    const f = parseFilters(
      all(parseInterspersed(rawArgs, ps.args as ArgsDef, "ps", true), "filter"),
      ["name", "id", "status", "exited", "ancestor", "label", "volume", "network", "before", "since", "health"],
      "ps",
    );
    checkValues(f, "status", ["created", "restarting", "running", "removing", "paused", "exited", "dead"]);
    checkValues(f, "health", ["starting", "healthy", "unhealthy", "none"]);
    for (const code of f.get("exited") ?? [])
      if (!/^-?\d+$/.test(code)) throw new UsageError(`--filter exited=${code}: give an exit code (a number)`);
    const last = args.latest ? 1 : args.last === undefined ? -1 : Number(args.last);
    if (!Number.isInteger(last) || last < -1) throw new UsageError(`--last takes a number, not ${String(args.last)}`);
    const statusOf = (c: ContainerView) =>
      c.state.status === "running" && c.state.paused
        ? "paused"
        : c.state.status === "exited" && c.state.restarting
          ? "restarting"
          : c.state.status;
    const p = paths(args.root);
    const everyone = await sweepDeadRemovals(p);
    const wantsAll = Boolean(args.all) || f.has("status") || f.has("exited") || last >= 0;
    // before=/since=: created before or after the container named (docker's rule: by creation)
    const createdOf = (key: string) => {
      const c = everyone.find((x) => x.record.id.startsWith(key) || x.record.name === key);
      if (!c) throw new UsageError(`--filter: no such container: ${key}`);
      return c.record.created;
    };
    const before = (f.get("before") ?? []).map(createdOf);
    const since = (f.get("since") ?? []).map(createdOf);
    let list = everyone.filter(
      (c) =>
        // docker ps lists a restarting container with the running ones
        (wantsAll || c.state.status === "running" || statusOf(c) === "restarting") &&
        passes(f, "name", (n) => new RegExp(n).test(c.record.name ?? "")) &&
        passes(f, "id", (id) => c.record.id.startsWith(id)) &&
        passes(f, "status", (st) => statusOf(c) === st) &&
        passes(f, "exited", (code) => c.state.status === "exited" && String(c.state.exitCode) === code) &&
        passes(f, "ancestor", (img) => c.record.image === img || (c.record.imageId ?? "").includes(img)) &&
        passes(
          f,
          "volume",
          (vol) =>
            (c.record.volumes ?? []).includes(vol) ||
            (c.record.mounts ?? []).some((m) => m.source === vol || m.target === vol),
        ) &&
        passes(f, "network", (n) => networkNames(c).includes(n)) &&
        passes(f, "health", (want) =>
          c.record.health
            ? c.state.status === "running" && (readHealth(p, c.record.id)?.Status ?? "starting") === want
            : want === "none",
        ) &&
        before.every((t) => c.record.created < t) &&
        since.every((t) => c.record.created > t) &&
        labelsPass(f, c.record.labels),
    );
    if (last >= 0) list = list.slice(0, last);
    const trunc = !noTrunc(args);
    if (args.quiet) {
      if (list.length > 0) print(list.map((c) => (trunc ? c.record.id.slice(0, 12) : c.record.id)).join("\n"));
      return;
    }
    const imageSizes = new Map<string, number>();
    const sizeOf = (c: ContainerView) => {
      if (!args.size) return "0B";
      const rw = treeSize(join(containerDir(p, c.record.id), "upper"));
      const id = c.record.imageId ?? "";
      if (!imageSizes.has(id)) {
        const rec = id ? openStore(args.root).readableImage(id) : undefined;
        imageSizes.set(
          id,
          (rec?.layers ?? []).reduce((a, l) => a + layerBytes(l), 0),
        );
      }
      return `${format.human(rw)} (virtual ${format.human(rw + (imageSizes.get(id) ?? 0))})`;
    };
    const command = (c: string[]) => commandColumn(c, trunc);
    const rows = list.map((c) => ({
      ID: trunc ? c.record.id.slice(0, 12) : c.record.id,
      Image: c.record.image,
      Command: command(c.record.command),
      CreatedAt: goTime(c.record.created),
      RunningFor: format.ago(c.record.created),
      Ports: c.state.status === "running" ? describePorts(c.record.ports ?? [], c.record.exposed) : "",
      State: statusOf(c),
      Status: status(c, p),
      Size: sizeOf(c),
      Names: c.record.name ?? "",
      ...labelFields(c.record.labels),
      Mounts: (c.record.mounts ?? []).map((m) => m.source).join(","),
      Networks: networkNames(c).join(","),
      LocalVolumes: String((c.record.volumes ?? []).length),
    }));
    const text = renderListing(formatArg(args.format), rows, PS_HEADERS, () =>
      table([
        // docker's columns; PORTS: a running container's published ports
        ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES", ...(args.size ? ["SIZE"] : [])],
        ...rows.map((r) => [
          r.ID,
          r.Image,
          r.Command,
          r.RunningFor,
          r.Status,
          r.Ports,
          r.Names,
          ...(args.size ? [r.Size] : []),
        ]),
      ]),
    );
    if (text !== "") print(text);
  },
};

export const rm: HullCommand = {
  meta: { name: "rm", description: "Remove containers and their writable layers" },
  args: {
    force: { type: "boolean", alias: "f", description: "Kill a running container first" },
    volumes: { type: "boolean", alias: "v", description: "Remove its anonymous volumes too" },
    ...rootArg,
  },
  async run({ args }) {
    const keys = args._.map(String);
    if (keys.length === 0) throw new Error("hull rm needs at least one container");
    await eachName(
      keys,
      async (k) => print(await removeContainer(paths(args.root), k, Boolean(args.force), Boolean(args.volumes))),
      (e) => Boolean(args.force) && e instanceof NoSuchContainerError,
    );
  },
};

const containerPruneArgs = { ...forceArg, ...filterArg, ...rootArg } as const satisfies ArgsDef;

export const container: HullCommand = {
  meta: { name: "container", description: "Manage containers (docker's container commands)" },
  // docker's `container VERB` names for every container command
  subCommands: {
    exists: existsCommand("container", (root, name) => {
      if (name === "") return false;
      try {
        findContainer(paths(root), name);
        return true;
      } catch (e) {
        if (e instanceof NoSuchContainerError) return false;
        throw e;
      }
    }),
    ls: ps,
    ps,
    list: ps,
    rm,
    run: () => import("./run").then((m) => m.default),
    create: () => import("./run").then((m) => m.create),
    exec: () => import("./exec").then((m) => m.default),
    start: () => import("./lifecycle").then((m) => m.start),
    stop: () => import("./lifecycle").then((m) => m.stop),
    restart: () => import("./lifecycle").then((m) => m.restart),
    kill: () => import("./lifecycle").then((m) => m.kill),
    wait: () => import("./lifecycle").then((m) => m.wait),
    logs: () => import("./lifecycle").then((m) => m.logs),
    attach: () => import("./lifecycle").then((m) => m.attach),
    pause: () => import("./lifecycle").then((m) => m.pause),
    unpause: () => import("./lifecycle").then((m) => m.unpause),
    cp: () => Promise.resolve(cp),
    export: () => Promise.resolve(exportCommand),
    stats: () => import("./resources").then((m) => m.stats),
    update: () => import("./resources").then((m) => m.update),
    diff: () => Promise.resolve(diff),
    top: () => Promise.resolve(top),
    port: () => Promise.resolve(port),
    rename: () => Promise.resolve(rename),
    commit: () => Promise.resolve(commit),
    prune: {
      meta: { name: "prune", description: "Remove every container that is not running" },
      takes: 0,
      args: containerPruneArgs,
      async run({ args, rawArgs }) {
        const f = pruneFilter(rawArgs, containerPruneArgs, "container prune");
        if (!confirmed(Boolean(args.force), "This will remove all stopped containers.")) return;
        const out = await pruneContainers(paths(args.root), (rec) => f.allows(rec.created, rec.labels));
        print(out.length ? out.join("\n") : "Nothing to remove");
      },
    } as HullCommand,
    inspect: {
      meta: { name: "inspect", description: "Show containers as JSON, as docker container inspect" },
      args: { ...formatFlag, ...rootArg },
      async run({ args }) {
        const keys = args._.map(String);
        if (keys.length === 0) throw new Error("hull container inspect needs at least one container");
        const show = inspectPrinter(args.format);
        const found: unknown[] = [];
        await eachName(keys, (k) => {
          found.push(inspectContainer(paths(args.root), k));
        });
        show(found);
      },
    },
  },
};

export const rename: HullCommand = {
  meta: { name: "rename", description: "Rename a container: hull rename CONTAINER NEW_NAME" },
  args: {
    container: { type: "positional", description: "Container name or id" },
    name: { type: "positional", description: "New name" },
    ...rootArg,
  },
  async run({ args }) {
    if (!args.container || !args.name) throw new Error("hull rename needs CONTAINER and NEW_NAME");
    await renameContainer(paths(args.root), String(args.container), String(args.name));
  },
};

export const diff: HullCommand = {
  meta: { name: "diff", description: "Show what a container changed in its image: A added, C changed, D deleted" },
  args: { container: { type: "positional", description: "Container name or id" }, ...rootArg },
  async run({ args }) {
    if (!args.container) throw new Error("hull diff needs a container");
    const { containerDiff } = await import("../../container/diff");
    const changes = await containerDiff(paths(args.root), String(args.container));
    // a path is the container's to name: its control characters shown, not sent to the terminal
    if (changes.length) print(changes.map((c) => `${c.kind} ${visible(c.path)}`).join("\n"));
  },
};

const portArgs = {
  container: { type: "positional", description: "Container name or id" },
  port: { type: "positional", required: false, description: "A port of the container: PORT[/tcp|udp]" },
  ...rootArg,
} as const satisfies ArgsDef;

export const port: HullCommand = {
  meta: {
    name: "port",
    description: "The host ports that lead to a running container's: hull port CONTAINER [PORT[/PROTO]]",
  },
  args: portArgs,
  async run({ args }) {
    const { findContainer, containerState } = await import("../../container/records");
    const store = paths(args.root);
    const rec = findContainer(store, String(args.container));
    const [want, proto] = args.port ? String(args.port).toLowerCase().split("/") : [];
    if (want !== undefined && !/^\d+$/.test(want)) throw new Error(`hull port takes PORT[/tcp|udp], not ${args.port}`);
    // docker lists nothing for a stopped container: its ports are not held then
    const ports = containerState(store, rec).status === "running" ? (rec.ports ?? []) : [];
    const shown = ports.filter(
      (p) => want === undefined || (p.containerPort === Number(want) && p.proto === (proto || "tcp")),
    );
    if (want !== undefined && shown.length === 0)
      throw new Error(`no public port '${args.port}${proto ? "" : "/tcp"}' published for ${args.container}`);
    const host = (p: (typeof ports)[number]) =>
      `${p.hostIp.includes(":") ? `[${p.hostIp}]` : p.hostIp || "0.0.0.0"}:${p.hostPort}`;
    const lines = shown.map((p) => (want === undefined ? `${p.containerPort}/${p.proto} -> ${host(p)}` : host(p)));
    if (lines.length > 0) print(lines.join("\n"));
  },
};

const topArgs = { container: { type: "positional", description: "Container name or id" }, ...rootArg } as const;

export const top: HullCommand = {
  meta: {
    name: "top",
    description:
      "Show a running container's processes: hull top CONTAINER [ps OPTIONS]. Without options, docker's columns (UID PID PPID C STIME TTY TIME CMD) with the container's uids and pids; with options, the host's ps and its rows for the container (host pids, as docker shows them)",
  },
  args: topArgs,
  ownArgs: true,
  async run({ rawArgs }) {
    // everything after the container belongs to ps: `hull top web -o pid,comm`
    const p = parseInterspersed(rawArgs, topArgs, "top");
    const [container, ...psOptions] = p.positionals;
    if (!container) throw new Error("hull top needs a container: hull top CONTAINER [ps OPTIONS]");
    const { containerTop, containerTopWithPs } = await import("../../container/top");
    if (psOptions.length > 0)
      return print(
        (await containerTopWithPs(paths(last(p, "root")), container, psOptions)).split("\n").map(visible).join("\n"),
      );
    const rows = await containerTop(paths(last(p, "root")), container);
    print(
      table([
        ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"],
        // a command line is the container's to write
        ...rows.map((r) => [r.uid, String(r.pid), String(r.ppid), String(r.c), r.stime, r.tty, r.time, visible(r.cmd)]),
      ]),
    );
  },
};

const commitArgs = {
  container: { type: "positional", description: "Container name or id" },
  name: { type: "positional", required: false, description: "Name for the new image" },
  message: { type: "string", alias: "m", description: "Commit message (kept in the image's history)" },
  author: { type: "string", alias: "a", description: "Author of the image" },
  change: {
    type: "string",
    alias: "c",
    description:
      "A Dockerfile instruction for the image's config: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, USER, VOLUME, WORKDIR, STOPSIGNAL, HEALTHCHECK, SHELL (repeatable)",
  },
  pause: {
    type: "boolean",
    alias: "p",
    description: "Pause a running container while its changes are read (default true; --pause=false as docker's)",
  },
  ...rootArg,
} as const satisfies ArgsDef;

export const commit: HullCommand = {
  meta: {
    name: "commit",
    description: "Make an image of a container's changes: hull commit [-c INSTRUCTION] CONTAINER [REPOSITORY[:TAG]]",
  },
  args: commitArgs,
  ownArgs: true,
  async run({ rawArgs }) {
    const p = parseInterspersed(rawArgs, commitArgs, "commit", true);
    const [container, name, ...extra] = p.positionals;
    if (!container || extra.length > 0)
      throw new Error("hull commit takes a container and an image name: hull commit CONTAINER [NAME]");
    const { commitContainer } = await import("../../container/commit");
    const { ImageStore } = await import("../../image/store");
    const store = new ImageStore(paths(last(p, "root")));
    print(
      await commitContainer(store, container, name, last(p, "message") ?? "", {
        changes: all(p, "change"),
        author: last(p, "author"),
        pause: last(p, "pause") !== "false",
      }),
    );
  },
};

export const cp: HullCommand = {
  meta: {
    name: "cp",
    description:
      "Copy files between a container and the host: hull cp CONTAINER:SRC DEST|- or hull cp SRC|- CONTAINER:DEST (- is a tar stream)",
  },
  args: {
    from: { type: "positional", description: "Source" },
    to: { type: "positional", description: "Destination" },
    ...rootArg,
  },
  async run({ args }) {
    if (!args.from || !args.to) throw new Error("hull cp needs a source and a destination");
    const [from, to] = [String(args.from), String(args.to)];
    // "-": a tar stream on standard input or output, as docker cp takes it
    if (from === "-" || to === "-") {
      if (from === to) throw new Error("hull cp - -: one side must be a container path");
      const { isatty } = await import("../../sys/libc");
      if (to === "-" && isatty(1)) throw new Error("refusing to write a tar stream to a terminal: redirect the output");
      const { copyStream } = await import("../../container/cp-stream");
      await copyStream(paths(args.root), from, to);
      return;
    }
    const { copy } = await import("../../container/cp");
    await copy(paths(args.root), from, to);
  },
};

export const exportCommand: HullCommand = {
  meta: {
    name: "export",
    description:
      "Write a container's root filesystem as a tar: its image and its changes, without its volumes or mounts: hull export [-o FILE] CONTAINER",
  },
  args: {
    container: { type: "positional", description: "Container name or id" },
    output: { type: "string", alias: "o", description: "File to write (default: standard output)" },
    ...rootArg,
  },
  async run({ args }) {
    if (!args.container) throw new Error("hull export needs a container: hull export [-o FILE] CONTAINER");
    const { exportContainer } = await import("../../container/export");
    const { isatty } = await import("../../sys/libc");
    const out = typeof args.output === "string" ? args.output : "-";
    if (out === "-" && isatty(1))
      throw new Error("refusing to write a tar to a terminal: give -o FILE, or redirect the output");
    await exportContainer(paths(args.root), String(args.container), out);
  },
};
