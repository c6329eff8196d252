import { expect, test } from "bun:test";
import { all, commandArgs, flag, last, parseInterspersed, UsageError } from "../src/cli/argv";
import { runArgs } from "../src/cli/commands/run";

const parse = (argv: string[]) => parseInterspersed(argv, runArgs, "run");

test("flags stop at the image; the command keeps its own flags", () => {
  const p = parse(["--rm", "-it", "busybox", "sh", "-c", "ls -l", "--rm"]);
  expect(flag(p, "rm")).toBe(true);
  expect(flag(p, "interactive")).toBe(true);
  expect(flag(p, "tty")).toBe(true);
  expect(p.positionals).toEqual(["busybox", "sh", "-c", "ls -l", "--rm"]);
});

test("repeated flags keep every value, in every spelling", () => {
  const p = parse(["-e", "A=1", "--env", "B=2", "-eC=3", "--env=D=4", "-v", "/a:/b", "busybox"]);
  expect(all(p, "env")).toEqual(["A=1", "B=2", "C=3", "D=4"]);
  expect(all(p, "volume")).toEqual(["/a:/b"]);
});

test("value flags inside a cluster take the rest of the cluster or the next word", () => {
  const p = parse(["-iu", "1000:1000", "-w/tmp", "busybox"]);
  expect(last(p, "user")).toBe("1000:1000");
  expect(last(p, "workdir")).toBe("/tmp");
});

test("unknown flags and missing values are usage errors that name the flag", () => {
  expect(() => parse(["--bogus", "busybox"])).toThrow(UsageError);
  expect(() => parse(["--bogus", "busybox"])).toThrow("--bogus");
  expect(() => parse(["-Z"])).toThrow("-Z");
  expect(() => parse(["-e"])).toThrow("needs an argument");
  expect(() => parse(["--rm=maybe", "busybox"])).toThrow("true or false");
  // docker's flags that hull lacks say why, not just "unknown"
  expect(() => parse(["--oom-kill-disable", "busybox"])).toThrow(
    "--oom-kill-disable is not supported by hull run: cgroup v2",
  );
  expect(() => parse(["--mac-address", "02:00:00:00:00:01", "busybox"])).toThrow(
    "--mac-address is not supported by hull run: IPv6, link-local and fixed MAC addresses",
  );
});

test("-- ends hull's flags", () => {
  expect(parse(["--rm", "--", "-weird-image"]).positionals).toEqual(["-weird-image"]);
});

test("commandArgs hands a command its flags as citty did: last value, camelCase, aliases, named positionals", () => {
  const def = {
    all: { type: "boolean", alias: "a" },
    "no-trunc": { type: "boolean" },
    format: { type: "string", alias: "f" },
    container: { type: "positional" },
    name: { type: "positional", required: false },
  } as const;
  const p = parseInterspersed(["-a", "web", "--format", "x", "-f", "y", "--no-trunc"], def, "t", true);
  const args = commandArgs(p, def, "t");
  expect(args).toEqual({
    _: ["web"],
    all: true,
    a: true,
    format: "y",
    f: "y",
    "no-trunc": true,
    noTrunc: true,
    container: "web",
    name: undefined,
  });
  expect(commandArgs(parseInterspersed(["--all=false", "c", "n"], def, "t", true), def, "t")).toMatchObject({
    all: false,
    container: "c",
    name: "n",
  });
  expect(() => commandArgs(parseInterspersed([], def, "t", true), def, "t")).toThrow(
    "hull t needs CONTAINER (see 'hull t --help')",
  );
});
