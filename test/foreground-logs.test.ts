// A kept container run in the foreground logs its output too, as docker's does: the CI idiom
// `hull run --name t IMG test || hull logs t` shows what failed.
import { expect, test } from "bun:test";
import { HULL, hull, hullOnTerminal, ok, requireUnprivileged, useStore } from "./helpers";

requireUnprivileged();

const store = useStore();

test("stdout and stderr reach the caller, each on its own stream, and the log keeps both", () => {
  const r = hull(["run", "--name", "fg", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3"], store);
  expect(r.code).toBe(3);
  expect(r.stdout).toBe("out\n");
  expect(r.stderr).toBe("err\n");
  const logs = hull(["logs", "fg"], store);
  expect(logs.stdout).toBe("out\n");
  expect(logs.stderr).toBe("err\n");
  ok(hull(["rm", "fg"], store));
});

test("with -t the pty's output is logged; a --rm container keeps nothing", () => {
  const r = hullOnTerminal(`${HULL} run --name tty -t busybox echo through-pty`, store.root);
  expect(r.code).toBe(0);
  expect(r.stdout).toContain("through-pty");
  expect(ok(hull(["logs", "tty"], store))).toContain("through-pty");
  ok(hull(["rm", "tty"], store));
});

test("a reader that goes away ends only its copy: the container finishes and the log has everything", () => {
  const r = Bun.spawnSync(["sh", "-c", `"${HULL}" run --name piped busybox seq 1 20000 | head -n 1; echo status=$?`], {
    env: { PATH: process.env.PATH ?? "/bin", HOME: process.env.HOME ?? "/tmp", HULL_ROOT: store.root },
    stdout: "pipe",
  });
  expect(r.stdout.toString()).toBe("1\nstatus=0\n");
  const logs = ok(hull(["logs", "piped"], store))
    .trim()
    .split("\n");
  expect(logs).toHaveLength(20000);
  expect(logs.at(-1)).toBe("20000");
  const [info] = JSON.parse(ok(hull(["container", "inspect", "piped"], store)));
  expect(info.State.ExitCode).toBe(0);
  ok(hull(["rm", "piped"], store));
});
