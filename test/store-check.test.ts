// `hull system check [--repair]` on damage made by hand, and kill -9 at random moments of the commands
// that write the store: afterwards the check finds nothing damaged, and the next command works.
// HULL_KILL_INJECTIONS=N runs N injections (default 24 here; the long mode is 100+).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packTar } from "modern-tar";
import { busyboxLayer, buildLayout, file, push } from "./fixtures/oci";
import { type RegistryFixture, startRegistry } from "./fixtures/registry";
import { HULL, hostHas, hull, makeStore, ok, removeStore, requireUnprivileged, shimProcesses } from "./helpers";

requireUnprivileged();

const check = (root: string, repair = false) => hull(["system", "check", ...(repair ? ["--repair"] : [])], { root });
const damaged = (out: string) => out.split("\n").filter((l) => l.startsWith("damaged:"));

describe("damage made by hand", () => {
  let root = "";
  beforeAll(() => {
    root = makeStore();
    ok(hull(["run", "--rm", "busybox", "true"], { root }));
    ok(hull(["create", "--name", "keeper", "busybox", "true"], { root }));
  });
  afterAll(() => removeStore(root));

  test("a consistent store says so and exits 0", () => {
    const r = check(root);
    expect(r.stdout).toContain("the store is consistent");
    expect(r.code).toBe(0);
  });

  test("a stray file among the containers is no container: ps and df go on", () => {
    // an editor's backup, and a file named as an id would be: ps failed on either ("a part of the
    // path is not a directory"), and with it every script that lists containers
    const stray = [join(root, "containers", "notes.txt~"), join(root, "containers", "f".repeat(64))];
    try {
      for (const f of stray) writeFileSync(f, "x\n");
      const ps = hull(["ps", "-a", "--format", "{{.Names}}"], { root });
      expect(ps.code, ps.stderr).toBe(0);
      expect(ps.stdout).toContain("keeper");
      expect(ps.stderr).toBe("");
      expect(hull(["system", "df"], { root }).code).toBe(0);
    } finally {
      for (const f of stray) rmSync(f, { force: true });
    }
  });

  test("each kind of damage is named on its own line; --repair fixes it and the store works again", async () => {
    const tar = join(root, "img.tar");
    writeFileSync(tar, await packTar([...busyboxLayer(), file("marker", "x\n")]));
    const id = ok(hull(["import", tar, "victim:1"], { root })).trim();
    const hex = id.replace(/^sha256:/, "");
    // a damaged image record, a blob whose content changed, a name of no container, a container
    // record that is not JSON, and what a killed pull leaves in tmp/
    writeFileSync(join(root, "images", `${hex}.json`), "{ not json");
    const blobs = readdirSync(join(root, "blobs", "sha256"));
    const victimBlob = blobs.find((b) => b !== hex) as string;
    writeFileSync(join(root, "blobs", "sha256", victimBlob), "tampered");
    symlinkSync("f".repeat(64), join(root, "names", "ghost"));
    mkdirSync(join(root, "containers", "e".repeat(64)));
    writeFileSync(join(root, "containers", "e".repeat(64), "container.json"), "\u0000garbage");
    mkdirSync(join(root, "tmp", "blob-999999-1-deadbeef"), { recursive: true });
    // a network record cut short; a volume whose record is gone, and one whose record is not JSON
    ok(hull(["network", "create", "netx"], { root }));
    writeFileSync(join(root, "networks", "netx.json"), '{"name": "netx", "id": ');
    for (const vol of ["vol-a", "vol-b"]) {
      ok(hull(["volume", "create", vol], { root }));
      writeFileSync(join(root, "volumes", vol, "_data", "keep"), "precious\n");
    }
    rmSync(join(root, "volumes", "vol-a", "volume.json"));
    writeFileSync(join(root, "volumes", "vol-b", "volume.json"), "]");

    const before = check(root);
    expect(before.code).toBe(1);
    expect(before.stdout).toContain(`images/${hex}.json: damaged image record: not JSON`);
    expect(before.stdout).toContain(`blobs/sha256/${victimBlob}: content hashes to`);
    expect(before.stdout).toContain("names/ghost: the name ghost names no container");
    expect(before.stdout).toContain(`containers/${"e".repeat(64)}: damaged container record`);
    expect(before.stdout).toContain("tmp/blob-999999-1-deadbeef: left half-written");
    expect(before.stdout).toMatch(/dangling|tag\(s\) name no image/);
    expect(before.stdout).toContain("networks/netx.json: damaged network record: not JSON");
    expect(before.stdout).toContain("volumes/vol-a/volume.json: a volume without its record");
    expect(before.stdout).toContain("volumes/vol-b/volume.json: damaged volume record: not JSON");

    const repaired = check(root, true);
    expect(repaired.code, repaired.stdout).toBe(0);
    expect(repaired.stdout).toContain("repaired:");
    const after = check(root);
    expect(after.stdout).toContain("the store is consistent");
    // and the store works: the embedded image comes back if its blob was the one tampered with
    expect(ok(hull(["run", "--rm", "busybox", "echo", "works"], { root }))).toBe("works\n");
    expect(
      ok(hull(["ps", "-a", "-q"], { root }))
        .trim()
        .split("\n"),
    ).toHaveLength(1);
    ok(hull(["images"], { root }));
    // the volumes are back, data and all; the network is gone, and can be made again
    expect(ok(hull(["volume", "ls", "-q"], { root })).split("\n")).toEqual(expect.arrayContaining(["vol-a", "vol-b"]));
    for (const vol of ["vol-a", "vol-b"])
      expect(readFileSync(join(root, "volumes", vol, "_data", "keep"), "utf8")).toBe("precious\n");
    ok(hull(["network", "create", "netx"], { root }));
  });
});

describe("a network record under another name", () => {
  let root = "";
  beforeAll(() => {
    root = makeStore();
  });
  afterAll(() => removeStore(root));

  test("is renamed back with its subnet and labels, and a copy beside its own record is only said", () => {
    ok(hull(["network", "create", "--subnet", "10.123.0.0/24", "--label", "team=a", "moved"], { root }));
    ok(hull(["network", "create", "kept"], { root }));
    const nets = join(root, "networks");
    // a `mv` by hand, and a `cp` of a record beside the one it copies
    renameSync(join(nets, "moved.json"), join(nets, "other.json"));
    copyFileSync(join(nets, "kept.json"), join(nets, "kept-copy.json"));
    const before = check(root);
    expect(before.stdout).toContain('networks/other.json: a record of network "moved" under another name');
    expect(before.stdout).toContain('networks/kept-copy.json: a record of network "kept" under another name, beside');
    check(root, true);
    // the old code removed other.json, and with it the network's subnet and label
    const inspected = JSON.parse(ok(hull(["network", "inspect", "moved"], { root })));
    expect(JSON.stringify(inspected)).toContain("10.123.0.0/24");
    expect(JSON.stringify(inspected)).toContain('"team":"a"');
    expect(readdirSync(nets)).toContain("kept-copy.json");
    expect(readdirSync(nets)).not.toContain("other.json");
    expect(check(root).stdout).not.toContain("other.json");
  });

  test("is left where renaming it would clash: a network made since on its subnet, a built-in name, a link", () => {
    const nets = join(root, "networks");
    // moved away, then a network made that took the same subnet: both back would share addresses
    ok(hull(["network", "create", "first"], { root }));
    const subnet = JSON.parse(readFileSync(join(nets, "first.json"), "utf8")).subnet;
    renameSync(join(nets, "first.json"), join(nets, "first (moved).json"));
    ok(hull(["network", "create", "--subnet", subnet, "second"], { root }));
    // a record naming a built-in network, and a link to a record outside the store
    const outside = mkdtempSync(join(tmpdir(), "hull-check-net-"));
    try {
      const rec = JSON.parse(readFileSync(join(nets, "second.json"), "utf8"));
      writeFileSync(join(nets, "builtin.json"), JSON.stringify({ ...rec, name: "bridge", subnet: "10.250.0.0/24" }));
      writeFileSync(join(outside, "theirs.json"), JSON.stringify({ ...rec, name: "linked", subnet: "10.251.0.0/24" }));
      symlinkSync(join(outside, "theirs.json"), join(nets, "link.json"));
      const before = check(root);
      expect(before.stdout).toContain(`its subnet ${subnet} is network second's now`);
      // a built-in name is no user network's: removed, as before
      expect(before.stdout).toContain('networks/builtin.json: damaged network record: it names network "bridge"');
      expect(before.stdout).toContain(
        'networks/link.json: a record of network "linked" under another name, and not a file',
      );
      check(root, true);
      const left = readdirSync(nets);
      expect(left).toContain("first (moved).json");
      expect(left).not.toContain("first.json");
      expect(left).not.toContain("bridge.json");
      expect(left).not.toContain("builtin.json");
      expect(left).not.toContain("linked.json");
      expect(readFileSync(join(outside, "theirs.json"), "utf8")).toContain('"linked"');
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});

describe("repairs stay in the store", () => {
  let root = "";
  const outside = mkdtempSync(join(tmpdir(), "hull-check-outside-"));
  beforeAll(() => {
    root = makeStore();
  });
  afterAll(() => {
    for (const f of [join(root, "networks", "m0.json"), join(root, "volumes", "v0", "volume.json")])
      Bun.spawnSync(["chmod", "644", f]);
    removeStore(root);
    rmSync(outside, { recursive: true, force: true });
  });

  test("links are not followed, what cannot be read is not rewritten, names are escaped", () => {
    mkdirSync(join(outside, "a"));
    mkdirSync(join(outside, "b"));
    writeFileSync(join(outside, "b", "volume.json"), "theirs\n");
    ok(hull(["volume", "create", "--label", "k=v", "v0"], { root }));
    ok(hull(["network", "create", "m0"], { root }));
    // volumes/ entries that are links out of the store, a record and a network record this user
    // cannot read (whole all the same), and a name with an escape sequence in it
    symlinkSync(join(outside, "a"), join(root, "volumes", "link-a"));
    symlinkSync(join(outside, "b"), join(root, "volumes", "link-b"));
    // a volume whose data is a link out of the store, and no record: not adopted
    mkdirSync(join(root, "volumes", "v-out"));
    symlinkSync(join(outside, "a"), join(root, "volumes", "v-out", "_data"));
    const record = readFileSync(join(root, "volumes", "v0", "volume.json"), "utf8");
    Bun.spawnSync(["chmod", "000", join(root, "volumes", "v0", "volume.json"), join(root, "networks", "m0.json")]);
    mkdirSync(join(root, "volumes", "esc\u001b[31mRED"));

    const before = check(root);
    expect(before.stdout).toContain("volumes/link-a: not a directory (a link or a file)");
    expect(before.stdout).toContain("volumes/v-out/_data: not a directory");
    expect(before.stdout).toContain("volumes/v0/volume.json: volume record unreadable (EACCES)");
    expect(before.stdout).toContain("networks/m0.json: network record unreadable (EACCES)");
    expect(before.stdout).toContain("volumes/esc\\x1b[31mRED: not a volume name");
    expect(before.stdout).not.toContain("\u001b");

    check(root, true);
    expect(readdirSync(join(outside, "a"))).toEqual([]);
    expect(readFileSync(join(outside, "b", "volume.json"), "utf8")).toBe("theirs\n");
    Bun.spawnSync(["chmod", "644", join(root, "volumes", "v0", "volume.json"), join(root, "networks", "m0.json")]);
    expect(readFileSync(join(root, "volumes", "v0", "volume.json"), "utf8")).toBe(record);
    expect(ok(hull(["network", "ls", "--format", "{{.Name}}"], { root }))).toContain("m0");
    expect(ok(hull(["volume", "ls", "-q"], { root }))).not.toContain("v-out");
  });
});

describe("kill -9 at random moments", () => {
  let root = "";
  let registry: RegistryFixture | undefined;
  let ref = "";
  const injections = Number(process.env.HULL_KILL_INJECTIONS ?? 24);
  const hasRegistry = hostHas(Bun.which("docker-registry") !== null, "docker-registry is not installed");

  beforeAll(async () => {
    root = makeStore();
    ok(hull(["run", "--rm", "busybox", "true"], { root }));
    if (hasRegistry) {
      registry = await startRegistry();
      const layout = await buildLayout({
        layers: [busyboxLayer(), [file("data/a", "a".repeat(4 << 20))], [file("data/b", "b".repeat(2 << 20))]],
      });
      ref = `${registry.host}/kill/test:1`;
      push(layout, ref);
      layout.cleanup();
    }
  });
  afterAll(async () => {
    await registry?.stop();
    removeStore(root);
  });

  test.if(hasRegistry)("a pull fetches a blob its record names even when the layer is unpacked already", async () => {
    // what a prune killed between removing blobs and removing layers leaves: layers without blobs
    const id = ok(hull(["pull", "-q", ref], { root })).trim();
    const rec = JSON.parse(readFileSync(join(root, "images", `${id.slice(7)}.json`), "utf8"));
    ok(hull(["rmi", ref], { root }));
    ok(hull(["pull", "-q", ref], { root }));
    for (const l of rec.layers) rmSync(join(root, "blobs", "sha256", l.digest.slice(7)));
    rmSync(join(root, "images", `${id.slice(7)}.json`));
    ok(hull(["system", "check", "--repair"], { root }));
    ok(hull(["pull", "-q", ref], { root }));
    expect(ok(hull(["system", "check"], { root }))).toContain("the store is consistent");
    ok(hull(["rmi", ref], { root }));
  });

  test.if(hasRegistry)(
    "pull, build, run, commit, rm and image prune killed anywhere leave nothing damaged",
    async () => {
      const ctx = join(root, "ctx");
      mkdirSync(ctx, { recursive: true });
      writeFileSync(join(ctx, "Dockerfile"), "FROM busybox\nRUN echo one > /one\nCOPY Dockerfile /d\n");
      const ops: Array<() => string[]> = [
        () => ["pull", ref],
        () => ["build", "--no-cache", "-t", "killed:1", ctx],
        () => ["run", "--rm", "busybox", "sh", "-c", "echo x > /x"],
        () => ["run", "--name", `k${Date.now()}`, "busybox", "touch", "/y"],
        () => {
          const ids = ok(hull(["ps", "-aq"], { root }))
            .trim()
            .split("\n")
            .filter(Boolean);
          return ids.length ? ["commit", ids[0] as string, "committed:1"] : ["images"];
        },
        () => {
          const ids = ok(hull(["ps", "-aq"], { root }))
            .trim()
            .split("\n")
            .filter(Boolean);
          return ids.length ? ["rm", "-f", ...ids] : ["images"];
        },
        () => ["image", "prune", "-a", "-f"],
      ];
      let corruptions = 0;
      for (let i = 0; i < injections; i++) {
        const args = (ops[i % ops.length] as () => string[])();
        const p = Bun.spawn([HULL, ...args], {
          env: { PATH: process.env.PATH ?? "/bin", HOME: process.env.HOME ?? "/tmp", HULL_ROOT: root },
          stdout: "ignore",
          stderr: "ignore",
        });
        await Bun.sleep(Math.floor(Math.random() * 400));
        p.kill("SIGKILL");
        await p.exited;
        // what a killed hull leaves running ends by itself (its stages die with it)
        for (let t = 0; t < 100 && shimProcesses().length > 0; t++) await Bun.sleep(50);
        const r = check(root);
        const bad = damaged(r.stdout);
        if (bad.length > 0) console.error(`after kill -9 of hull ${args.join(" ")}:\n${bad.join("\n")}`);
        corruptions += bad.length;
        // the next command works
        ok(hull(["images"], { root }));
      }
      console.log(`kill -9 injections: ${injections}, corruptions: ${corruptions}`);
      expect(corruptions).toBe(0);
      // the next command that takes the store's content lock sweeps what the killed ones left in tmp/
      ok(hull(["pull", ref], { root }));
      expect(readdirSync(join(root, "tmp"))).toEqual([]);
      ok(check(root, true));
      expect(check(root).stdout).toContain("the store is consistent");
      expect(ok(hull(["run", "--rm", "busybox", "echo", "fine"], { root }))).toBe("fine\n");
      rmSync(ctx, { recursive: true, force: true });
    },
    600_000,
  );
});
