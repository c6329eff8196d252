// Containers kept after they exit (no --rm): names, ps, exit codes, rm, prune, inspect, and their
// hold on their image.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { HULL, hull, makeStore, removeStore, requireUnprivileged, shimProcesses, ok } from "./helpers";

requireUnprivileged();
let root = "";
beforeAll(() => {
  root = makeStore();
});
afterAll(() => removeStore(root));

const h = (...args: string[]) => hull(args, { root });
const psJson = (...flags: string[]) =>
  ok(h("ps", "--no-trunc", ...flags, "--format", "json"))
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));

test("a kept container is listed with its exit code and name; names are unique", () => {
  expect(h("run", "--name", "job", "busybox", "sh", "-c", "exit 3").code).toBe(3);
  const [job] = psJson("-a");
  expect(job).toMatchObject({ Names: "job", State: "exited", Image: "busybox", Command: '"sh -c exit 3"' });
  expect(job.Status).toStartWith("Exited (3)");
  expect(psJson()).toEqual([]);
  const again = h("run", "--name", "job", "busybox", "true");
  expect(again.code).toBe(125);
  expect(again.stderr).toContain("name job is already in use");
  ok(h("run", "busybox", "true"));
  const names = psJson("-a").map((c) => c.Names);
  expect(names).toHaveLength(2);
  expect(names.find((n) => n !== "job")).toMatch(/^[a-z]+_[a-z]+\d*$/);
});

test("a running container shows as running; rm refuses it, rm -f kills and removes it", async () => {
  const p = Bun.spawn([HULL, "run", "--name", "svc", "busybox", "sh", "-c", "echo up; sleep 30"], {
    env: { ...process.env, HULL_ROOT: root },
    stdout: "pipe",
    stderr: "pipe",
  });
  await p.stdout.getReader().read();
  const running = psJson();
  expect(running.map((c) => c.Names)).toEqual(["svc"]);
  expect(running[0].Status).toStartWith("Up");
  const refused = h("rm", "svc");
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain("is running");
  expect(ok(h("rm", "-f", "svc")).trim()).toBe("svc");
  expect(await p.exited).toBe(137);
  expect(psJson("-a").map((c) => c.Names)).not.toContain("svc");
  expect(shimProcesses()).toEqual([]);
});

test("inspect, and rm by id prefix", () => {
  const [first] = psJson("-a");
  const [info] = JSON.parse(ok(h("container", "inspect", first.ID.slice(0, 8))));
  expect(info.Id).toBe(first.ID);
  expect(info.State.Running).toBe(false);
  expect(typeof info.State.ExitCode).toBe("number");
  expect(ok(h("rm", first.ID.slice(0, 12))).trim()).toBe(first.ID.slice(0, 12));
  expect(h("container", "inspect", first.ID.slice(0, 12)).stderr).toContain("no such container");
});

test("create makes a container without starting it; start runs it; rename renames it", () => {
  const id = ok(h("create", "--name", "later", "busybox", "sh", "-c", "echo ran")).trim();
  expect(id).toMatch(/^[a-f0-9]{64}$/);
  expect(psJson("-a").find((c) => c.Names === "later")).toMatchObject({ State: "created", Status: "Created" });
  ok(h("rename", "later", "sooner"));
  expect(psJson("-a").map((c) => c.Names)).toContain("sooner");
  expect(h("rename", "sooner", "bad/name").stderr).toContain("invalid container name");
  ok(h("start", "sooner"));
  expect(ok(h("wait", "sooner")).trim()).toBe("0");
  expect(ok(h("logs", "sooner"))).toBe("ran\n");
  ok(h("rm", "sooner"));
});

test("diff lists what the container added, changed and deleted", () => {
  ok(
    h(
      "run",
      "--name",
      "changer",
      "busybox",
      "sh",
      "-c",
      "echo x > /etc/new; echo y >> /etc/passwd; rm /etc/group; mkdir -p /home/u; chmod 700 /home/u; chown 1000 /home/u; touch /home/u/f",
    ),
  );
  expect(ok(h("diff", "changer")).trim().split("\n")).toEqual([
    "C /etc",
    "D /etc/group",
    "A /etc/new",
    "C /etc/passwd",
    "C /home",
    "A /home/u",
    "A /home/u/f",
  ]);
  ok(h("run", "--name", "idle", "busybox", "true"));
  expect(ok(h("diff", "idle"))).toBe("");
  ok(h("rm", "changer", "idle"));
});

test("top lists the container's processes with the container's uids and pids", async () => {
  ok(h("run", "-d", "--name", "busy", "busybox", "sh", "-c", "sleep 100 & sleep 100"));
  ok(h("exec", "-u", "1000", "busy", "sh", "-c", "sleep 50 >/dev/null 2>&1 &"));
  const rows = ok(h("top", "busy"))
    .trim()
    .split("\n")
    .map((l) => l.trim().split(/\s+/));
  // docker's columns (ps -ef's), with the container's own uids and pids
  expect(rows[0]).toEqual(["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]);
  expect(rows.slice(1).map((r) => [r[0], r[1], r[2]])).toContainEqual(["0", "1", "0"]);
  expect(rows.slice(1).some((r) => r[0] === "1000" && r.slice(7).join(" ") === "sleep 50")).toBe(true);
  for (const r of rows.slice(1)) {
    expect(r[4]).toMatch(/^(\d\d:\d\d|[A-Z][a-z]{2}\d\d)$/);
    expect(r[5]).toBe("?");
    expect(r[6]).toMatch(/^\d\d:\d\d:\d\d$/);
  }
  // a process of `hull exec` still running is the container's too, though pid 1 is not its ancestor
  const exec = Bun.spawn([HULL, "exec", "busy", "sleep", "30"], { env: { ...process.env, HULL_ROOT: root } });
  try {
    for (let i = 0; i < 50 && !ok(h("top", "busy")).includes("sleep 30"); i++) await Bun.sleep(100);
    expect(ok(h("top", "busy"))).toContain("sleep 30");
    // ps options: the host's ps, only this container's rows (docker shows host pids there)
    const withPs = ok(h("top", "busy", "-o", "pid,args"))
      .trim()
      .split("\n");
    expect(withPs[0]?.trim().split(/\s+/)).toEqual(["PID", "COMMAND"]);
    const commands = (lines: string[], skip: number) =>
      lines.map((l) => l.trim().split(/\s+/).slice(skip).join(" ")).sort();
    const ours = ok(h("top", "busy")).trim().split("\n").slice(1);
    expect(commands(withPs.slice(1), 1)).toEqual(commands(ours, 7));
    expect(commands(withPs.slice(1), 1)).toContain("sleep 50");
    // PID after a column with spaces in it: read by position, never a host process's row
    const late = ok(h("top", "busy", "-o", "args,pid"))
      .trim()
      .split("\n")
      .slice(1);
    expect(late.map((l) => l.replace(/\s+\d+$/, "").trim()).sort()).toEqual(commands(ours, 7));
    const noPid = h("top", "busy", "-o", "comm");
    expect(noPid.code).not.toBe(0);
    expect(noPid.stderr).toContain("prints no PID column");
  } finally {
    exec.kill();
  }
  ok(h("rm", "-f", "busy"));
});

test("commit turns the writable layer into an image layer: additions, deletions, owners, links", () => {
  ok(
    h(
      "run",
      "--name",
      "builder",
      "busybox",
      "sh",
      "-c",
      "echo new > /etc/added; rm /etc/group; mkdir -p /home/u; echo f > /home/u/f; chown -R 1000:1000 /home/u; ln /etc/added /etc/linked",
    ),
  );
  const id = ok(h("commit", "-m", "my change", "builder", "committed:1")).trim();
  expect(id).toMatch(/^sha256:[a-f0-9]{64}$/);
  const out = ok(
    h(
      "run",
      "--rm",
      "committed:1",
      "sh",
      "-c",
      "cat /etc/added; test -e /etc/group || echo gone; stat -c '%u:%g' /home/u/f; stat -c %i /etc/added /etc/linked",
    ),
  ).split("\n");
  expect(out.slice(0, 3)).toEqual(["new", "gone", "1000:1000"]);
  expect(out[3]).toBe(out[4]);
  const history = ok(h("history", "committed:1"));
  expect(history).toContain("my change");
  expect(history.split("\n")[1]).toContain(id.slice(7, 19));
  // --change sets the config as a Dockerfile line would; what commit cannot take is refused first
  const bad = h("commit", "-c", "RUN true", "builder", "never:1");
  expect(bad.code).not.toBe(0);
  expect(bad.stderr).toContain("--change RUN true: commit takes CMD, ENTRYPOINT, ENV");
  ok(
    h(
      "commit",
      "-c",
      'CMD ["cat", "/etc/added"]',
      "--change",
      "ENV MODE=x",
      "-c",
      "WORKDIR /home/u",
      "-a",
      "me",
      "builder",
      "changed:1",
    ),
  );
  expect(ok(h("run", "--rm", "changed:1"))).toBe("new\n");
  expect(ok(h("run", "--rm", "changed:1", "sh", "-c", "echo $MODE; pwd"))).toBe("x\n/home/u\n");
  ok(h("rm", "builder"));
  ok(h("rmi", "committed:1"));
  ok(h("rmi", "changed:1"));
});

test("cp in and out of a running container: owners mapped, symlinks kept inside, container unpaused", async () => {
  const { mkdtempSync, readFileSync, statSync, writeFileSync, readlinkSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const dir = mkdtempSync(join(tmpdir(), "hull-cp-"));
  ok(
    h(
      "run",
      "-d",
      "--name",
      "files",
      "busybox",
      "sh",
      "-c",
      "mkdir -p /data; echo secret > /data/f; chown 1000 /data/f; chmod 600 /data/f; ln -s /etc /data/etc; echo ready > /ready; sleep 100",
    ),
  );
  for (let i = 0; i < 100 && h("exec", "files", "cat", "/ready").code !== 0; i++) await Bun.sleep(20);
  ok(h("cp", "files:/data", join(dir, "out")));
  expect(readFileSync(join(dir, "out", "f"), "utf8")).toBe("secret\n");
  expect(statSync(join(dir, "out", "f")).uid).toBe(process.getuid?.() ?? -1);
  expect(readlinkSync(join(dir, "out", "etc"))).toBe("/etc");
  // a symlink on the way resolves inside the container: its /etc, not the host's
  ok(h("cp", "files:/data/etc/os-release", join(dir, "os-release")));
  expect(readFileSync(join(dir, "os-release"), "utf8")).toContain("hull default image");
  writeFileSync(join(dir, "in.txt"), "from host\n");
  ok(h("cp", join(dir, "in.txt"), "files:/data/"));
  expect(ok(h("exec", "files", "stat", "-c", "%u %n", "/data/in.txt")).trim()).toBe("0 /data/in.txt");
  // straight under its root, whose host path is the link /proc/PID/root
  ok(h("cp", join(dir, "in.txt"), "files:/top.txt"));
  ok(h("cp", join(dir, "in.txt"), "files:/"));
  expect(ok(h("exec", "files", "cat", "/top.txt", "/in.txt"))).toBe("from host\nfrom host\n");
  expect(psJson().find((c) => c.Names === "files").State).toBe("running");
  expect(h("cp", "files:/nope", dir).stderr).toContain("no such file or directory: /nope");
  expect(h("cp", "a", "b").stderr).toContain("between a container and the host");
  ok(h("rm", "-f", "files"));
});

test("rm under a live holder removes files of any id through its user namespace, without newuidmap", async () => {
  // the default network keeps the holder alive while this container runs
  ok(h("run", "-d", "--name", "rm-keeper", "busybox", "sleep", "60"));
  try {
    const id = ok(
      h("run", "-d", "busybox", "sh", "-c", "mkdir -p /x/y && touch /x/y/f && chown -R 1000:1000 /x && chmod 000 /x/y"),
    ).trim();
    ok(h("wait", id));
    // a single-id map of its own could not remove what subordinate id 1000 owns (mode 000): only the
    // holder's namespace, which has every id of the store, can
    const r = hull(["rm", id], { root, env: { HULL_IDMAP: "single" } });
    expect(r.code, r.stderr).toBe(0);
    const { existsSync } = await import("node:fs");
    expect(existsSync(join(root, "containers", id))).toBe(false);
    expect(readdirSync(join(root, "tmp")).filter((n) => n.startsWith("rm-"))).toEqual([]);
  } finally {
    h("rm", "-f", "rm-keeper");
  }
});

test("rm removes a layer of the caller's own files itself; links in it are removed, not followed", async () => {
  const { existsSync, mkdtempSync, writeFileSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const outside = mkdtempSync(join(tmpdir(), "hull-rm-"));
  writeFileSync(join(outside, "keep"), "k\n");
  try {
    // links to the caller's files, a directory the container made unreadable (its root is the
    // caller: mode 000 stops a removal from outside the namespace), and plain files
    const files = `ln -s ${outside} /link; ln -s ${outside}/keep /file-link; mkdir -p /a/b /locked/c; echo x > /a/b/f`;
    for (const script of [files, `${files}; chmod 000 /locked`]) {
      const id = ok(h("run", "-d", "busybox", "sh", "-c", script)).trim();
      ok(h("wait", id));
      ok(h("rm", id));
      expect(existsSync(join(root, "containers", id))).toBe(false);
      expect(readdirSync(join(root, "tmp")).filter((n) => n.startsWith("rm-"))).toEqual([]);
    }
    expect(readdirSync(outside)).toEqual(["keep"]);
  } finally {
    const { rmSync } = await import("node:fs");
    rmSync(outside, { recursive: true, force: true });
  }
});

test("ps -s and rm of a container that nested directories 3,000 deep, with files of another id at the bottom", async () => {
  // chains of 500 moved into each other: deeper than any path the container could name at once.
  // At the bottom, a directory of uid 1000 the caller cannot write: the namespace's removal has to
  // go down the whole tree too (it recursed with a buffer a level, and overflowed its stack)
  const chain = Array(500).fill("d").join("/");
  const script = [
    "for i in 0 1 2 3 4 5; do mkdir -p /deep/c$i/$0; done",
    "mkdir /deep/c5/$0/theirs && touch /deep/c5/$0/theirs/f && chown -R 1000:1000 /deep/c5/$0/theirs",
    "dd if=/dev/zero of=/deep/c0/$0/big bs=1024 count=512 2>/dev/null",
    "for i in 1 2 3 4 5; do mv /deep/c$((i - 1)) /deep/c$i/$0/c || exit 1; done",
  ].join("; ");
  for (const theirs of [true, false]) {
    const id = ok(
      h("run", "-d", "busybox", "sh", "-c", theirs ? script : script.replace(/ && chown -R [^;]*/, ""), chain),
    ).trim();
    expect(ok(h("wait", id)).trim()).toBe("0");
    // what lies 3,000 deep counts in its size (a walk by paths stopped at PATH_MAX: 0B)
    if (!theirs)
      expect(ok(h("ps", "-a", "-s", "--filter", `id=${id}`, "--format", "{{.Size}}"))).toMatch(/^52\d(\.\d+)?kB /);
    const r = h("rm", id);
    expect(r.code, r.stderr).toBe(0);
    const { existsSync } = await import("node:fs");
    expect(existsSync(join(root, "containers", id))).toBe(false);
    expect(readdirSync(join(root, "tmp")).filter((n) => n.startsWith("rm-"))).toEqual([]);
  }
});

test("cp with a stopped container mounts its layers for the copy", async () => {
  const { mkdtempSync, readFileSync, writeFileSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const dir = mkdtempSync(join(tmpdir(), "hull-cp-"));
  ok(h("run", "--name", "stopped", "busybox", "sh", "-c", "echo kept > /kept"));
  ok(h("cp", "stopped:/kept", join(dir, "kept")));
  expect(readFileSync(join(dir, "kept"), "utf8")).toBe("kept\n");
  writeFileSync(join(dir, "new"), "n\n");
  ok(h("cp", join(dir, "new"), "stopped:/new"));
  expect(ok(h("diff", "stopped")).trim().split("\n")).toEqual(["A /kept", "A /new"]);
  ok(h("rm", "stopped"));
});

test("cp into a container never writes through the container's links to host paths", async () => {
  const { mkdtempSync, readFileSync, readdirSync, writeFileSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const dir = mkdtempSync(join(tmpdir(), "hull-cp-"));
  const hostDir = mkdtempSync(join(tmpdir(), "hull-cp-host-"));
  writeFileSync(join(dir, "victim"), "host file\n");
  // the container plants absolute links to a host directory and a host file (paths it has too)
  ok(
    h(
      "run",
      "--name",
      "planted",
      "busybox",
      "sh",
      "-c",
      `mkdir -p ${hostDir} ${dir} && ln -s ${hostDir} /todir && ln -s ${join(dir, "victim")} /tofile`,
    ),
  );
  writeFileSync(join(dir, "payload"), "payload\n");
  ok(h("cp", join(dir, "payload"), "planted:/todir/"));
  ok(h("cp", join(dir, "payload"), "planted:/tofile"));
  expect(readdirSync(hostDir)).toEqual([]);
  expect(readFileSync(join(dir, "victim"), "utf8")).toBe("host file\n");
  // both copies landed in the container: in its own directory, and in place of the link
  ok(h("cp", `planted:${hostDir}/payload`, join(dir, "back")));
  expect(readFileSync(join(dir, "back"), "utf8")).toBe("payload\n");
  ok(h("cp", "planted:/tofile", join(dir, "back2")));
  expect(readFileSync(join(dir, "back2"), "utf8")).toBe("payload\n");
  ok(h("rm", "planted"));
});

test("a kept container holds its image until it is removed; prune removes the exited ones", () => {
  const blocked = h("rmi", "busybox");
  expect(blocked.code).toBe(1); // docker's status for a refused removal

  expect(blocked.stderr).toContain("is used by container");
  expect(ok(h("container", "prune", "-f"))).not.toContain("Nothing");
  expect(psJson("-a")).toEqual([]);
  expect(readdirSync(join(root, "containers"))).toEqual([]);
  expect(readdirSync(join(root, "names"))).toEqual([]);
  expect(ok(h("rmi", "busybox"))).toContain("Deleted:");
});
