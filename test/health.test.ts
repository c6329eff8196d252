// Health checks as docker runs them: --health-cmd (or the image's HEALTHCHECK) every interval in the
// container; starting, then healthy or unhealthy after `retries` failures; the start period; the
// timeout; inspect's State.Health, ps's "(healthy)" and --filter health=. The prober goes with its
// container.
import { afterAll, expect, test } from "bun:test";
import { hull, ok, requireUnprivileged, shimProcesses, useStore, userProcesses } from "./helpers";

requireUnprivileged();

afterAll(() => {
  h("rm", "-f", "hc", "hc-slow", "hc-start", "hc-img", "hc-none", "hc-base", "hc-bg");
});
const store = useStore();
const h = (...args: string[]) => hull(args, store);

const status = (name: string) => ok(h("inspect", "-f", "{{.State.Health.Status}}", name)).trim();

async function until(what: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error("timed out");
    await Bun.sleep(50);
  }
}

test("starting, unhealthy after the retries, healthy once the check passes; ps and its filter say so", async () => {
  ok(
    h(
      "run",
      "-d",
      "--name",
      "hc",
      "--health-cmd",
      "test -f /tmp/ok && echo fine",
      "--health-interval",
      "200ms",
      "--health-retries",
      "2",
      "busybox",
      "sleep",
      "1000",
    ),
  );
  expect(status("hc")).toBe("starting");
  expect(ok(h("ps", "--format", "{{.Status}}", "--filter", "name=hc"))).toContain("(health: starting)");
  await until(() => status("hc") === "unhealthy");
  const failing = JSON.parse(ok(h("inspect", "-f", "{{json .State.Health}}", "hc")));
  expect(failing.FailingStreak).toBeGreaterThanOrEqual(2);
  expect(failing.Log.at(-1)).toMatchObject({ ExitCode: 1 });
  expect(ok(h("ps", "-q", "--filter", "health=unhealthy")).trim()).toMatch(/^[a-f0-9]{12}$/);
  ok(h("exec", "hc", "touch", "/tmp/ok"));
  await until(() => status("hc") === "healthy");
  const healthy = JSON.parse(ok(h("inspect", "-f", "{{json .State.Health}}", "hc")));
  expect(healthy).toMatchObject({ Status: "healthy", FailingStreak: 0 });
  expect(healthy.Log.at(-1)).toMatchObject({ ExitCode: 0, Output: "fine\n" });
  expect(healthy.Log.length).toBeLessThanOrEqual(5);
  expect(ok(h("ps", "--format", "{{.Names}} {{.Status}}", "--filter", "health=healthy"))).toMatch(
    /^hc Up .* \(healthy\)\n$/,
  );
  expect(ok(h("ps", "-q", "--filter", "health=unhealthy"))).toBe("");
  expect(ok(h("inspect", "-f", "{{json .Config.Healthcheck.Test}}", "hc")).trim()).toBe(
    '["CMD","/bin/sh","-c","test -f /tmp/ok && echo fine"]',
  );
  // the prober goes with its container
  ok(h("rm", "-f", "hc"));
  await until(() => userProcesses((n) => n === "hull").length === 0, 5000);
  expect(shimProcesses()).toEqual([]);
});

test("a check past its timeout fails; failures in the start period count for nothing", async () => {
  ok(
    h(
      "run",
      "-d",
      "--name",
      "hc-slow",
      "--health-cmd",
      "sleep 5",
      "--health-timeout",
      "200ms",
      "--health-interval",
      "300ms",
      "--health-retries",
      "1",
      "busybox",
      "sleep",
      "1000",
    ),
  );
  await until(() => status("hc-slow") === "unhealthy");
  const log = JSON.parse(ok(h("inspect", "-f", "{{json .State.Health.Log}}", "hc-slow")));
  expect(log.at(-1)).toMatchObject({ ExitCode: -1, Output: "Health check exceeded timeout (0.2s)" });
  ok(
    h(
      "run",
      "-d",
      "--name",
      "hc-start",
      "--health-cmd",
      "false",
      "--health-interval",
      "100ms",
      "--health-retries",
      "1",
      "--health-start-period",
      "30s",
      "busybox",
      "sleep",
      "1000",
    ),
  );
  await until(() => JSON.parse(ok(h("inspect", "-f", "{{json .State.Health.Log}}", "hc-start"))).length >= 3);
  expect(status("hc-start")).toBe("starting");
  ok(h("rm", "-f", "hc-slow", "hc-start"));
});

test("a check that leaves a child holding its output still ends, and counts", async () => {
  ok(
    h(
      "run",
      "-d",
      "--name",
      "hc-bg",
      "--health-cmd",
      "sleep 1000 & exit 1",
      "--health-interval",
      "200ms",
      "--health-timeout",
      "2s",
      "--health-retries",
      "1",
      "busybox",
      "sleep",
      "1000",
    ),
  );
  await until(() => status("hc-bg") === "unhealthy");
  expect(h("run", "--rm", "--health-cmd", "true", "--health-interval", "10ms", "busybox", "true").stderr).toContain(
    "--health-interval must be 100ms or more",
  );
  ok(h("rm", "-f", "hc-bg"));
});

test("the image's HEALTHCHECK runs unless --no-healthcheck; bad values are refused before anything runs", async () => {
  ok(h("create", "--name", "hc-base", "busybox", "true"));
  ok(h("commit", "-c", "HEALTHCHECK --interval=100ms --retries=1 CMD true", "hc-base", "hc/img:1"));
  ok(h("run", "-d", "--name", "hc-img", "hc/img:1", "sleep", "1000"));
  await until(() => status("hc-img") === "healthy");
  ok(h("run", "-d", "--name", "hc-none", "--no-healthcheck", "hc/img:1", "sleep", "1000"));
  expect(ok(h("inspect", "-f", "{{.State.Health}}", "hc-none")).trim()).toBe("<no value>");
  expect(ok(h("ps", "-q", "--filter", "health=none", "--filter", "name=hc-none")).trim()).toMatch(/^[a-f0-9]{12}$/);
  ok(h("rm", "-f", "hc-img", "hc-none", "hc-base"));
  for (const [args, says] of [
    [["--health-cmd", "true", "--health-interval", "soon"], "--health-interval takes a duration"],
    [["--health-cmd", "true", "--health-retries", "many"], "--health-retries takes a whole number"],
    [["--health-cmd", "true", "--no-healthcheck"], "--no-healthcheck conflicts"],
    [["--health-interval", "1s"], "need a check: --health-cmd"],
  ] as const) {
    const r = h("run", "--rm", ...args, "busybox", "true");
    expect({ args, code: r.code }).toEqual({ args, code: 125 });
    expect(r.stderr).toContain(says);
  }
  expect(ok(h("ps", "-aq"))).toBe("");
});
