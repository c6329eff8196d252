// Health checks, docker's: --health-cmd (or the image's HEALTHCHECK) runs in the container every
// interval; a success makes it healthy, `retries` failures in a row unhealthy, and failures during
// the start period count for nothing while it is still starting. The container's parent (the shim)
// starts `hull __health ID` on a timer, one at a time; each probe runs the command as `hull exec`
// would, with the timeout, and writes health.json (atomically: inspect and ps read it any time).
import { join } from "../sys/path";
import * as v from "valibot";
import { lazily } from "../sys/lazy-schema";
import type { ImageConfig } from "../image/config";
import { goDuration } from "../cli/go-time";
import { writeFileAtomic } from "../store/atomic";
import type { StorePaths } from "../store/paths";
import { readFileText } from "../sys/libc";
import { containerDir, HealthConfigSchema } from "./records";

export { HealthConfigSchema };
export type HealthConfig = v.InferOutput<typeof HealthConfigSchema>;

const HealthStateSchema = lazily(() =>
  v.object({
    Status: v.picklist(["starting", "healthy", "unhealthy"]),
    FailingStreak: v.number(),
    Log: v.array(v.object({ Start: v.string(), End: v.string(), ExitCode: v.number(), Output: v.string() })),
  }),
);
export type HealthState = v.InferOutput<typeof HealthStateSchema>;

/** docker's defaults: every 30 s, 30 s to answer, 3 failures, no start period */
const DEFAULTS = { interval: 30_000, timeout: 30_000, retries: 3, startPeriod: 0 };

export interface HealthFlags {
  healthCmd?: string;
  healthInterval?: string;
  healthTimeout?: string;
  healthRetries?: string;
  healthStartPeriod?: string;
  noHealthcheck: boolean;
}

/** Go's duration ("30s", "1m30s", "500ms") in whole ms, or the flag's error */
function durationMs(flag: string, text: string): number {
  const ms = goDuration(text);
  if (ms === undefined) throw new Error(`--${flag} takes a duration such as 30s, 1m30s or 500ms, not ${text}`);
  return Math.round(ms);
}

/** The check of a container: its flags over the image's HEALTHCHECK; undefined for none. */
export function healthConfig(
  f: HealthFlags,
  image: NonNullable<ImageConfig["config"]>["Healthcheck"],
): HealthConfig | undefined {
  const given = [f.healthCmd, f.healthInterval, f.healthTimeout, f.healthRetries, f.healthStartPeriod].some(
    (x) => x !== undefined,
  );
  if (f.noHealthcheck) {
    if (given) throw new Error("--no-healthcheck conflicts with the --health-* options");
    return undefined;
  }
  const imageTest = image?.Test ?? undefined;
  let test: string[] | undefined;
  if (f.healthCmd !== undefined) test = ["/bin/sh", "-c", f.healthCmd];
  else if (imageTest && imageTest[0] === "CMD-SHELL") test = ["/bin/sh", "-c", imageTest.slice(1).join(" ")];
  else if (imageTest && imageTest[0] === "CMD") test = imageTest.slice(1);
  if (!test || test.length === 0) {
    if (given)
      throw new Error("--health-interval and the like need a check: --health-cmd CMD (or an image with HEALTHCHECK)");
    return undefined;
  }
  const ns = (n: number | undefined) => (n && n > 0 ? Math.round(n / 1e6) : undefined);
  const cfg: HealthConfig = {
    test,
    // an image's HEALTHCHECK more often than 100 ms runs every 100 ms (a flag's is refused below)
    interval:
      f.healthInterval !== undefined
        ? durationMs("health-interval", f.healthInterval)
        : Math.max(100, ns(image?.Interval) ?? DEFAULTS.interval),
    timeout:
      f.healthTimeout !== undefined
        ? durationMs("health-timeout", f.healthTimeout)
        : (ns(image?.Timeout) ?? DEFAULTS.timeout),
    retries:
      f.healthRetries !== undefined
        ? /^\d+$/.test(f.healthRetries)
          ? Number(f.healthRetries)
          : Number.NaN
        : image?.Retries && image.Retries > 0
          ? image.Retries
          : DEFAULTS.retries,
    startPeriod:
      f.healthStartPeriod !== undefined
        ? durationMs("health-start-period", f.healthStartPeriod)
        : (ns(image?.StartPeriod) ?? DEFAULTS.startPeriod),
  };
  if (!Number.isInteger(cfg.retries)) throw new Error(`--health-retries takes a whole number, not ${f.healthRetries}`);
  if (cfg.retries === 0) cfg.retries = DEFAULTS.retries;
  // each check starts hull once (~50 ms of CPU): more often than this would keep a core busy
  if (cfg.interval < 100) throw new Error("--health-interval must be 100ms or more (each check starts hull)");
  if (cfg.timeout < 1) throw new Error("--health-timeout must be 1ms or more");
  return cfg;
}

const healthFile = (paths: StorePaths, id: string) => join(containerDir(paths, id), "health.json");

export function readHealth(paths: StorePaths, id: string): HealthState | undefined {
  const text = readFileText(healthFile(paths, id));
  if (text === undefined) return undefined;
  try {
    const r = v.safeParse(HealthStateSchema, JSON.parse(text));
    return r.success ? r.output : undefined;
  } catch {
    return undefined;
  }
}

/** At each start: starting again, with the log of the runs before (docker keeps it). */
export function resetHealth(paths: StorePaths, id: string): void {
  const before = readHealth(paths, id);
  writeHealthState(paths, id, { Status: "starting", FailingStreak: 0, Log: before?.Log ?? [] });
}

export function writeHealthState(paths: StorePaths, id: string, s: HealthState): void {
  writeFileAtomic(healthFile(paths, id), `${JSON.stringify(s)}\n`, 0o644, false);
}

/**
 * The next state after a probe that ended with CODE (-1: it ran past the timeout) at END, for a
 * container whose command started at STARTED: docker's rules.
 */
export function nextHealth(
  before: HealthState,
  cfg: HealthConfig,
  entry: HealthState["Log"][number],
  started: number,
): HealthState {
  const log = [...before.Log, entry].slice(-5);
  if (entry.ExitCode === 0) return { Status: "healthy", FailingStreak: 0, Log: log };
  const inStartPeriod = Date.parse(entry.Start) - started < cfg.startPeriod;
  // a failure while still starting, in the start period, is not counted
  if (inStartPeriod && before.Status === "starting") return { ...before, Log: log };
  const streak = before.FailingStreak + 1;
  return { Status: streak >= cfg.retries ? "unhealthy" : before.Status, FailingStreak: streak, Log: log };
}

/** What `hull ps` adds to "Up 5 minutes": docker's words */
export function healthWords(s: HealthState | undefined): string {
  if (!s) return "";
  return s.Status === "starting" ? " (health: starting)" : ` (${s.Status})`;
}
