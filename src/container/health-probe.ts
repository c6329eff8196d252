// One health probe (`hull __health ID`, started by the container's parent on its timer): the check
// runs in the container as `hull exec` runs a command, within its timeout; health.json gets the
// result by docker's rules (src/container/health.ts).
import * as v from "valibot";
import { spawnShim } from "../runtime/shim";
import type { StorePaths } from "../store/paths";
import { enterMessage } from "./exec";
import { HealthConfigSchema, nextHealth, readHealth, writeHealthState } from "./health";
import { containerState, findContainer, startedAt } from "./records";

export async function probeHealth(paths: StorePaths, key: string): Promise<void> {
  const rec = findContainer(paths, key);
  const cfg = v.parse(HealthConfigSchema, rec.health);
  const state = containerState(paths, rec);
  // a paused container answers nothing, and is not judged for it (docker's rule)
  if (state.status !== "running" || state.paused) return;
  const message = await enterMessage(paths, {
    container: rec.id,
    argv: cfg.test,
    env: [],
    tty: false,
    interactive: false,
  });
  const start = new Date();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), cfg.timeout);
  const r = await spawnShim(message, ["enter", "0"], false, controller.signal, 4096);
  clearTimeout(timer);
  const timedOut = controller.signal.aborted;
  const output = `${r.stdout}${r.stderr}`;
  const entry = {
    Start: start.toISOString(),
    End: new Date().toISOString(),
    ExitCode: timedOut ? -1 : r.code,
    Output: timedOut ? `Health check exceeded timeout (${cfg.timeout / 1000}s)` : output.slice(0, 4096),
  };
  const before = readHealth(paths, rec.id) ?? { Status: "starting" as const, FailingStreak: 0, Log: [] };
  const started = Date.parse(startedAt(paths, rec.id) ?? rec.created);
  // the container may have ended while the probe ran: a dead container's health stays as it was
  if (containerState(paths, rec).status !== "running") return;
  writeHealthState(paths, rec.id, nextHealth(before, cfg, entry, started));
}
