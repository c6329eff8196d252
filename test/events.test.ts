// hull events: the store's journal in docker's shape. A container's life (create, start, die with its
// code, destroy; kill and stop), volumes, networks and image tags; --since/--until, --filter,
// --format; and following new events as they come.
import { expect, test } from "bun:test";
import { HULL, hull, ok, requireUnprivileged, useStore } from "./helpers";

requireUnprivileged();

const store = useStore();
const h = (...args: string[]) => hull(args, store);
const events = (since: number, ...more: string[]) =>
  ok(h("events", "--since", String(since / 1000), "--until", String(Date.now() / 1000 + 0.5), ...more))
    .trim()
    .split("\n")
    .filter(Boolean);

test("a container's life, in order: create, start, die (its code), destroy; stop says kill, die, stop", async () => {
  const t0 = Date.now();
  expect(h("run", "--rm", "--name", "ev-once", "--network", "none", "busybox", "sh", "-c", "exit 3").code).toBe(3);
  expect(
    // by name: the store's first --rm run (useStore's) can say destroy in t0's millisecond
    events(
      t0,
      "--filter",
      "container=ev-once",
      "--format",
      "{{.Type}} {{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.exitCode}}",
    ),
  ).toEqual([
    "container create ev-once <no value>",
    "container start ev-once <no value>",
    "container die ev-once 3",
    "container destroy ev-once <no value>",
  ]);
  const t1 = Date.now();
  ok(h("run", "-d", "--init", "--name", "ev-svc", "--network", "none", "busybox", "sleep", "100"));
  ok(h("stop", "-t", "1", "ev-svc"));
  ok(h("rm", "ev-svc"));
  expect(events(t1, "--filter", "container=ev-svc", "--format", "{{.Action}}")).toEqual([
    "create",
    "start",
    "kill",
    "die",
    "stop",
    "destroy",
  ]);
  // docker's text form and json
  const text = events(t1, "--filter", "event=start");
  expect(text[0]).toMatch(
    /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z container start [0-9a-f]{64} \(image=busybox, name=ev-svc\)$/,
  );
  const json = JSON.parse(events(t1, "--filter", "event=die", "--format", "json")[0] as string);
  expect(json).toMatchObject({ Type: "container", Action: "die", status: "die", from: "busybox", scope: "local" });
  expect(json.Actor.Attributes).toMatchObject({ name: "ev-svc", exitCode: "143" });
});

test("volumes, networks and images; filters by type; nothing before --since", () => {
  const t0 = Date.now();
  ok(h("volume", "create", "ev-vol"));
  ok(h("volume", "rm", "ev-vol"));
  ok(h("network", "create", "ev-net"));
  ok(h("network", "rm", "ev-net"));
  ok(h("tag", "busybox", "ev/img:1"));
  ok(h("rmi", "ev/img:1"));
  expect(
    events(t0, "--format", "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}").filter(
      (l) => !l.startsWith("container"),
    ),
  ).toEqual([
    "volume create <no value>",
    "volume destroy <no value>",
    "network create ev-net",
    "network destroy ev-net",
    "image tag ev/img:1",
    "image untag ev/img:1",
  ]);
  expect(events(t0, "--filter", "type=volume", "--format", "{{.Actor.ID}} {{.Action}}")).toEqual([
    "ev-vol create",
    "ev-vol destroy",
  ]);
  expect(events(Date.now() + 60_000)).toEqual([]);
  expect(h("events", "--filter", "color=blue", "--until", "0").code).toBe(125);
});

test("without --until it follows: a new event shows as it happens", async () => {
  const p = Bun.spawn([HULL, "events", "--filter", "event=start", "--format", "{{.Actor.Attributes.name}}"], {
    env: { ...process.env, HULL_ROOT: store.root },
    stdout: "pipe",
  });
  await Bun.sleep(300);
  ok(h("run", "--rm", "--name", "ev-follow", "--network", "none", "busybox", "true"));
  let out = "";
  const reader = (p.stdout as ReadableStream<Uint8Array>).getReader();
  const end = Date.now() + 5000;
  while (!out.includes("ev-follow") && Date.now() < end) {
    const r = await Promise.race([reader.read(), Bun.sleep(500).then(() => undefined)]);
    if (r && !r.done) out += new TextDecoder().decode(r.value);
  }
  p.kill();
  await p.exited;
  expect(out).toBe("ev-follow\n");
});
