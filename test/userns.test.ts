// --userns=keep-id: the caller's uid and gid are the same inside, so `-u $(id -u):$(id -g) -v $PWD:/w`
// writes files the caller owns, while the image's files keep their owners (fuse-overlayfs undoes
// the swap of ids 0 and U in its view) and what lands in the store reads the same as under the
// default map.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { IdMapping } from "../src/runtime/idmap";
import { keepIdMapping, parseUserns, withoutIdSwap } from "../src/runtime/userns-mode";
import { fuseUsable, HULL, hasSubordinateIds, hostHas, hull, ok, requireUnprivileged, useStore } from "./helpers";

const ids: IdMapping = {
  uidMap: "0 1000 1 1 100000 65536",
  gidMap: "0 1000 1 1 100000 65536",
  uidMapProg: "/usr/bin/newuidmap",
  gidMapProg: "/usr/bin/newgidmap",
  size: 65537,
  hostUid: 1000,
  hostGid: 1000,
  subUid: { start: 100000, count: 65536 },
  subGid: { start: 100000, count: 65536 },
};

test("--userns takes host and keep-id[:uid=N,gid=N]; other modes are refused with the reason", () => {
  expect(parseUserns(undefined)).toEqual({ kind: "host" });
  expect(parseUserns("host")).toEqual({ kind: "host" });
  expect(parseUserns("keep-id")).toEqual({ kind: "keep-id" });
  expect(parseUserns("keep-id:uid=200,gid=210")).toEqual({ kind: "keep-id", uid: 200, gid: 210 });
  expect(() => parseUserns("keep-id:uid=x")).toThrow("keep-id takes uid=N and gid=N");
  expect(() => parseUserns("auto")).toThrow(
    "--userns=auto is not supported: it needs a subordinate range per container",
  );
  expect(() => parseUserns("ns:/proc/1/ns/user")).toThrow("not supported yet");
  expect(() => parseUserns("bogus")).toThrow("--userns takes host or keep-id");
});

test("keep-id swaps the caller's id with root's and moves nothing else", () => {
  const k = keepIdMapping(ids, {});
  // every host id of the default map is used once: root's subordinate id is the one that stood behind 1000
  expect(k.ids.uidMap).toBe("0 100999 1 1 100000 999 1000 1000 1 1001 101000 64536");
  expect(k.fuseOptions).toBe(
    "uidmapping=0:1000:1:1000:0:1:1:1:999:1001:1001:64536,gidmapping=0:1000:1:1000:0:1:1:1:999:1001:1001:64536",
  );
  expect(keepIdMapping(ids, { uid: 1, gid: 65536 }).ids.uidMap).toBe("0 100000 1 1 1000 1 2 100001 65535");
  expect(keepIdMapping(ids, { uid: 1, gid: 65536 }).ids.gidMap).toBe("0 165535 1 1 100000 65535 65536 1000 1");
  expect(() => keepIdMapping(ids, { uid: 70000 })).toThrow("uid 70000 lies outside the container's ids");
  const single = { ...ids, size: 1, subUid: undefined, subGid: undefined, fallbackReason: "HULL_IDMAP=single" };
  expect(() => keepIdMapping(single, {})).toThrow("--userns=keep-id needs subordinate ids (HULL_IDMAP=single)");
  expect(withoutIdSwap(`lowerdir=/a:/b,upperdir=/u,workdir=/w,${k.fuseOptions}`)).toBe(
    "lowerdir=/a:/b,upperdir=/u,workdir=/w",
  );
});

describe("keep-id containers", () => {
  requireUnprivileged();
  const store = useStore();
  const uid = process.getuid?.() as number;
  const gid = process.getgid?.() as number;
  const can = () =>
    hostHas(hasSubordinateIds(), "keep-id needs subordinate ids (newuidmap and /etc/subuid)") &&
    hostHas(fuseUsable(), "keep-id needs fuse-overlayfs and a usable /dev/fuse");

  test("the README idiom: -u $(id -u):$(id -g) -v $PWD:/w writes files the caller owns", () => {
    if (!can()) return;
    const dir = mkdtempSync(join(tmpdir(), "hull-keepid-"));
    try {
      // the default map: another container uid is a subordinate id on the host, which may not write here
      const denied = hull(
        ["run", "--rm", "-u", `${uid + 1}:${gid}`, "-v", `${dir}:/w`, "busybox", "touch", "/w/f"],
        store,
      );
      expect(denied.code).not.toBe(0);
      expect(denied.stderr).toContain("Permission denied");
      // docker's idiom as it is written: -u of the caller's own uid is keep-id, and the file is theirs
      ok(hull(["run", "--rm", "-u", `${uid}:${gid}`, "-v", `${dir}:/w`, "busybox", "touch", "/w/f"], store));
      expect(statSync(join(dir, "f"))).toMatchObject({ uid, gid });
      ok(
        hull(
          ["run", "--name", "kid-auto", "-u", `${uid}:${gid}`, "busybox", "stat", "-c", "%u", "/bin/busybox"],
          store,
        ),
      );
      expect(ok(hull(["logs", "kid-auto"], store))).toBe("0\n");
      expect(ok(hull(["inspect", "kid-auto"], store))).toContain('"UsernsMode": "keep-id"');
      ok(hull(["rm", "kid-auto"], store));
      rmSync(join(dir, "f"));
      ok(
        hull(
          ["run", "--rm", "--userns=keep-id", "-u", `${uid}:${gid}`, "-v", `${dir}:/w`, "busybox", "touch", "/w/f"],
          store,
        ),
      );
      expect(statSync(join(dir, "f"))).toMatchObject({ uid, gid });
      // without -u, keep-id runs the command as the caller
      const out = ok(
        hull(
          ["run", "--rm", "--userns=keep-id", "-v", `${dir}:/w`, "busybox", "sh", "-c", "id -u; id -g; touch /w/g"],
          store,
        ),
      );
      expect(out.split("\n").slice(0, 2)).toEqual([String(uid), String(gid)]);
      expect(statSync(join(dir, "g"))).toMatchObject({ uid, gid });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the image's files keep their owners; what the container writes is stored as under the default map", () => {
    if (!can()) return;
    ok(
      hull(
        [
          "run",
          "--name",
          "kid-base",
          "busybox",
          "sh",
          "-c",
          `mkdir /data && chown 4242:4343 /data && touch /mine && chown ${uid}:${gid} /mine`,
        ],
        store,
      ),
    );
    ok(hull(["commit", "kid-base", "kid-img"], store));
    const stat = "stat -c '%n %u:%g' /bin/busybox /data /mine";
    const seen = ok(hull(["run", "--rm", "--userns=keep-id", "kid-img", "sh", "-c", stat], store));
    expect(seen.trim().split("\n")).toEqual(["/bin/busybox 0:0", "/data 4242:4343", `/mine ${uid}:${gid}`]);

    // files made in a keep-id container by root and by the caller, read back under the default map
    ok(hull(["run", "--name", "kid", "--userns=keep-id", "kid-img", "touch", "/tmp/by-caller"], store));
    ok(hull(["start", "-a", "kid"], store));
    ok(hull(["run", "--name", "kid-root", "--userns=keep-id", "-u", "0", "kid-img", "touch", "/by-root"], store));
    ok(hull(["commit", "kid", "kid-out"], store));
    ok(hull(["commit", "kid-root", "kid-out-root"], store));
    const stat2 = (img: string, path: string) =>
      ok(hull(["run", "--rm", img, "stat", "-c", "%u:%g", path], store)).trim();
    expect(stat2("kid-out", "/tmp/by-caller")).toBe(`${uid}:${gid}`);
    expect(stat2("kid-out-root", "/by-root")).toBe("0:0");
    expect(ok(hull(["inspect", "-f", "json", "kid"], store))).toContain('"UsernsMode": "keep-id"');
    // a stopped keep-id container's layers mount for cp under the default map: ids as stored
    const listed = Bun.spawnSync(["sh", "-c", "hull cp kid:/tmp/by-caller - | tar tvf - --numeric-owner"], {
      env: {
        ...process.env,
        HULL_ROOT: store.root,
        PATH: `${join(import.meta.dir, "..", "dist")}:${process.env.PATH}`,
      },
    });
    expect(listed.stdout.toString()).toContain(`${uid}/${gid}`);
    ok(hull(["rm", "kid", "kid-root", "kid-base"], store));
  });

  test("exec, top and cp in a running keep-id container; rm -f kills it", () => {
    if (!can()) return;
    ok(hull(["run", "-d", "--name", "kid-run", "--userns=keep-id", "busybox", "sleep", "6061"], store));
    const dir = mkdtempSync(join(tmpdir(), "hull-keepid-cp-"));
    try {
      expect(ok(hull(["exec", "kid-run", "id", "-u"], store)).trim()).toBe(String(uid));
      expect(ok(hull(["exec", "-u", "0", "kid-run", "id", "-u"], store)).trim()).toBe("0");
      expect(ok(hull(["top", "kid-run"], store))).toMatch(new RegExp(`^${uid}\\s+1\\s`, "m"));
      // copied out as the container's root, which under keep-id is not the caller: the files are
      // made the caller's all the same
      ok(hull(["exec", "-u", "0", "kid-run", "sh", "-c", "mkdir /d && echo x > /d/f && chmod 600 /d/f"], store));
      ok(hull(["cp", "kid-run:/d", dir], store));
      expect(statSync(join(dir, "d", "f"))).toMatchObject({ uid, gid });
    } finally {
      hull(["rm", "-f", "kid-run"], store);
      rmSync(dir, { recursive: true, force: true });
    }
    // the container's processes die with it: root in a keep-id namespace is not the caller, and the
    // id change had cleared the death signal of hull's own stage
    const alive = () =>
      readdirSync("/proc").some((p) => {
        try {
          return /^\d+$/.test(p) && readFileSync(`/proc/${p}/cmdline`, "utf8") === "sleep\u00006061\u0000";
        } catch {
          return false;
        }
      });
    for (let i = 0; i < 50 && alive(); i++) Bun.sleepSync(100);
    expect(alive()).toBe(false);
  });

  test("export and cp read a keep-id container's layers as fuse-overlayfs wrote them", () => {
    if (!can()) return;
    ok(
      hull(
        [
          "run",
          "--name",
          "kid-layers",
          "--userns=keep-id",
          "-u",
          "0",
          "busybox",
          "sh",
          "-c",
          "rm -rf /home && mkdir /home && touch /home/new && mkdir /made && rm /etc/group",
        ],
        store,
      ),
    );
    const tarList = (args: string) =>
      Bun.spawnSync(["sh", "-c", `"$0" ${args} | tar -t`, HULL], { env: { ...process.env, HULL_ROOT: store.root } })
        .stdout.toString()
        .split("\n");
    const exported = tarList("export kid-layers");
    expect(exported).toContain("home/new");
    expect(exported).toContain("made/");
    expect(exported).not.toContain("etc/group");
    expect(exported.filter((n) => n.includes(".wh."))).toEqual([]);
    expect(tarList("cp kid-layers:/home -").filter(Boolean)).toEqual(["home/", "home/new"]);
    ok(hull(["rm", "kid-layers"], store));
    // no fuse-overlayfs daemon outlives the copy
    const daemons = () =>
      readdirSync("/proc").filter((p) => {
        try {
          return (
            /^\d+$/.test(p) &&
            readFileSync(`/proc/${p}/cmdline`, "utf8").includes(store.root) &&
            readFileSync(`/proc/${p}/comm`, "utf8").startsWith("fuse-overlay")
          );
        } catch {
          return false;
        }
      });
    for (let i = 0; i < 50 && daemons().length > 0; i++) Bun.sleepSync(100);
    expect(daemons()).toEqual([]);
  });

  test("keep-id without subordinate ids is one clear line, and nothing is created", () => {
    const r = hull(["run", "--rm", "--userns=keep-id", "busybox", "true"], { ...store, env: { HULL_IDMAP: "single" } });
    expect(r.code).toBe(125);
    expect(r.stderr.trim()).toMatch(
      /^hull: --userns=keep-id needs subordinate ids \(HULL_IDMAP=single\): install uidmap/,
    );
    const bad = hull(["run", "--rm", "--userns=auto", "busybox", "true"], store);
    expect(bad.code).toBe(125);
    expect(bad.stderr).toContain("--userns=auto is not supported");
  });
});
