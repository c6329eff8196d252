// Sandbox scripts: `#!/usr/bin/env -S hull script` and `# hull:` lines. Run through their shebang
// and through `hull script`, with their arguments, input, output and exit code; they get only what
// they declare (no network, no host path but the script, read-only); header mistakes are
// line-numbered, exit 125, and nothing runs.
import { afterAll, expect, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseScriptHeader, ScriptError } from "../src/container/script-header";
import { runArgs } from "../src/cli/commands/run";
import { HULL, hull, ok, requireUnprivileged, useStore } from "./helpers";

requireUnprivileged();

const store = useStore();
const dir = mkdtempSync(join(tmpdir(), "hull-script-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function script(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  chmodSync(path, 0o755);
  return path;
}

/** FILE run as the kernel runs it: through its #! line, with hull on PATH */
function direct(file: string, args: string[] = [], stdin = "", env: Record<string, string> = {}) {
  const p = Bun.spawnSync([file, ...args], {
    env: { ...process.env, PATH: `${dirname(HULL)}:${process.env.PATH}`, HULL_ROOT: store.root, ...env },
    stdin: new TextEncoder().encode(stdin),
  });
  return { code: p.exitCode, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

const SHEBANG = "#!/usr/bin/env -S hull script\n";

test("the header: keys are run's options, relative paths the script's, safest defaults", () => {
  const plan = parseScriptHeader(
    `${SHEBANG}# a comment\n# hull: image=debian:bookworm\n# hull: volume=.:/work:ro workdir=/work memory=512m env=CI\n# hull: volume=cache:/cache read-only\n\nset -e\n# hull: image=ignored-after-the-body\n`,
    "s.sh",
    "/home/me/proj",
    runArgs,
  );
  expect(plan).toEqual({
    image: "debian:bookworm",
    options: [
      "--network=none",
      "--rm=true",
      "--volume=/home/me/proj:/work:ro",
      "--workdir=/work",
      "--memory=512m",
      "--env=CI",
      "--volume=cache:/cache",
      "--read-only=true",
    ],
    interpreter: ["/bin/sh"],
    lineOf: {
      volume: [
        { where: "s.sh:4", value: ".:/work:ro" },
        { where: "s.sh:5", value: "cache:/cache" },
      ],
      workdir: [{ where: "s.sh:4", value: "/work" }],
      memory: [{ where: "s.sh:4", value: "512m" }],
      env: [{ where: "s.sh:4", value: "CI" }],
      "read-only": [{ where: "s.sh:5", value: "" }],
    },
  });
  const net = parseScriptHeader(
    `${SHEBANG}# hull: image=busybox network=bridge "env=A=b c"\n#!/usr/bin/env python3 -u\nprint(1)\n`,
    "s",
    "/d",
    runArgs,
  );
  expect(net.options).toEqual(["--rm=true", "--network=bridge", "--env=A=b c"]);
  expect(net.interpreter).toEqual(["/usr/bin/env", "python3", "-u"]);
  const bad: [string, string][] = [
    [`${SHEBANG}# hull: image=busybox\n# hull: memroy=1g\n`, "s:3: unknown key memroy"],
    [`${SHEBANG}# hull: image=busybox detach\n`, "s:2: detach cannot be set in a script"],
    [`${SHEBANG}# hull: image=busybox read-only=yes\n`, "s:2: read-only takes true or false, not yes"],
    [`${SHEBANG}# hull: image=busybox workdir\n`, "s:2: workdir needs a value"],
    [`${SHEBANG}# hull: image=busybox "env=A\n`, "s:2: a quote is not closed"],
    [`${SHEBANG}# hull: network=none\n`, 's: no image: add a line "# hull: image=NAME"'],
    [`${SHEBANG}# hull: image=busybox\n#!/bin/sh\n#!/bin/bash\n`, "s:4: a second interpreter line"],
    ["echo no shebang\n", "s:1: a hull script starts with #!"],
  ];
  for (const [text, message] of bad) expect(() => parseScriptHeader(text, "s", "/d", runArgs)).toThrow(message);
  expect(() => parseScriptHeader(bad[0]?.[0] as string, "s", "/d", runArgs)).toThrow(ScriptError);
});

test("through its #! line: arguments, input, output and exit code are the script's", () => {
  const s = script(
    "args.sh",
    `${SHEBANG}# hull: image=busybox\necho "args: $# [$1] [$2]"\nread line\necho "got: $line"\necho "to stderr" >&2\nexit 7\n`,
  );
  const r = direct(s, ["one", "two words"], "hello\n");
  expect(r.stdout).toBe("args: 2 [one] [two words]\ngot: hello\n");
  expect(r.stderr).toBe("to stderr\n");
  expect(r.code).toBe(7);
});

test("it gets only what it declares: no network, no host path, its own file read-only", () => {
  writeFileSync(join(dir, "secret.txt"), "host data\n");
  const s = script(
    "closed.sh",
    `${SHEBANG}# hull: image=busybox\nls /sys/class/net\nls ${dir} 2>&1 | head -1 | grep -c 'No such file'\ncat "$0" | head -1\ntouch "$0" 2>/dev/null && echo writable || echo read-only\n`,
  );
  const r = direct(s);
  expect(r.stderr).toBe("");
  expect(r.stdout).toBe(`lo\n1\n#!/usr/bin/env -S hull script\nread-only\n`);
  expect(r.code).toBe(0);
});

test("declared host paths are the script directory's; env=NAME passes the caller's; a second #! line is the interpreter", () => {
  mkdirSync(join(dir, "data"), { recursive: true });
  writeFileSync(join(dir, "data", "in.txt"), "from the host\n");
  const s = script(
    "open.sh",
    `${SHEBANG}# hull: image=busybox\n# hull: volume=./data:/data:ro workdir=/data env=CI_TOKEN\n#!/bin/sh -e\ncat in.txt\necho "token=$CI_TOKEN"\nfalse\necho never\n`,
  );
  const r = direct(s, [], "", { CI_TOKEN: "t0k" });
  expect(r.stdout).toBe("from the host\ntoken=t0k\n");
  expect(r.code).toBe(1);
});

test("hull script --explain and --check; header mistakes stop it with the line, exit 125", () => {
  const s = script("explain.sh", `${SHEBANG}# hull: image=busybox hostname=box\nhostname\n`);
  const explained = ok(hull(["script", "--explain", s, "arg 1"], store)).trim();
  expect(explained).toBe(
    `cd ${dir} && hull run --network=none --rm=true --hostname=box --interactive=true --mount=type=bind,source=${s},target=/run/hull-script/explain.sh,readonly --label=hull.script=${s} -- busybox /bin/sh /run/hull-script/explain.sh 'arg 1'`,
  );
  expect(ok(hull(["script", "--check", s], store)).trim()).toBe(`${s}: ok`);
  // run as the explanation says (the same container, in this process)
  expect(ok(hull(["script", s], store))).toBe("box\n");
  const typo = script("typo.sh", `${SHEBANG}# hull: image=busybox\n# hull: netwrok=bridge\necho ran\n`);
  const r = direct(typo);
  expect(r.code).toBe(125);
  expect(r.stdout).toBe("");
  expect(r.stderr.trim()).toBe(
    `hull: ${typo}:3: unknown key netwrok (a hull run option without its dashes, as memory=512m, or image=)`,
  );
  // a value run refuses is found by --check too
  const badValue = script("badvalue.sh", `${SHEBANG}# hull: image=busybox restart=sometimes\necho ran\n`);
  const c = hull(["script", "--check", badValue], store);
  expect(c.code).toBe(125);
  // ... and both name the line that gave it, as a key's mistake is named
  expect(c.stderr.trim()).toBe(`hull: ${badValue}:2: --restart takes no, on-failure[:N], always or unless-stopped`);
  // options that conflict: --check finds them as the run does
  const conflict = script("conflict.sh", `${SHEBANG}# hull: image=busybox restart=always\necho ran\n`);
  const cc = hull(["script", "--check", conflict], store);
  expect(cc.code).toBe(125);
  expect(cc.stderr).toContain("--restart and --rm conflict");
  const run = direct(badValue);
  expect(run.code).toBe(125);
  expect(run.stdout).toBe("");
  expect(run.stderr.trim()).toBe(c.stderr.trim());
  // a refusal the run makes itself (not --check's): the line of the option it names
  const badSignal = script(
    "badsignal.sh",
    `${SHEBANG}# hull: image=busybox
# hull: hostname=x
# hull: stop-signal=NOPE
echo ran
`,
  );
  const sig = direct(badSignal);
  expect(sig.code).toBe(125);
  expect(sig.stdout).toBe("");
  expect(sig.stderr).toContain(`hull: ${badSignal}:4: `);
  // a value's text cannot move the blame to another option's line; a key given twice is blamed on
  // the line whose value the message quotes, or on none
  const injected = script(
    "injected.sh",
    `${SHEBANG}# hull: image=busybox\n# hull: privileged=true\n# hull: "env-file=/nonexistent (--privileged"\necho ran\n`,
  );
  expect(direct(injected).stderr).not.toContain(`${injected}:3:`);
  const twice = script(
    "twice.sh",
    `${SHEBANG}# hull: image=busybox\n# hull: env==bad\n# hull: hostname=x\n# hull: env=GOOD=1\necho ran\n`,
  );
  expect(direct(twice).stderr.trim()).toBe(`hull: ${twice}:3: -e "=bad": takes KEY=VALUE or KEY`);
  expect(hull(["script", join(dir, "missing.sh")], store).stderr.trim()).toBe(
    `hull: ${join(dir, "missing.sh")}: no such script`,
  );
  // nothing was left: --rm by default
  expect(ok(hull(["ps", "-aq"], store))).toBe("");
});

test("hostile headers: an image that is a flag, paths relative to the caller, hidden lines, escape sequences, a fifo", () => {
  // image= is an image, never a flag (it would have put the script on the host's network)
  const inj = script("inj.sh", `${SHEBANG}# hull: image=--network=host\n#! busybox sh\nip -o addr\n`);
  const r = direct(inj);
  expect(r.code).toBe(125);
  expect(r.stderr.trim()).toBe(`hull: ${inj}:2: image=--network=host is not an image name (NAME[:TAG|@DIGEST])`);
  // relative sources are the script's directory's, whatever the caller's current one has
  const secret = join(dir, "elsewhere", ".secret");
  mkdirSync(secret, { recursive: true });
  writeFileSync(join(secret, "key"), "caller's\n");
  mkdirSync(join(dir, ".secret"), { recursive: true });
  writeFileSync(join(dir, ".secret", "key"), "script's\n");
  const dot = script("dot.sh", `${SHEBANG}# hull: image=busybox volume=.secret:/k:ro\ncat /k/key\n`);
  const mnt = script(
    "mnt.sh",
    `${SHEBANG}# hull: image=busybox "mount=type=bind, source=.secret,target=/k"\ncat /k/key\n`,
  );
  for (const s of [dot, mnt]) {
    const p = Bun.spawnSync([HULL, "script", s], {
      cwd: join(dir, "elsewhere"),
      env: { ...process.env, HULL_ROOT: store.root },
    });
    expect({ s, out: p.stdout.toString(), err: p.stderr.toString() }).toEqual({ s, out: "script's\n", err: "" });
  }
  // a line separator or a carriage return inside a header line does not hide its options
  const hidden = script(
    "hidden.sh",
    `${SHEBANG}# hull: image=busybox\n# hull: read-only \u2028\n# hull: hostname=box \r \ntouch /x 2>/dev/null && echo writable; hostname\n`,
  );
  expect(direct(hidden).stdout).toBe("box\n");
  // --explain shows escape sequences as escapes
  const esc = script("esc.sh", `${SHEBANG}# hull: image=busybox "label=x=\x1b[2K\x1b[1Gcalm"\ntrue\n`);
  const explained = ok(hull(["script", "--explain", esc], store));
  expect(explained).not.toContain("\x1b");
  expect(explained).toContain("$'--label=x=\\x1b[2K\\x1b[1Gcalm'");
  // a fifo as the script reads as empty: refused, no hang
  const fifo = join(dir, "fifo.sh");
  Bun.spawnSync(["mkfifo", fifo]);
  const f = hull(["script", fifo], store);
  expect(f.code).toBe(125);
  expect(f.stderr).toContain("a hull script starts with #!");
  // prototype names are unknown keys, not something else
  const proto = script("proto.sh", `${SHEBANG}# hull: image=busybox constructor=1\ntrue\n`);
  expect(direct(proto).stderr).toContain(":2: unknown key constructor");
});
