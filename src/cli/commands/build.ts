import { isatty } from "../../sys/libc";
// `hull build` and `hull builder prune`.
import { resolve } from "../../sys/path";
import type { ArgsDef } from "citty";
import * as v from "valibot";
import { Builder, BuildOptionsSchema } from "../../build/builder";
import { dropCache } from "../../build/cache";
import { collectGarbage } from "../../image/manage";
import { writeFileAtomic } from "../../store/atomic";
import { all, flag, last, parseInterspersed } from "../argv";
import { type LimitFlag, limitArgs, limitsGiven } from "../limit-flags";
import type { HullCommand } from "../command";
import { print, printErr } from "../output";
import { visible } from "../../sys/control-chars";
import { confirmed, forceArg } from "../prune";
import { openStore } from "./image-common";

/** the limits docker build takes, for its RUN steps */
const BUILD_LIMITS = [
  "memory",
  "memory-swap",
  "cpu-shares",
  "cpu-quota",
  "cpu-period",
  "cpuset-cpus",
  "cpuset-mems",
] as const satisfies readonly LimitFlag[];

const buildArgs = {
  context: { type: "positional", description: "The build context: a directory", required: false },
  tag: { type: "string", alias: "t", description: "Name the image NAME[:TAG] (repeatable)" },
  file: {
    type: "string",
    alias: "f",
    description: "The Dockerfile (default: PATH/Dockerfile or PATH/Containerfile; - for stdin)",
  },
  "build-arg": {
    type: "string",
    description: "Set a build argument KEY=VALUE, or KEY to take the caller's (repeatable)",
  },
  target: { type: "string", description: "Build up to this stage (FROM ... AS NAME)" },
  platform: { type: "string", description: "The platform to build for, os/arch[/variant] (default: this host's)" },
  label: { type: "string", description: "Set a label KEY=VALUE on the image (repeatable)" },
  iidfile: { type: "string", description: "Write the image id to this file" },
  secret: {
    type: "string",
    description: "A secret for RUN --mount=type=secret: id=ID,src=FILE or id=ID,env=VAR (repeatable)",
  },
  "no-cache": { type: "boolean", description: "Run every step again (results still go into the cache)" },
  pull: { type: "boolean", description: "Pull every base image, even those in the store" },
  quiet: { type: "boolean", alias: "q", description: "Print only the image id; a failing RUN's output is still shown" },
  network: {
    type: "string",
    description: "The network of RUN steps: host (the default; docker's word default says the same) or none",
  },
  timestamp: {
    type: "string",
    description: "Seconds since the epoch for every time in the image (default $SOURCE_DATE_EPOCH)",
  },
  progress: {
    type: "string",
    description:
      "auto (tty on a terminal, else plain), plain (one line per step and result), tty (each result with the time its step took) or quiet (-q)",
  },
  rm: { type: "boolean", description: "Accepted as docker's (hull never keeps intermediate containers)" },
  "force-rm": { type: "boolean", description: "Accepted as docker's (hull never keeps intermediate containers)" },
  load: { type: "boolean", description: "Accepted as docker buildx's (the image always lands in the store)" },
  ...limitArgs(BUILD_LIMITS),
  output: {
    type: "string",
    alias: "o",
    description:
      "Also write the result: DIR or type=local,dest=DIR (its files), - or type=tar,dest=FILE|- (them as a tar), type=docker|oci,dest=FILE|- (the image, as hull save)",
  },
  "cache-from": {
    type: "string",
    description: "Take cached steps from type=local,src=DIR or type=registry,ref=NAME (or NAME) (repeatable)",
  },
  "cache-to": {
    type: "string",
    description: "Write this build's cached steps to type=local,dest=DIR or type=registry,ref=NAME[,mode=max]",
  },
  root: { type: "string", description: "Store directory" },
} as const satisfies ArgsDef;

function epoch(text: string | undefined, what: string): number | undefined {
  if (text === undefined || text === "") return undefined;
  if (!/^\d+$/.test(text)) throw new Error(`${what} takes whole seconds since 1970, not ${text}`);
  return Number(text);
}

function progress(value: string | undefined): string | undefined {
  if (value !== undefined && !["auto", "plain", "tty", "quiet", "rawjson"].includes(value))
    throw new Error(`--progress takes auto, plain, tty, quiet or rawjson, not ${value}`);
  return value;
}

export const build: HullCommand = {
  meta: { name: "build", description: "Build an image from a Dockerfile: hull build [-t NAME] PATH" },
  args: buildArgs,
  ownArgs: true,
  async run({ rawArgs }) {
    const p = parseInterspersed(rawArgs, buildArgs, "build", true);
    if (p.positionals.length !== 1)
      throw new Error("hull build takes one context directory: hull build [OPTIONS] PATH");
    const r = v.safeParse(BuildOptionsSchema, {
      context: p.positionals[0],
      file: last(p, "file"),
      tags: all(p, "tag"),
      buildArgs: all(p, "build-arg"),
      secrets: all(p, "secret"),
      labels: Object.fromEntries(
        all(p, "label").map((l) => {
          const eq = l.indexOf("=");
          if (eq <= 0) throw new Error(`--label ${l}: give KEY=VALUE`);
          return [l.slice(0, eq), l.slice(eq + 1)];
        }),
      ),
      target: last(p, "target"),
      cacheFrom: all(p, "cache-from"),
      cacheTo: all(p, "cache-to"),
      outputs: all(p, "output"),
      limits: limitsGiven(p, BUILD_LIMITS),
      platform: last(p, "platform"),
      noCache: flag(p, "no-cache"),
      pull: flag(p, "pull"),
      quiet: flag(p, "quiet") || progress(last(p, "progress")) === "quiet",
      // timings for a person watching: tty, or auto on a terminal; plain lines in logs
      elapsed:
        progress(last(p, "progress")) === "tty" || ((progress(last(p, "progress")) ?? "auto") === "auto" && isatty(2)),
      network: last(p, "network") ?? "host",
      epoch: epoch(last(p, "timestamp"), "--timestamp") ?? epoch(process.env.SOURCE_DATE_EPOCH, "SOURCE_DATE_EPOCH"),
    });
    if (!r.success) throw new Error(r.issues[0].message);
    const quiet = r.output.quiet;
    // hull's own lines; they quote a base image's ONBUILD triggers and other words that are not ours
    const say = (line: string) => printErr(visible(line));
    const id = await Builder.run(openStore(last(p, "root")), r.output, quiet ? () => {} : say);
    const iidfile = last(p, "iidfile");
    if (iidfile) writeFileAtomic(resolve(iidfile), `${id}\n`);
    // -o - put a tar on stdout: the id after it would spoil it
    const tarOnStdout = r.output.outputs.some((o) => o === "-" || /(^|,)dest=-(,|$)/.test(o));
    if (!tarOnStdout) print(id);
  },
};

export const builder: HullCommand = {
  meta: { name: "builder", description: "Manage the build cache" },
  subCommands: {
    prune: {
      meta: { name: "prune", description: "Forget the build cache and remove what only it kept" },
      takes: 0,
      args: {
        all: { type: "boolean", alias: "a", description: "Accepted as docker's: hull's cache is dropped whole" },
        ...forceArg,
        root: { type: "string", description: "Store directory" },
      },
      async run({ args }) {
        if (!confirmed(Boolean(args.force), "This will remove all dangling build cache.")) return;
        const store = openStore(args.root);
        const n = await dropCache(store);
        await collectGarbage(store);
        print(`Removed ${n} build cache entr${n === 1 ? "y" : "ies"}`);
      },
    } as HullCommand,
  },
};
