// --format as scripts written for docker pass it, on real containers, images, volumes and networks:
// `inspect -f '{{.State.Running}}'`, `ps --format 'table {{.Names}}\t{{.Status}}'`, json, .Label,
// and the flags around listings (--no-trunc, -n, -s, --filter volume=). A bad template is one line and
// exit 125, before anything is done.
import { afterAll, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { hull, ok, requireUnprivileged, useStore } from "./helpers";

requireUnprivileged();

// before useStore's own: the containers go while their store is still there
afterAll(() => {
  h("rm", "-f", "fmt-up", "fmt-done");
  h("volume", "rm", "fmt-vol");
});

const store = useStore();
const h = (...args: string[]) => hull(args, store);

test("inspect --format on a container, an image, a volume and a network", () => {
  ok(h("volume", "create", "--label", "team=a", "fmt-vol"));
  ok(
    h(
      "run",
      "-d",
      "--name",
      "fmt-up",
      "-l",
      "tier=web",
      "-e",
      "GREETING=hi",
      "-w",
      "/tmp",
      "-v",
      "fmt-vol:/data",
      "--network",
      "none",
      "busybox",
      "sleep",
      "100",
    ),
  );
  expect(h("run", "--name", "fmt-done", "--network", "none", "busybox", "sh", "-c", "exit 3").code).toBe(3);
  expect(ok(h("inspect", "-f", "{{.State.Running}} {{.State.ExitCode}} {{.Name}}", "fmt-up", "fmt-done"))).toBe(
    "true 0 /fmt-up\nfalse 3 /fmt-done\n",
  );
  expect(
    ok(h("container", "inspect", "--format", '{{.Config.WorkingDir}} {{index .Config.Labels "tier"}}', "fmt-up")),
  ).toBe("/tmp web\n");
  expect(
    ok(
      h(
        "inspect",
        "-f",
        '{{range .Config.Env}}{{if eq (index (split . "=") 0) "GREETING"}}{{.}}{{end}}{{end}}',
        "fmt-up",
      ),
    ),
  ).toBe("GREETING=hi\n");
  expect(ok(h("inspect", "-f", "{{range .Mounts}}{{.Name}}:{{.Destination}}{{end}}", "fmt-up"))).toBe(
    "fmt-vol:/data\n",
  );
  expect(JSON.parse(ok(h("inspect", "-f", "{{json .State}}", "fmt-up")))).toMatchObject({
    Running: true,
    Paused: false,
  });
  const id = ok(h("inspect", "-f", "{{.Id}}", "fmt-up")).trim();
  expect(id).toMatch(/^[a-f0-9]{64}$/);
  // an image, a volume (with its label), a network, each by --type and found without it
  expect(ok(h("image", "inspect", "-f", "{{.Os}}/{{.Architecture}}", "busybox"))).toMatch(/^linux\/\w+\n$/);
  expect(ok(h("inspect", "--type", "volume", "-f", "{{.Name}} {{.Labels.team}}", "fmt-vol"))).toBe("fmt-vol a\n");
  expect(ok(h("inspect", "-f", "{{.Driver}}", "fmt-vol"))).toBe("local\n");
  expect(ok(h("network", "inspect", "-f", "{{.Name}}", "none"))).toBe("none\n");
  // what is not there: a line, exit 1, the others still printed
  const r = h("inspect", "-f", "{{.Name}}", "fmt-up", "nothing-here");
  expect(r.code).toBe(1);
  expect(r.stdout).toBe("/fmt-up\n");
  expect(r.stderr.trim()).toBe("hull: no such object: nothing-here");
});

test("ps: templates, table, json, .Label, filters, --no-trunc, -n, -s", () => {
  expect(ok(h("ps", "--format", '{{.Names}} {{.State}} {{.Label "tier"}}'))).toBe("fmt-up running web\n");
  expect(
    ok(h("ps", "-a", "--filter", "name=fmt-", "--format", "{{.Names}}"))
      .trim()
      .split("\n")
      .sort(),
  ).toEqual(["fmt-done", "fmt-up"]);
  const tbl = ok(h("ps", "--format", "table {{.Names}}\\t{{.Image}}")).split("\n");
  expect(tbl[0]).toBe("NAMES     IMAGE");
  expect(tbl[1]).toBe("fmt-up    busybox");
  const row = JSON.parse(ok(h("ps", "--format", "json")).trim());
  expect(row).toMatchObject({
    Names: "fmt-up",
    State: "running",
    Image: "busybox",
    Networks: "none",
    Mounts: "fmt-vol",
  });
  // the image's labels and the container's own
  expect(row.Labels.split(",")).toContain("tier=web");
  expect(row.ID).toMatch(/^[a-f0-9]{12}$/);
  expect(ok(h("ps", "--no-trunc", "-q")).trim()).toMatch(/^[a-f0-9]{64}$/);
  expect(ok(h("ps", "-n", "1", "--format", "{{.Names}}"))).toBe("fmt-done\n");
  expect(ok(h("ps", "-l", "-q")).trim()).toMatch(/^[a-f0-9]{12}$/);
  expect(ok(h("ps", "-a", "--filter", "volume=fmt-vol", "--format", "{{.Names}} {{.Mounts}}"))).toBe(
    "fmt-up fmt-vol\n",
  );
  expect(ok(h("ps", "-a", "--filter", "exited=3", "-q")).trim()).toMatch(/^[a-f0-9]{12}$/);
  expect(ok(h("ps", "-s", "--format", "{{.Size}}"))).toMatch(/^\d+(\.\d+)?[kMG]?B \(virtual \d+(\.\d+)?[kMG]?B\)\n$/);
  expect(ok(h("ps", "-a", "--filter", "since=fmt-up", "--format", "{{.Names}}"))).toBe("fmt-done\n");
});

test("images, volume ls, network ls, version take --format too", () => {
  expect(ok(h("images", "--format", "{{.Repository}}:{{.Tag}}", "busybox"))).toBe("busybox:latest\n");
  expect(ok(h("images", "--format", "table {{.Repository}}", "busybox"))).toBe("REPOSITORY\nbusybox\n");
  expect(ok(h("volume", "ls", "--format", '{{.Name}} {{.Driver}} {{.Label "team"}}'))).toBe("fmt-vol local a\n");
  expect(ok(h("volume", "ls", "--filter", "label=team=a", "-q"))).toBe("fmt-vol\n");
  expect(ok(h("volume", "ls", "--filter", "label=team=b", "-q"))).toBe("");
  expect(ok(h("network", "ls", "--format", "{{.Name}}")).split("\n")).toContain("none");
  expect(ok(h("version", "--format", "{{.Client.Version}}")).trim()).toMatch(/^\d+\.\d+\.\d+/);
  expect(JSON.parse(ok(h("version", "--format", "json"))).Server.Os).toBe("linux");
});

test("info, system df and exists: docker's fields, podman's exit statuses", () => {
  expect(ok(h("info", "--format", "{{.ContainersRunning}} {{.OSType}} {{.Driver}}"))).toBe("1 linux overlay\n");
  const info = JSON.parse(ok(h("system", "info", "--format", "json")));
  expect(info).toMatchObject({ Containers: 2, ContainersStopped: 1, DockerRootDir: store.root, Rootless: true });
  expect(info.Images).toBeGreaterThan(0);
  expect(ok(h("info"))).toMatch(/^Client:\n Version: +\d+\.\d+\.\d+\n\nServer:\n Containers: 2\n {2}Running: 1\n/);
  const df = ok(h("system", "df", "--format", "{{.Type}}={{.TotalCount}}/{{.Active}}"))
    .trim()
    .split("\n");
  expect(df).toEqual(["Images=1/1", "Containers=2/1", "Local Volumes=1/1", "Build Cache=0/0"]);
  expect(ok(h("system", "df")).split("\n")[0]).toMatch(/^TYPE +TOTAL +ACTIVE +SIZE +RECLAIMABLE$/);
  // -v: docker's three tables, a line per image, container and volume, then the build cache
  const verbose = ok(h("system", "df", "-v"));
  expect(verbose).toMatch(
    /^Images space usage:\n\nREPOSITORY +TAG +IMAGE ID +CREATED +SIZE +SHARED SIZE +UNIQUE SIZE +CONTAINERS\nbusybox +latest +[0-9a-f]{12} .* 2\n/,
  );
  expect(verbose).toMatch(
    /\nContainers space usage:\n\nCONTAINER ID +IMAGE +COMMAND +LOCAL VOLUMES +SIZE +CREATED +STATUS +NAMES\n/,
  );
  expect(verbose.match(/\n[0-9a-f]{12} +busybox +"/g)).toHaveLength(2);
  expect(verbose).toMatch(/\nLocal Volumes space usage:\n\nVOLUME NAME +LINKS +SIZE\nfmt-vol +1 +/);
  expect(verbose).toMatch(/\nBuild cache usage: 0B\n$/);
  for (const [what, there] of [
    ["container", "fmt-up"],
    ["image", "busybox"],
    ["volume", "fmt-vol"],
    ["network", "none"],
  ] as const) {
    const yes = h(what, "exists", there);
    expect({ what, code: yes.code, out: yes.stdout + yes.stderr }).toEqual({ what, code: 0, out: "" });
    const no = h(what, "exists", "not-there-at-all");
    expect({ what, code: no.code, out: no.stdout + no.stderr }).toEqual({ what, code: 1, out: "" });
  }
});

test("a damaged volume record: named, left out of ls, and exists says so with 125, not 'not there'", () => {
  ok(h("volume", "create", "fmt-broken"));
  writeFileSync(join(store.root, "volumes", "fmt-broken", "volume.json"), "{not json");
  const ls = h("volume", "ls", "-q");
  expect(ls.code).toBe(0);
  expect(ls.stdout).toBe("fmt-vol\n");
  expect(ls.stderr).toContain("volume fmt-broken has a damaged record");
  const ex = h("volume", "exists", "fmt-broken");
  expect(ex.code).toBe(125);
  expect(ex.stderr).toContain("damaged record");
  expect(h("container", "exists", "").code).toBe(1);
  rmSync(join(store.root, "volumes", "fmt-broken"), { recursive: true });
});

test("a bad template: one line, exit 125, nothing done", () => {
  for (const args of [
    ["inspect", "-f", "{{.State.Running", "fmt-up"],
    ["ps", "--format", "{{if .Names}}"],
    ["images", "--format", "{{nosuchfunc .ID}}"],
    ["stats", "--no-stream", "--format", "{{.CPUPerc"],
  ]) {
    const r = h(...args);
    expect({ args, code: r.code }).toEqual({ args, code: 125 });
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^hull: template/);
    expect(r.stdout).toBe("");
  }
  // an error while applying it names the field
  const r = h("inspect", "-f", "{{.Nope.Deeper}}", "fmt-up");
  expect(r.code).toBe(125);
  expect(r.stderr).toContain("nil pointer evaluating interface {}.Deeper");
});
