// run flags docker scripts pass every day: --label-file, --cidfile, --stop-signal, --stop-timeout,
// --platform, --shm-size, --sig-proxy, --group-add, --device, --sysctl, --domainname. Each works as
// docker's, or is refused by name with the reason.
import { afterAll, expect, test } from "bun:test";
import {
  accessSync,
  constants,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hull, ok, requireUnprivileged, useStore } from "./helpers";

requireUnprivileged();

afterAll(() => {
  h("rm", "-f", "rf-stop", "rf-labels", "rf-log");
  rmSync(dir, { recursive: true, force: true });
});
const store = useStore();
const h = (...args: string[]) => hull(args, store);
const dir = mkdtempSync(join(tmpdir(), "hull-run-flags-"));

test("--label-file and --label; --cidfile gets the id and must not exist", () => {
  const labels = join(dir, "labels");
  writeFileSync(labels, "# team labels\nteam=ci\n\nowner=me\n");
  const cid = join(dir, "cid");
  ok(
    h("create", "--name", "rf-labels", "--label-file", labels, "-l", "owner=you", "--cidfile", cid, "busybox", "true"),
  );
  const id = readFileSync(cid, "utf8");
  expect(id).toMatch(/^[a-f0-9]{64}$/);
  expect(
    ok(h("inspect", "-f", '{{.Id}} {{index .Config.Labels "team"}} {{index .Config.Labels "owner"}}', "rf-labels")),
  ).toBe(`${id} ci you\n`);
  const again = h("run", "--rm", "--cidfile", cid, "busybox", "true");
  expect(again.code).toBe(125);
  expect(again.stderr).toContain(`--cidfile ${cid}: the file exists`);
  expect(h("run", "--rm", "--label-file", join(dir, "nope"), "busybox", "true").stderr).toContain("no such file");
});

test("--stop-signal is what stop sends; --stop-timeout is its wait", async () => {
  // USR1 is trapped and ends the container with 42: the stop signal was that one, not TERM
  ok(
    h(
      "run",
      "-d",
      "--name",
      "rf-stop",
      "--stop-signal",
      "USR1",
      "--stop-timeout",
      "5",
      "busybox",
      "sh",
      "-c",
      "trap 'exit 42' USR1; trap '' TERM; while :; do sleep 0.1; done",
    ),
  );
  expect(ok(h("inspect", "-f", "{{.Config.StopSignal}} {{.Config.StopTimeout}}", "rf-stop"))).toBe("USR1 5\n");
  ok(h("stop", "rf-stop"));
  expect(ok(h("inspect", "-f", "{{.State.ExitCode}}", "rf-stop"))).toBe("42\n");
  expect(h("run", "--rm", "--stop-signal", "SIGNOPE", "busybox", "true").code).toBe(125);
  expect(h("run", "--rm", "--stop-timeout", "soon", "busybox", "true").stderr).toContain(
    "--stop-timeout takes whole seconds",
  );
});

test("--shm-size sizes /dev/shm; --platform is checked against the image; --sig-proxy=false is refused with why", () => {
  expect(
    ok(h("run", "--rm", "--shm-size", "8m", "busybox", "sh", "-c", "df -k /dev/shm | tail -1")).split(/\s+/)[1],
  ).toBe("8192");
  expect(ok(h("run", "--rm", "busybox", "sh", "-c", "df -k /dev/shm | tail -1")).split(/\s+/)[1]).toBe("65536");
  expect(h("run", "--rm", "--shm-size", "lots", "busybox", "true").stderr).toContain("--shm-size takes a size");
  const arch = ok(h("image", "inspect", "-f", "{{.Architecture}}", "busybox")).trim();
  ok(h("run", "--rm", "--platform", `linux/${arch}`, "busybox", "true"));
  const other = arch === "arm64" ? "linux/amd64" : "linux/arm64";
  const r = h("run", "--rm", "--platform", other, "busybox", "true");
  expect(r.code).toBe(125);
  expect(r.stderr).toContain(`hull pull --platform ${other} busybox`);
  ok(h("run", "--rm", "--sig-proxy", "busybox", "true"));
  const s = h("run", "--rm", "--sig-proxy=false", "busybox", "true");
  expect(s.code).toBe(125);
  expect(s.stderr).toContain("--sig-proxy=false is not supported");
});

test("odd values are refused before anything is made: signals out of range, sizes that wrap, a dangling cidfile", () => {
  const before = ok(h("ps", "-aq"));
  for (const [args, says] of [
    [["--stop-signal", "0"], "a signal number is 1 to 64"],
    [["--stop-signal", "99999"], "a signal number is 1 to 64"],
    [["--stop-timeout", "99999999999999999999999"], "--stop-timeout takes at most"],
    [["--shm-size", "16777216t"], "--shm-size takes a size"],
    [["--shm-size", "1"], "--shm-size takes a size"],
    [["--label-file", dir], `--label-file ${dir}: cannot read it (EISDIR)`],
  ] as const) {
    const r = h("run", "--rm", ...args, "busybox", "true");
    expect({ args, code: r.code }).toEqual({ args, code: 125 });
    expect(r.stderr).toContain(says);
  }
  const dangling = join(dir, "dangling");
  Bun.spawnSync(["ln", "-s", join(dir, "nowhere"), dangling]);
  const r = h("run", "--rm", "--cidfile", dangling, "busybox", "true");
  expect(r.code).toBe(125);
  expect(r.stderr).toContain("the file exists");
  ok(h("run", "--rm", "--platform", "linux", "busybox", "true"));
  expect(ok(h("ps", "-aq"))).toBe(before);
});

test("--log-opt max-size and max-file rotate the json-file log; other log options are refused by name", async () => {
  const id = ok(
    h(
      "run",
      "-d",
      "--name",
      "rf-log",
      "--network",
      "none",
      "--log-driver",
      "json-file",
      "--log-opt",
      "max-size=2k",
      "--log-opt",
      "max-file=3",
      "busybox",
      "sh",
      "-c",
      "i=0; while [ $i -lt 400 ]; do echo line-$i; i=$((i+1)); done; sleep 100",
    ),
  ).trim();
  const dir = join(store.root, "containers", id);
  for (let i = 0; i < 100 && !ok(h("logs", "rf-log")).includes("line-399"); i++) await Bun.sleep(50);
  const files = readdirSync(dir)
    .filter((f) => f.startsWith("container.log"))
    .sort();
  expect(files).toEqual(["container.log", "container.log.1", "container.log.2"]);
  for (const f of files) expect(statSync(join(dir, f)).size).toBeLessThanOrEqual(2048);
  const logs = ok(h("logs", "rf-log"));
  expect(logs).toContain("line-399\n");
  expect(logs).not.toContain("line-0\n");
  // what is kept is whole and in order
  const nums = logs
    .trim()
    .split("\n")
    .map((l) => Number(l.slice(5)));
  expect(nums).toEqual(nums.map((_, i) => (nums[0] as number) + i));
  ok(h("rm", "-f", "rf-log"));
  for (const [args, says] of [
    [["--log-opt", "mode=non-blocking"], "--log-opt mode is not supported"],
    [["--log-opt", "max-size=1"], "--log-opt max-size takes a size"],
    [["--log-opt", "max-file=0"], "--log-opt max-file takes a number"],
    [["--log-driver", "syslog"], "--log-driver: hull keeps docker's json-file log"],
  ] as const) {
    const r = h("run", "--rm", ...args, "busybox", "true");
    expect({ args, code: r.code }).toEqual({ args, code: 125 });
    expect(r.stderr).toContain(says);
  }
});

test("--group-add gives groups by name or number; --domainname names the UTS domain", () => {
  const out = ok(
    h(
      "run",
      "--rm",
      "-u",
      "1000",
      "--group-add",
      "www-data",
      "--group-add",
      "7,users",
      "--domainname",
      "corp.example",
      "busybox",
      "sh",
      "-c",
      "id -G; cat /proc/sys/kernel/domainname",
    ),
  );
  const [groups = "", domain] = out.trim().split("\n");
  expect(groups.split(" ").sort()).toEqual(["100", "1000", "33", "7"]);
  expect(domain).toBe("corp.example");
  expect(ok(h("create", "--name", "rf-groups", "--group-add", "33", "--domainname", "d.example", "busybox", "true")));
  expect(ok(h("inspect", "-f", "{{.HostConfig.GroupAdd}} {{.Config.Domainname}}", "rf-groups"))).toBe(
    "[33] d.example\n",
  );
  ok(h("rm", "rf-groups"));
  const none = h("run", "--rm", "--group-add", "wizards", "busybox", "true");
  expect(none.code).toBe(125);
  expect(none.stderr).toContain("--group-add wizards: no such group in the image's /etc/group");
  expect(h("run", "--rm", "--group-add", "keep-groups", "busybox", "true").stderr).toContain("keep-groups is podman's");
  expect(h("run", "--rm", "--domainname", "-bad", "busybox", "true").code).toBe(125);
});

test("--device binds a node the caller may open, and refuses one it may not", () => {
  // the node, renamed: reading it gives the host device's bytes
  expect(
    ok(
      h(
        "run",
        "--rm",
        "--device",
        "/dev/zero:/dev/nothing:rw",
        "busybox",
        "sh",
        "-c",
        "head -c 4 /dev/nothing | od -An -tx1",
      ),
    ).trim(),
  ).toBe("00 00 00 00");
  expect(ok(h("run", "--rm", "--device", "/dev/full", "busybox", "sh", "-c", "echo x > /dev/full; echo $?"))).toBe(
    "1\n",
  );
  for (const [spec, words] of [
    ["/etc/passwd", "not a device node"],
    ["/dev", "not a device node"],
    ["/dev/zero:/dev/z:r", "cannot be held to r (no device cgroup)"],
    ["/dev/zero:m", "cannot be held to m"],
    ["/dev/no-such-device", "no such device"],
    ["/dev/zero:/proc/zero", "a device goes under /dev"],
    ["/dev/zero:rwx", "permissions are letters of rwm"],
    ["dev/zero", "must be absolute"],
  ]) {
    const r = h("run", "--rm", "--device", spec as string, "busybox", "true");
    expect(r.code).toBe(125);
    expect(r.stderr).toContain(words as string);
  }
  // a root-only node of this machine: the container gets no more than its caller
  const closed = ["/dev/console", "/dev/tty0", "/dev/loop-control", "/dev/btrfs-control", "/dev/mem"].find((d) => {
    if (!existsSync(d)) return false;
    try {
      accessSync(d, constants.R_OK);
      return false;
    } catch {
      return true;
    }
  });
  if (!closed) {
    console.log("no device on this host is closed to the test user: the refusal is not checked here");
    return;
  }
  const r = h("run", "--rm", "--device", closed, "busybox", "true");
  expect(r.code).toBe(125);
  expect(r.stderr).toContain(`--device ${closed}: you cannot open it for reading and writing`);
});

test("--sysctl sets the container's own namespaced settings, and refuses the host's", () => {
  const out = ok(
    h(
      "run",
      "--rm",
      "--network",
      "none",
      "--sysctl",
      "net.ipv4.ip_unprivileged_port_start=80",
      "--sysctl",
      "kernel.shmmax=1234567",
      "--sysctl",
      "fs.mqueue.msg_max=20",
      "busybox",
      "sh",
      "-c",
      "cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/kernel/shmmax /proc/sys/fs/mqueue/msg_max",
    ),
  );
  expect(out).toBe("80\n1234567\n20\n");
  // the host's own values are untouched
  expect(readFileSync("/proc/sys/kernel/shmmax", "utf8").trim()).not.toBe("1234567");
  for (const [args, words] of [
    [["--sysctl", "kernel.panic=1"], "not a setting of the container's own namespaces"],
    [["--network", "host", "--sysctl", "net.ipv4.ip_forward=1"], "not with --network host"],
    [["--sysctl", "kernel.hostname=x"], "give --hostname or --domainname"],
    [["--sysctl", "net.ipv4.ip_forward"], "takes KEY=VALUE"],
    [["--sysctl", "net.ipv4/../../kernel/panic=1"], "not a kernel setting's name"],
  ] as const) {
    const r = h("run", "--rm", ...args, "busybox", "true");
    expect(r.code).toBe(125);
    expect(r.stderr).toContain(words);
  }
  // one the kernel keeps from a user namespace: its own refusal, named, and nothing left behind
  const before = readdirSync(join(store.root, "containers"));
  const r = h("run", "--rm", "--network", "none", "--sysctl", "net.core.rmem_max=99999999", "busybox", "true");
  expect(r.code).toBe(125);
  expect(r.stderr).toContain("--sysctl net.core.rmem_max");
  expect(readdirSync(join(store.root, "containers"))).toEqual(before);
});

test("a setup failure in the container stage is reported, never a silent SIGPIPE, on the default network too", () => {
  // the stage that failed had closed the pipe its parent then wrote the network's go to (exit 141,
  // no message, the clean-up unmade): five runs, as the race went one way or the other
  const before = readdirSync(join(store.root, "containers"));
  for (let i = 0; i < 5; i++) {
    const r = h("run", "--rm", "-v", "/etc:/proc/sys/x", "busybox", "true");
    expect(r.code).toBe(125);
    expect(r.stderr).toContain("mount point /proc/sys/x");
  }
  expect(readdirSync(join(store.root, "containers"))).toEqual(before);
});

test("logs --details: the labels and variables --log-opt labels=/env=/env-regex= chose, before each line", async () => {
  ok(
    h(
      "run",
      "--name",
      "rf-details",
      "-l",
      "team=ci",
      "-l",
      "other=x",
      "-e",
      "STAGE=test",
      "-e",
      "APP_MODE=fast",
      "--log-opt",
      "labels=team,missing",
      "--log-opt",
      "env=STAGE",
      "--log-opt",
      "env-regex=^APP_",
      "busybox",
      "echo",
      "hello",
    ),
  );
  expect(ok(h("logs", "--details", "rf-details"))).toBe("APP_MODE=fast,STAGE=test,team=ci hello\n");
  expect(ok(h("logs", "rf-details"))).toBe("hello\n");
  ok(h("run", "--name", "rf-plain", "busybox", "echo", "plain"));
  // docker's: a space alone where nothing was chosen
  expect(ok(h("logs", "--details", "rf-plain"))).toBe(" plain\n");
  ok(h("rm", "rf-details", "rf-plain"));
  expect(h("run", "--rm", "--log-opt", "env-regex=(", "busybox", "true").stderr).toContain("not a regular expression");
  // values escaped as docker escapes them (a URL query's): a line break cannot forge a log line
  ok(
    h(
      "run",
      "--name",
      "rf-forge",
      "-l",
      "x=1\nFAKE LINE",
      "-e",
      "V=a,b=c d",
      "--log-opt",
      "labels=x",
      "--log-opt",
      "env=V",
      "busybox",
      "echo",
      "real",
    ),
  );
  expect(ok(h("logs", "--details", "rf-forge"))).toBe("V=a%2Cb%3Dc+d,x=1%0AFAKE+LINE real\n");
  ok(h("rm", "rf-forge"));
});

// what docker scripts read back with inspect -f: the default network under docker's name "bridge",
// HostConfig's common fields, the exposed ports (also in ps's PORTS)
test("inspect: the default network as bridge, HostConfig as given, --expose in ExposedPorts and ps", () => {
  ok(
    h(
      "run",
      "-d",
      "--name",
      "rf-inspect",
      "--expose",
      "9000",
      "--expose",
      "53/udp",
      "--restart",
      "on-failure:2",
      "--log-opt",
      "max-size=1m",
      "--annotation",
      "team=ci",
      "--ipc",
      "shareable",
      "--read-only",
      "-v",
      `${dir}:/host:ro`,
      "busybox",
      "sleep",
      "60",
    ),
  );
  const f = (tpl: string) => ok(h("inspect", "-f", tpl, "rf-inspect")).trim();
  const ip = f("{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}");
  const shared = f("{{.NetworkSettings.IPAddress}}");
  // on the shared bridge it has an address; with a helper of its own (no shared namespace) none
  expect(ip).toBe(shared);
  if (shared !== "") expect(f("{{.NetworkSettings.Networks.bridge.Gateway}}")).toBe("10.88.0.1");
  expect(f("{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}")).toBe("on-failure:2");
  expect(f("{{.HostConfig.LogConfig.Type}} {{json .HostConfig.LogConfig.Config}}")).toBe('json-file {"max-size":"1m"}');
  expect(f("{{.HostConfig.Privileged}} {{.HostConfig.ReadonlyRootfs}} {{.HostConfig.IpcMode}}")).toBe(
    "false true shareable",
  );
  expect(f("{{json .HostConfig.Binds}} {{json .HostConfig.Annotations}}")).toBe(`["${dir}:/host:ro"] {"team":"ci"}`);
  expect(f("{{json .Config.ExposedPorts}}")).toBe('{"53/udp":{},"9000/tcp":{}}');
  expect(ok(h("ps", "--filter", "name=rf-inspect", "--format", "{{.Ports}}")).trim()).toBe("53/udp, 9000/tcp");
  ok(h("rm", "-f", "rf-inspect"));
  // refused: another --ipc than the container's own; an --expose that is no port
  expect(h("run", "--rm", "--ipc", "host", "busybox", "true").stderr).toContain("--ipc takes private or shareable");
  const bad = h("run", "--rm", "--expose", "80:80", "busybox", "true");
  expect(bad.code).toBe(125);
  expect(bad.stderr).toContain("--expose 80:80: takes PORT[-PORT][/tcp|udp]");
});

test("listings: a field a row lacks and a filter value docker refuses are errors (125), not empty output", () => {
  ok(h("create", "--name", "rf-listing", "busybox", "true"));
  for (const [args, says] of [
    [["ps", "-a", "--format", "{{.Bogus}}"], "can't evaluate field Bogus"],
    [["ps", "-a", "--format", "{{.Label}}"], "wrong number of args for Label: want 1 got 0"],
    [["ps", "-a", "--filter", "status=bogus"], "--filter status=bogus: give one of created,"],
    [["ps", "-a", "--filter", "exited=x"], "--filter exited=x: give an exit code"],
    [["images", "--format", "{{.Nope}}"], "can't evaluate field Nope"],
  ] as const) {
    const r = h(...args);
    expect({ args, code: r.code, out: r.stdout }).toEqual({ args, code: 125, out: "" });
    expect(r.stderr).toContain(says);
  }
  expect(ok(h("ps", "-a", "--filter", "name=rf-listing", "--format", '{{.Names}} {{.Label "x"}}|')).trim()).toBe(
    "rf-listing |",
  );
  // start -a of a command the image lacks: 127, as run's
  ok(h("rm", "rf-listing"));
  const id = ok(h("create", "busybox", "/nonexistent")).trim();
  expect(h("start", "-a", id).code).toBe(127);
  ok(h("rm", "-f", id));
});

test("run -q keeps a pull quiet; help writes long aliases with two dashes and no trailing spaces", () => {
  expect(ok(h("run", "--rm", "-q", "busybox", "echo", "quiet"))).toBe("quiet\n");
  const help = ok(h("run", "--help"));
  expect(help).toContain("--net, --network=<network>");
  expect(help).toContain("--net-alias, --network-alias=");
  expect(help).not.toMatch(/ -net,/);
  expect(help.split("\n").filter((l) => l !== l.trimEnd())).toEqual([]);
});

/** busybox saved, its config edited by EDIT, and loaded back as TAG: a hostile image of the test's making */
function loadEdited(tag: string, edit: (config: { config: Record<string, unknown> }) => void): void {
  const work = join(dir, `edit-${tag.replace(/\W/g, "-")}`);
  const archive = `${work}.tar`;
  ok(h("save", "-o", archive, "busybox"));
  Bun.spawnSync(["mkdir", "-p", work]);
  expect(Bun.spawnSync(["tar", "-xf", archive, "-C", work]).exitCode).toBe(0);
  const manifest = JSON.parse(readFileSync(join(work, "manifest.json"), "utf8"));
  const configPath = join(work, manifest[0].Config);
  const config = JSON.parse(readFileSync(configPath, "utf8"));
  edit(config);
  writeFileSync(configPath, JSON.stringify(config));
  manifest[0].RepoTags = [tag];
  writeFileSync(join(work, "manifest.json"), JSON.stringify(manifest));
  const edited = `${work}-edited.tar`;
  expect(Bun.spawnSync(["tar", "-cf", edited, "-C", work, "."]).exitCode).toBe(0);
  ok(h("load", "-i", edited));
}

test("an image's EXPOSE keys that are no port are left out: nothing of them reaches ps or inspect", () => {
  loadEdited("evil/expose:1", (config) => {
    config.config.ExposedPorts = {
      "\u001b[31mRED\u001b[0m": {},
      "80/tcp\nFAKEROW  up 2 days": {},
      "99999/tcp": {},
      ["__proto__"]: {},
      "8080/tcp": {},
      "53/UDP": {},
    };
  });
  ok(h("run", "-d", "--name", "rf-evil-expose", "evil/expose:1", "sleep", "60"));
  expect(ok(h("inspect", "-f", "{{json .Config.ExposedPorts}}", "rf-evil-expose")).trim()).toBe(
    '{"53/udp":{},"8080/tcp":{}}',
  );
  const ps = ok(h("ps", "--filter", "name=rf-evil-expose", "--format", "{{.Ports}}"));
  expect(ps).toBe("53/udp, 8080/tcp\n");
  ok(h("rm", "-f", "rf-evil-expose"));
});

test("label and annotation keys a record cannot keep are refused, not lost", () => {
  for (const args of [
    ["--annotation", "__proto__=x"],
    ["--label", "constructor=y"],
    ["--label-file", join(dir, "proto-labels")],
  ]) {
    writeFileSync(join(dir, "proto-labels"), "__proto__=z\n");
    const r = h("create", "--name", "rf-proto", ...args, "busybox", "true");
    expect({ args, code: r.code }).toEqual({ args, code: 125 });
    expect(r.stderr).toContain("__proto__, constructor and prototype cannot be keys");
    expect(h("container", "exists", "rf-proto").code).toBe(1);
  }
  expect(h("volume", "create", "--label", "prototype=1", "rf-proto-vol").code).toBe(125);
});

test("an image's words in an error (its entrypoint) reach the terminal escaped, on one line", () => {
  loadEdited("evil/escape:1", (config) => {
    config.config.Entrypoint = ["\u001b[31mRED\u001b]0;title\u0007\nsecond line\u009b"];
  });
  const r = h("run", "--rm", "evil/escape:1");
  expect(r.code).toBe(127);
  expect(r.stderr).toBe(
    "hull: executable file not found in $PATH: \\x1b[31mRED\\x1b]0;title\\x07\\x0asecond line\\x9b (is it in the image?): No such file or directory\n",
  );
  // hull's own errors too (here a name from the command line)
  const n = h("inspect", "no\u001bsuch");
  expect(n.stderr).toBe("hull: no such object: no\\x1bsuch\n");
});

test("a container's file names and command lines reach diff and top escaped, not as escape sequences", () => {
  ok(
    h("run", "-d", "--name", "rf-esc", "busybox", "sh", "-c", "touch \"$(printf 'a\\033]0;t\\007b')\"; exec sleep 60"),
  );
  for (let i = 0; i < 50 && !ok(h("diff", "rf-esc")).includes("A /a"); i++) Bun.sleepSync(50);
  expect(ok(h("diff", "rf-esc"))).toContain("A /a\\x1b]0;t\\x07b\n");
  expect(ok(h("diff", "rf-esc"))).not.toContain("\u001b");
  expect(ok(h("top", "rf-esc"))).toContain("sleep 60");
  ok(h("rm", "-f", "rf-esc"));
});

test("a zombie in the container (its io cannot be read) does not fail hull stats", () => {
  // the child ends and pid 1 (exec'd sleep) never reaps it
  ok(h("run", "-d", "--name", "rf-zombie", "busybox", "sh", "-c", "sleep 0.2 & exec sleep 60"));
  Bun.sleepSync(1200);
  const r = h("stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}}", "rf-zombie");
  expect(r.stderr).toBe("");
  expect(r.stdout.trim()).toBe("rf-zombie 2");
  ok(h("rm", "-f", "rf-zombie"));
});
