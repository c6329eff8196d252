// hull push to a real registry (Debian's docker-registry on 127.0.0.1), checked with skopeo, an
// independent client, and by pulling back into an empty store and running.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { skopeoInspect } from "./fixtures/oci";
import { type RegistryFixture, startRegistry, startTokenServer } from "./fixtures/registry";
import { hostHas, hull, hullAsync, makeStore, removeStore, requireUnprivileged, ok } from "./helpers";

requireUnprivileged();
const tools = hostHas(
  Bun.which("docker-registry") !== null && Bun.which("skopeo") !== null,
  "push tests: docker-registry and skopeo are not installed (apt-get install docker-registry skopeo)",
);

let registry: RegistryFixture;
let root = "";
beforeAll(async () => {
  if (!tools) return;
  registry = await startRegistry();
  root = makeStore();
});
afterAll(async () => {
  if (!tools) return;
  await registry.stop();
  removeStore(root);
});

describe.if(tools)("hull push", () => {
  test("pushes an image that skopeo reads back and an empty store pulls and runs", () => {
    ok(hull(["run", "--rm", "busybox", "true"], { root }));
    const ref = `${registry.host}/me/box:1`;
    ok(hull(["tag", "busybox", ref], { root }));
    // docker's SIZE is the uncompressed layers', whatever blob (gzip, after a push) holds them
    const size = (r: string, at: string) => ok(hull(["image", "inspect", "-f", "{{.Size}}", r], { root: at })).trim();
    const before = size(ref, root);
    const digest = ok(hull(["push", "-q", ref], { root })).trim();
    expect(size(ref, root)).toBe(before);
    expect(digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    const seen = skopeoInspect(ref);
    expect(seen.Digest).toBe(digest);
    const [info] = JSON.parse(ok(hull(["image", "inspect", ref], { root })));
    const record = info.RootFS.Layers as string[];
    expect(seen.Layers).toHaveLength(record.length);
    const fresh = makeStore();
    try {
      expect(ok(hull(["run", "--rm", ref, "echo", "round trip"], { root: fresh }))).toBe("round trip\n");
      expect(size(ref, fresh)).toBe(before);
    } finally {
      removeStore(fresh);
    }
  });

  test("a second push uploads nothing; another repository mounts the blobs", () => {
    const again = hull(["push", `${registry.host}/me/box:1`], { root });
    expect(again.code).toBe(0);
    expect(again.stderr).not.toContain("uploaded");
    expect(again.stderr).toContain("already there");
    ok(hull(["tag", "busybox", `${registry.host}/other/box:1`], { root }));
    const mounted = hull(["push", `${registry.host}/other/box:1`], { root });
    expect(mounted.code).toBe(0);
    expect(mounted.stderr).toContain("mounted from me/box");
    expect(mounted.stderr).not.toContain("uploaded");
  });

  test("large blobs go up in chunks; a committed image pushes its new layer", () => {
    // a new layer of ~300 KB: with 64 KB chunks it goes up in five PATCH requests
    ok(
      hull(
        ["run", "--name", "wr", "busybox", "sh", "-c", "echo changed > /etc/motd; head -c 300000 /dev/urandom > /big"],
        { root },
      ),
    );
    const ref = `${registry.host}/me/changed:1`;
    ok(hull(["commit", "wr", ref], { root }));
    const r = hull(["push", ref], { root, env: { HULL_UPLOAD_CHUNK: "65536" } });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/uploaded 3\d{5} bytes/);
    expect(skopeoInspect(ref).Layers).toHaveLength(2);
    const fresh = makeStore();
    try {
      expect(ok(hull(["run", "--rm", ref, "sh", "-c", "cat /etc/motd; wc -c < /big"], { root: fresh }))).toBe(
        "changed\n300000\n",
      );
    } finally {
      removeStore(fresh);
    }
    ok(hull(["rm", "wr"], { root }));
  });

  test("the token flow asks for push scope; without credentials a private registry is refused", async () => {
    const server = startTokenServer(registry.host, "dave", "pw", "pull,push");
    const { port, scopes } = server;
    try {
      const ref = `127.0.0.1:${port}/team/secure:1`;
      ok(hull(["tag", "busybox", ref], { root }));
      const denied = await hullAsync(["push", ref], { root, env: { HULL_AUTH_FILE: "/nonexistent" } });
      expect(denied.code).toBe(125);
      expect(denied.stderr).toContain(`hull login 127.0.0.1:${port}`);
      const { mkdtempSync, writeFileSync } = await import("node:fs");
      const { tmpdir } = await import("node:os");
      const { join } = await import("node:path");
      const auth = join(mkdtempSync(join(tmpdir(), "hull-push-")), "auth.json");
      writeFileSync(auth, JSON.stringify({ auths: { [`127.0.0.1:${port}`]: { auth: btoa("dave:pw") } } }));
      ok(await hullAsync(["push", ref], { root, env: { HULL_AUTH_FILE: auth } }));
      expect(scopes.some((s) => s.includes("push"))).toBe(true);
      expect(skopeoInspect(`${registry.host}/team/secure:1`).Layers.length).toBeGreaterThan(0);
    } finally {
      server.stop();
    }
  });

  test("errors: no such image, a digest reference", () => {
    expect(hull(["push", `${registry.host}/nothing:1`], { root }).stderr).toContain("no such image");
    expect(hull(["push", `${registry.host}/me/box@sha256:${"a".repeat(64)}`], { root }).stderr).toContain(
      "push takes a tag",
    );
  });
});
