// run -dit / -di and hull attach: input goes in through the supervisor, output comes out (and into
// the log), ctrl-p ctrl-q (or --detach-keys) leaves the container running, a signal to hull attach
// reaches the container (--sig-proxy), and attach exits with the container's code.
import { afterAll, expect, test } from "bun:test";
import { HULL, hull, ok, requireUnprivileged, shimProcesses, useStore } from "./helpers";

requireUnprivileged();

afterAll(() => {
  h("rm", "-f", "at-tty", "at-pipe", "at-sig", "at-made");
});
const store = useStore();
const h = (...args: string[]) => hull(args, store);

/** `hull attach ARGS` as a process whose input the test writes and whose output it reads */
function attach(...args: string[]) {
  const p = Bun.spawn([HULL, "attach", ...args], {
    env: { ...process.env, HULL_ROOT: store.root },
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
  });
  let out = "";
  const reader = (async () => {
    for await (const chunk of p.stdout as ReadableStream<Uint8Array>) out += new TextDecoder().decode(chunk);
  })();
  return {
    p,
    send: (text: string) => {
      p.stdin.write(text);
      p.stdin.flush();
    },
    output: () => out,
    async waitFor(text: string, ms = 10_000) {
      const end = Date.now() + ms;
      while (!out.includes(text)) {
        if (Date.now() > end)
          throw new Error(`timed out waiting for ${JSON.stringify(text)}; got ${JSON.stringify(out)}`);
        await Bun.sleep(20);
      }
    },
    async done() {
      const code = await p.exited;
      await reader;
      return { code, stderr: await new Response(p.stderr as ReadableStream).text() };
    },
  };
}

const running = (name: string) => ok(h("inspect", "-f", "{{.State.Running}}", name)).trim() === "true";

test("run -dit: attach types into its terminal, ctrl-p ctrl-q leaves it running, the log has it all", async () => {
  ok(h("run", "-dit", "--name", "at-tty", "--network", "none", "busybox", "sh"));
  const a = attach("at-tty");
  a.send("echo hello-$((6*7))\n");
  await a.waitFor("hello-42");
  a.send("\x10\x11");
  const r = await a.done();
  expect(r.code).toBe(0);
  expect(r.stderr).toContain("detached");
  expect(running("at-tty")).toBe(true);
  // again: the same shell, its state kept
  const b = attach("at-tty");
  b.send("tty; exit 3\n");
  await b.waitFor("/dev/pts/");
  expect((await b.done()).code).toBe(3);
  expect(running("at-tty")).toBe(false);
  expect(ok(h("inspect", "-f", "{{.State.ExitCode}} {{.Config.Tty}}", "at-tty"))).toBe("3 true\n");
  expect(ok(h("logs", "at-tty"))).toContain("hello-42");
});

test("run -di: input through a pipe the supervisor keeps, across attachments; --detach-keys", async () => {
  ok(
    h(
      "run",
      "-di",
      "--name",
      "at-pipe",
      "--network",
      "none",
      "busybox",
      "sh",
      "-c",
      'while read l; do echo "got:$l"; done',
    ),
  );
  const a = attach("--detach-keys", "ctrl-a,d", "at-pipe");
  a.send("one\n");
  await a.waitFor("got:one");
  a.send("\x01d");
  expect((await a.done()).code).toBe(0);
  const b = attach("at-pipe");
  b.send("two\n");
  await b.waitFor("got:two");
  expect(b.output()).not.toContain("got:one");
  b.send("\x10\x11");
  expect((await b.done()).code).toBe(0);
  // --no-stdin: the output only
  const c = attach("--no-stdin", "at-pipe");
  c.send("three\n");
  await Bun.sleep(300);
  expect(c.output()).not.toContain("got:three");
  c.p.kill("SIGKILL");
  await c.done();
  expect(running("at-pipe")).toBe(true);
  ok(h("rm", "-f", "at-pipe"));
});

test("a signal to hull attach reaches the container; create -it then start is attachable", async () => {
  ok(
    h(
      "run",
      "-di",
      "--name",
      "at-sig",
      "--network",
      "none",
      "busybox",
      "sh",
      "-c",
      "trap 'echo caught; exit 5' INT; echo ready; while :; do sleep 0.1; done",
    ),
  );
  const a = attach("at-sig");
  await Bun.sleep(300);
  a.p.kill("SIGINT");
  await a.waitFor("caught");
  expect((await a.done()).code).toBe(5);
  ok(h("create", "-it", "--name", "at-made", "--network", "none", "busybox", "sh"));
  ok(h("start", "at-made"));
  const b = attach("at-made");
  b.send("echo made-$((1+1)); exit 0\n");
  await b.waitFor("made-2");
  expect((await b.done()).code).toBe(0);
  // attach to a stopped container: one line, exit 1... as docker says it
  const r = h("attach", "at-made");
  expect(r.code).not.toBe(0);
  ok(h("rm", "-f", "at-sig", "at-made", "at-tty"));
  expect(shimProcesses()).toEqual([]);
});
