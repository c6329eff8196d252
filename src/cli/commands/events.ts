// `hull events`: the store's journal (src/store/events.ts) as docker prints its event stream:
// what happened since --since (nothing before, by default), then what happens, until --until or
// Ctrl-C. Filters as docker's (type, event, container, image, volume, network, label is not kept);
// --format json or a Go template ({{.Action}} {{.Actor.Attributes.name}}).
import type { ArgsDef } from "citty";
import { storePaths, storeRoot } from "../../store/paths";
import { all, last, parseInterspersed, UsageError } from "../argv";
import type { HullCommand } from "../command";
import { parseFilters, passes } from "../filters";
import { print } from "../output";
import { untilTime } from "../prune";
import { parseTemplate, TemplateError } from "../template";
import { rootArg } from "./image-common";

const eventsArgs = {
  since: {
    type: "string",
    description: "Events from this time on: a duration before now (10m), a unix time or an RFC 3339 date",
  },
  until: {
    type: "string",
    description: "Events up to this time (same forms); without it, new events are shown as they come",
  },
  filter: {
    type: "string",
    alias: "f",
    description:
      "type=container|image|volume|network, event=ACTION, container=, image=, volume=, network= (repeatable)",
  },
  format: { type: "string", description: "json (one object per line) or a Go template ({{.Action}} {{.Actor.ID}})" },
  ...rootArg,
} as const satisfies ArgsDef;

const command: HullCommand = {
  meta: {
    name: "events",
    description: "Show what happened in the store (container, image, volume and network events), then follow",
  },
  args: eventsArgs,
  ownArgs: true,
  takes: 0,
  async run({ rawArgs }) {
    const p = parseInterspersed(rawArgs, eventsArgs, "events", true);
    if (p.positionals.length > 0)
      throw new UsageError(`hull events takes no arguments, not ${p.positionals.join(" ")}`);
    const time = (flag: string, v: string | undefined) => {
      if (v === undefined) return undefined;
      try {
        return untilTime(v);
      } catch {
        throw new UsageError(`--${flag} ${v}: give a duration (10m, 1h30m), a unix time or an RFC 3339 date`);
      }
    };
    const since = time("since", last(p, "since"));
    const until = time("until", last(p, "until"));
    const f = parseFilters(all(p, "filter"), ["type", "event", "container", "image", "volume", "network"], "events");
    const format = last(p, "format");
    const tpl =
      format && format !== "json" ? parseTemplate(format.replace(/\\t/g, "\t").replace(/\\n/g, "\n")) : undefined;
    const { readEvents } = await import("../../store/events");
    const paths = storePaths(storeRoot(last(p, "root")));
    type E = ReturnType<typeof readEvents>[number];
    const matches = (e: E) => {
      const a = e.Actor.Attributes;
      const ofType = (t: string, want: string) =>
        e.Type === t && (e.Actor.ID === want || e.Actor.ID.startsWith(want) || a.name === want);
      return (
        passes(f, "type", (t) => e.Type === t) &&
        passes(f, "event", (x) => e.Action === x) &&
        passes(f, "container", (c) => ofType("container", c) || a.container === c) &&
        passes(f, "image", (i) => (e.Type === "container" && a.image === i) || ofType("image", i)) &&
        passes(f, "volume", (x) => ofType("volume", x)) &&
        passes(f, "network", (x) => ofType("network", x))
      );
    };
    const show = (e: E) => {
      if (format === "json") return JSON.stringify(e);
      if (tpl) {
        try {
          return tpl.execute({
            ...e,
            ID: e.Actor.ID,
            Status: e.status ?? e.Action,
            From: e.from ?? "",
            Time: e.time,
            TimeNano: e.timeNano,
          });
        } catch (err) {
          if (err instanceof TemplateError) throw new TemplateError(`template: ${err.message}`);
          throw err;
        }
      }
      const when = new Date(Math.floor(e.timeNano / 1e6))
        .toISOString()
        .replace(/\.\d+Z$/, `.${String(e.timeNano % 1e9).padStart(9, "0")}Z`);
      const attrs = Object.entries(e.Actor.Attributes)
        .sort(([x], [y]) => x.localeCompare(y))
        .map(([k, v]) => `${k}=${v}`)
        .join(", ");
      return `${when} ${e.Type} ${e.Action} ${e.Actor.ID}${attrs ? ` (${attrs})` : ""}`;
    };
    const start = since ?? Date.now();
    let seen = 0;
    const emit = () => {
      const evs = readEvents(paths);
      // the journal moved to events.log.1 meanwhile: what was seen is now further down
      if (evs.length < seen) seen = 0;
      for (const e of evs.slice(seen)) {
        const ms = e.timeNano / 1e6;
        if (ms >= start && (until === undefined || ms <= until) && matches(e)) print(show(e));
      }
      seen = evs.length;
    };
    emit();
    // --until in the past: done; else follow the journal until then (or for ever)
    while (until === undefined || Date.now() <= until) {
      await Bun.sleep(until === undefined ? 200 : Math.min(200, Math.max(1, until - Date.now())));
      emit();
      if (until !== undefined && Date.now() > until) break;
    }
  },
};
export default command;
