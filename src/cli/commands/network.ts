// `hull network`: user-defined networks (src/network/), as docker's and podman's command.
import { labelMap } from "../../container/labels";
import type { ArgsDef } from "citty";
import { storePaths, storeRoot } from "../../store/paths";
import { all, flag, last, parseInterspersed } from "../argv";
import type { HullCommand } from "../command";
import { eachName } from "../each";
import { existsCommand } from "../exists";
import { labelsPass, parseFilters, passes } from "../filters";
import { print } from "../output";
import { confirmed, filterArg, forceArg, pruneFilter } from "../prune";
import { rootArg, table } from "./image-common";
import { formatArg, labelFields, renderListing, noTrunc } from "../listing";
import { formatFlag, inspectPrinter } from "../inspected";
import { goTime } from "../go-time";

const paths = (root: unknown) => storePaths(storeRoot(typeof root === "string" ? root : undefined));

const createArgs = {
  driver: { type: "string", alias: "d", description: "bridge (the only driver)" },
  subnet: { type: "string", description: "Its IPv4 subnet (default: a free 10.89.N.0/24)" },
  gateway: { type: "string", description: "The bridge's address in the subnet (default: the first)" },
  internal: { type: "boolean", description: "No way out: containers on it reach only each other" },
  label: { type: "string", description: "KEY=VALUE or KEY (repeatable)" },
  ...rootArg,
} as const satisfies ArgsDef;

const lsArgs = {
  quiet: { type: "boolean", alias: "q", description: "Only ids" },
  filter: { type: "string", alias: "f", description: "name=, id=, driver=, label=, type=custom|builtin (repeatable)" },
  "no-trunc": { type: "boolean", description: "Whole ids" },
  format: { type: "string", description: "table, json, a Go template ({{.Name}}), or table TEMPLATE" },
  ...rootArg,
} as const satisfies ArgsDef;

const NETWORK_HEADERS = {
  ID: "NETWORK ID",
  Name: "NAME",
  Driver: "DRIVER",
  Scope: "SCOPE",
  IPv6: "IPV6",
  Internal: "INTERNAL",
  Labels: "LABELS",
  CreatedAt: "CREATED",
};

const connectArgs = {
  alias: { type: "string", description: "Another name peers reach the container by (repeatable)" },
  ip: { type: "string", description: "Its address on the network (default: the lowest free)" },
  ...rootArg,
} as const satisfies ArgsDef;

const pruneArgs = { ...filterArg, ...forceArg, ...rootArg } as const satisfies ArgsDef;

export const network: HullCommand = {
  meta: { name: "network", description: "Manage user networks: create, ls, inspect, rm, prune, connect, disconnect" },
  subCommands: {
    exists: existsCommand("network", (root, name) => {
      const { LISTED_BUILTINS } = require("../../network/manage") as typeof import("../../network/manage");
      const { findNetwork, NoSuchNetworkError } =
        require("../../network/records") as typeof import("../../network/records");
      if (LISTED_BUILTINS.some((b) => b.name === name)) return true;
      try {
        findNetwork(paths(root), name);
        return true;
      } catch (e) {
        if (e instanceof NoSuchNetworkError) return false;
        throw e;
      }
    }),
    create: {
      meta: { name: "create", description: "Create a user network: hull network create [OPTIONS] NAME" },
      args: createArgs,
      ownArgs: true,
      async run({ rawArgs }) {
        const p = parseInterspersed(rawArgs, createArgs, "network create");
        const [name, ...extra] = p.positionals;
        if (!name || extra.length > 0) throw new Error("hull network create takes one name: hull network create NAME");
        const { createNetwork } = await import("../../network/records");
        const labels = labelMap(all(p, "label"));
        const rec = await createNetwork(paths(last(p, "root")), name, {
          driver: last(p, "driver"),
          subnet: last(p, "subnet"),
          gateway: last(p, "gateway"),
          internal: flag(p, "internal"),
          labels,
        });
        print(rec.id);
      },
    } as HullCommand,
    ls: {
      meta: { name: "ls", description: "List networks" },
      takes: 0,
      args: lsArgs,
      async run({ args, rawArgs }) {
        const f = parseFilters(
          all(parseInterspersed(rawArgs, lsArgs, "network ls", true), "filter"),
          ["name", "id", "driver", "label", "type"],
          "network ls",
        );
        const { listNetworks } = await import("../../network/records");
        const { builtinId, LISTED_BUILTINS } = await import("../../network/manage");
        const rows = [
          ...LISTED_BUILTINS.map((b) => ({
            id: builtinId(b.name),
            name: b.name,
            driver: b.driver,
            labels: {},
            type: "builtin",
          })),
          ...listNetworks(paths(args.root)).map((n) => ({ ...n, type: "custom" })),
        ].filter(
          (n) =>
            passes(f, "name", (w) => n.name.includes(w)) &&
            passes(f, "id", (w) => n.id.startsWith(w)) &&
            passes(f, "driver", (w) => n.driver === w) &&
            passes(f, "type", (w) => n.type === w) &&
            labelsPass(f, n.labels),
        );
        const id = (s: string) => (noTrunc(args) ? s : s.slice(0, 12));
        if (args.quiet) {
          if (rows.length > 0) print(rows.map((n) => id(n.id)).join("\n"));
          return;
        }
        const out = rows.map((n) => ({
          ID: id(n.id),
          Name: n.name,
          Driver: n.driver,
          Scope: "local",
          IPv6: "false",
          Internal: String("internal" in n && n.internal === true),
          ...labelFields(n.labels),
          CreatedAt: "created" in n ? goTime(String(n.created)) : "",
        }));
        const text = renderListing(formatArg(args.format), out, NETWORK_HEADERS, () =>
          table([["NETWORK ID", "NAME", "DRIVER", "SCOPE"], ...out.map((n) => [n.ID, n.Name, n.Driver, n.Scope])]),
        );
        if (text !== "") print(text);
      },
    } as HullCommand,
    inspect: {
      meta: { name: "inspect", description: "Show networks as JSON" },
      args: { ...formatFlag, ...rootArg },
      async run({ args }) {
        const names = args._.map(String);
        if (names.length === 0) throw new Error("hull network inspect needs a network");
        const show = inspectPrinter(args.format);
        const { inspectNetwork } = await import("../../network/manage");
        const found: unknown[] = [];
        await eachName(names, (n) => {
          found.push(inspectNetwork(paths(args.root), n));
        });
        show(found);
      },
    },
    rm: {
      meta: { name: "rm", description: "Remove networks (refused while a container is on one)" },
      args: {
        force: { type: "boolean", alias: "f", description: "No error for a network that is not there" },
        ...rootArg,
      },
      async run({ args }) {
        const names = args._.map(String);
        if (names.length === 0) throw new Error("hull network rm needs a network");
        const { removeNetwork } = await import("../../network/manage");
        const { NoSuchNetworkError } = await import("../../network/records");
        await eachName(
          names,
          async (n) => print(await removeNetwork(paths(args.root), n)),
          (e) => Boolean(args.force) && e instanceof NoSuchNetworkError,
        );
      },
    },
    prune: {
      meta: { name: "prune", description: "Remove every user network no container is on" },
      takes: 0,
      args: pruneArgs,
      async run({ args, rawArgs }) {
        const filter = pruneFilter(rawArgs, pruneArgs, "network prune");
        if (!confirmed(Boolean(args.force), "This will remove all custom networks not used by at least one container."))
          return;
        const { pruneNetworks } = await import("../../network/manage");
        const gone = await pruneNetworks(paths(args.root), (c, l) => filter.allows(c, l));
        if (gone.length > 0) print(`Deleted Networks:\n${gone.join("\n")}`);
      },
    } as HullCommand,
    connect: {
      meta: {
        name: "connect",
        description: "Put a container on a user network: hull network connect NETWORK CONTAINER",
      },
      args: connectArgs,
      ownArgs: true,
      async run({ rawArgs }) {
        const p = parseInterspersed(rawArgs, connectArgs, "network connect");
        const [net, ctr, ...extra] = p.positionals;
        if (!net || !ctr || extra.length > 0)
          throw new Error(
            "hull network connect takes a network and a container: hull network connect NETWORK CONTAINER",
          );
        const { connectNetwork } = await import("../../network/manage");
        await connectNetwork(paths(last(p, "root")), net, ctr, { ip: last(p, "ip"), aliases: all(p, "alias") });
      },
    } as HullCommand,
    disconnect: {
      meta: {
        name: "disconnect",
        description: "Take a container off a user network: hull network disconnect NETWORK CONTAINER",
      },
      args: { force: { type: "boolean", alias: "f", description: "Accepted, as docker's" }, ...rootArg },
      async run({ args }) {
        const [net, ctr, ...extra] = args._.map(String);
        if (!net || !ctr || extra.length > 0)
          throw new Error(
            "hull network disconnect takes a network and a container: hull network disconnect NETWORK CONTAINER",
          );
        const { disconnectNetwork } = await import("../../network/manage");
        await disconnectNetwork(paths(args.root), net, ctr);
      },
    },
  },
};
