// The instructions that change only the image config: ENV, LABEL, MAINTAINER, EXPOSE, VOLUME, USER,
// STOPSIGNAL, SHELL, CMD, ENTRYPOINT, HEALTHCHECK, ONBUILD. Pure: config in, config out, so every
// rule here is unit-tested without a container.
import { DockerfileError, type Instruction } from "./dockerfile";
import { keyValues, lex } from "./words";

/** The OCI config's "config" object, with every field Docker writes (unknown ones are kept). */
export interface RunConfig {
  Env?: string[] | null;
  Cmd?: string[] | null;
  Entrypoint?: string[] | null;
  WorkingDir?: string | null;
  User?: string | null;
  Labels?: Record<string, string> | null;
  StopSignal?: string | null;
  Volumes?: Record<string, object> | null;
  ExposedPorts?: Record<string, object> | null;
  Shell?: string[] | null;
  OnBuild?: string[] | null;
  Healthcheck?: Record<string, unknown> | null;
  [key: string]: unknown;
}

export const DEFAULT_SHELL = ["/bin/sh", "-c"];

export function envMap(c: RunConfig): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of c.Env ?? []) {
    const eq = e.indexOf("=");
    if (eq > 0) m.set(e.slice(0, eq), e.slice(eq + 1));
  }
  return m;
}

/** The argv of a CMD or ENTRYPOINT: its JSON form, or its text run by the stage's shell (RUN: run-step.ts). */
function commandOf(ins: Instruction, c: RunConfig): string[] {
  return ins.json ?? [...(c.Shell ?? DEFAULT_SHELL), ins.args];
}

const DURATION_RE = /^(?:(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h))+$/;
const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Go's time.ParseDuration for HEALTHCHECK's flags ("30s", "1m30s"), in nanoseconds. */
export function parseDuration(text: string): number {
  if (!DURATION_RE.test(text)) throw new Error(`${text} is not a duration (like 30s or 1m30s)`);
  let ns = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) ns += Number(m[1]) * (UNIT_NS[m[2] as string] ?? 0);
  return Math.round(ns);
}

export interface MetaContext {
  vars: Map<string, string>;
  escape: string;
  /** CMD was set in this stage: ENTRYPOINT then leaves it alone */
  cmdSet: boolean;
}

/** The new config after a metadata instruction, or an error that points at its line. */
export function applyMetadata(ins: Instruction, c: RunConfig, ctx: MetaContext): RunConfig {
  const fail = (msg: string) => new DockerfileError(msg, ins.line, 1);
  const next: RunConfig = { ...c };
  const words = () => {
    try {
      return ins.json ?? lex(ins.args, ctx.vars, ctx.escape);
    } catch (e) {
      throw fail((e as Error).message);
    }
  };
  const pairs = (what: "ENV" | "LABEL") => {
    try {
      return keyValues(ins.args, ctx.vars, ctx.escape, what);
    } catch (e) {
      throw fail((e as Error).message);
    }
  };
  switch (ins.cmd) {
    case "ENV": {
      const env = envMap(c);
      // one ENV line sees the values it set earlier on the same line only on the next line, as Docker
      for (const [k, v] of pairs("ENV")) env.set(k, v ?? "");
      next.Env = [...env].map(([k, v]) => `${k}=${v}`);
      return next;
    }
    case "LABEL":
      next.Labels = { ...(c.Labels ?? {}) };
      for (const [k, v] of pairs("LABEL")) next.Labels[k] = v ?? "";
      return next;
    case "EXPOSE":
      next.ExposedPorts = { ...(c.ExposedPorts ?? {}) };
      for (const w of words()) {
        const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(w);
        if (!m) throw fail(`EXPOSE ${w}: give PORT or PORT/PROTOCOL (tcp, udp or sctp)`);
        const [from, to] = [Number(m[1]), Number(m[2] ?? m[1])];
        if (from < 1 || to > 65535 || to < from) throw fail(`EXPOSE ${w}: ports run from 1 to 65535`);
        for (let p = from; p <= to; p++) next.ExposedPorts[`${p}/${(m[3] ?? "tcp").toLowerCase()}`] = {};
      }
      return next;
    case "VOLUME":
      next.Volumes = { ...(c.Volumes ?? {}) };
      for (const w of words()) {
        if (w === "") throw fail("VOLUME needs a path, not an empty string");
        next.Volumes[w] = {};
      }
      return next;
    case "USER":
      next.User = words().join(" ");
      return next;
    case "STOPSIGNAL": {
      const sig = words().join(" ");
      if (!/^(SIG)?[A-Z0-9+-]+$|^\d+$/i.test(sig)) throw fail(`STOPSIGNAL ${sig} is not a signal`);
      next.StopSignal = sig;
      return next;
    }
    case "SHELL":
      if (!ins.json || ins.json.length === 0) throw fail('SHELL takes the JSON form: SHELL ["/bin/sh", "-c"]');
      next.Shell = ins.json;
      return next;
    case "CMD":
      next.Cmd = commandOf(ins, c);
      return next;
    case "ENTRYPOINT":
      next.Entrypoint = commandOf(ins, c);
      // Docker: an ENTRYPOINT resets the CMD inherited from the base image
      if (!ctx.cmdSet) next.Cmd = null;
      return next;
    case "MAINTAINER":
      return next;
    case "ONBUILD": {
      const word = (/^\S+/.exec(ins.args)?.[0] ?? "").toUpperCase();
      if (["ONBUILD", "FROM", "MAINTAINER"].includes(word)) throw fail(`ONBUILD ${word} is not allowed`);
      next.OnBuild = [...(c.OnBuild ?? []), ins.args];
      return next;
    }
    case "HEALTHCHECK":
      next.Healthcheck = healthcheck(ins, fail);
      return next;
  }
  throw fail(`${ins.cmd} is not a metadata instruction`);
}

function healthcheck(ins: Instruction, fail: (m: string) => Error): Record<string, unknown> {
  const text = ins.args.trim();
  if (/^NONE$/i.test(text)) return { Test: ["NONE"] };
  const m = /^CMD\s+(.*)$/is.exec(text);
  if (!m) throw fail("HEALTHCHECK takes [OPTIONS] CMD command, or NONE");
  const cmd = (m[1] as string).trim();
  let json: string[] | undefined;
  if (cmd.startsWith("[")) {
    try {
      const v = JSON.parse(cmd) as unknown;
      if (Array.isArray(v) && v.every((x) => typeof x === "string")) json = v as string[];
    } catch {}
  }
  const h: Record<string, unknown> = { Test: json ? ["CMD", ...json] : ["CMD-SHELL", cmd] };
  const names: Record<string, string> = {
    interval: "Interval",
    timeout: "Timeout",
    "start-period": "StartPeriod",
    "start-interval": "StartInterval",
  };
  for (const [flag, value] of Object.entries(ins.flags)) {
    try {
      if (flag === "retries") {
        if (!/^\d+$/.test(value)) throw new Error(`--retries takes a whole number, not ${value}`);
        h.Retries = Number(value);
      } else if (names[flag]) h[names[flag] as string] = parseDuration(value);
      else throw new Error(`HEALTHCHECK has no flag --${flag}`);
    } catch (e) {
      throw fail((e as Error).message);
    }
  }
  return h;
}
