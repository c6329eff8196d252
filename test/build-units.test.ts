// The builder's pure parts: the argument lexer, the metadata instructions, and the build context's
// matching and hashing. No container is started here.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cacheKey } from "../src/build/cache";
import { BuildContext, contextPath } from "../src/build/context";
import { parseDockerfile } from "../src/build/dockerfile";
import { applyMetadata, parseDuration, type RunConfig } from "../src/build/metadata";
import { parseRunMount } from "../src/build/run-mounts";
import { runCommand } from "../src/build/run-step";
import { keyValues, lex } from "../src/build/words";

const vars = new Map([
  ["A", "1"],
  ["SP", "x y"],
]);

describe("lex", () => {
  test("splits on white space, removes quotes, expands outside single quotes", () => {
    expect(lex(`a "b c" 'd $A' $A "\${A}x" \${B:-def}`, vars)).toEqual(["a", "b c", "d $A", "1", "1x", "def"]);
  });
  test("the escape character keeps the next character", () => {
    expect(lex("a\\ b \\$A", vars)).toEqual(["a b", "$A"]);
    expect(lex("a` b `$A", vars, "`")).toEqual(["a b", "$A"]);
  });
  test("an expanded value is not split again", () => {
    expect(lex("$SP", vars)).toEqual(["x y"]);
  });
  test("unmatched quotes are errors", () => {
    expect(() => lex(`"open`, vars)).toThrow(/unmatched "/);
    expect(() => lex("'open", vars)).toThrow(/unmatched '/);
  });
});

describe("keyValues", () => {
  test("pairs with quotes, and the old one-pair form of ENV", () => {
    expect(keyValues(`A=1 B="two words" C=$A`, vars, "\\", "ENV")).toEqual([
      ["A", "1"],
      ["B", "two words"],
      ["C", "1"],
    ]);
    expect(keyValues("NAME the rest of it", vars, "\\", "ENV")).toEqual([["NAME", "the rest of it"]]);
  });
  test("ARG may have no value; ENV and LABEL may not", () => {
    expect(keyValues("X Y=2", vars, "\\", "ARG")).toEqual([
      ["X", undefined],
      ["Y", "2"],
    ]);
    expect(() => keyValues("A=1 B", vars, "\\", "LABEL")).toThrow(/KEY=VALUE pairs, not B/);
    expect(() => keyValues("ONLY", vars, "\\", "ENV")).toThrow(/needs a value/);
  });
});

function ins(line: string) {
  const df = parseDockerfile(`FROM scratch\n${line}\n`);
  return df.stages[0]?.instructions[0] as NonNullable<(typeof df.stages)[0]>["instructions"][0];
}
const apply = (line: string, c: RunConfig = {}, cmdSet = false) =>
  applyMetadata(ins(line), c, { vars, escape: "\\", cmdSet });

describe("metadata instructions", () => {
  test("ENV replaces a variable in place and adds new ones at the end", () => {
    expect(apply("ENV A=2 C=$A", { Env: ["PATH=/bin", "A=0"] }).Env).toEqual(["PATH=/bin", "A=2", "C=1"]);
  });
  test("CMD and ENTRYPOINT: JSON form as is, shell form through the SHELL", () => {
    expect(apply(`CMD ["a", "b"]`).Cmd).toEqual(["a", "b"]);
    expect(apply("CMD echo $HOME").Cmd).toEqual(["/bin/sh", "-c", "echo $HOME"]);
    expect(apply("CMD echo hi", { Shell: ["/bin/bash", "-ec"] }).Cmd).toEqual(["/bin/bash", "-ec", "echo hi"]);
  });
  test("ENTRYPOINT clears an inherited CMD, but not one set in the same stage", () => {
    expect(apply(`ENTRYPOINT ["x"]`, { Cmd: ["base"] }).Cmd).toBeNull();
    expect(apply(`ENTRYPOINT ["x"]`, { Cmd: ["mine"] }, true).Cmd).toEqual(["mine"]);
  });
  test("EXPOSE takes ports, protocols and ranges", () => {
    expect(apply("EXPOSE 80 53/udp 9000-9001").ExposedPorts).toEqual({
      "80/tcp": {},
      "53/udp": {},
      "9000/tcp": {},
      "9001/tcp": {},
    });
    expect(() => apply("EXPOSE 70000")).toThrow(/Dockerfile:2:1: EXPOSE 70000: ports run from 1 to 65535/);
  });
  test("VOLUME in both forms; LABEL merges; USER and STOPSIGNAL expand variables", () => {
    expect(apply(`VOLUME ["/a", "/b"]`).Volumes).toEqual({ "/a": {}, "/b": {} });
    expect(apply("VOLUME /c /d").Volumes).toEqual({ "/c": {}, "/d": {} });
    expect(apply(`LABEL b="2"`, { Labels: { a: "1" } }).Labels).toEqual({ a: "1", b: "2" });
    expect(apply("USER app:$A").User).toBe("app:1");
    expect(apply("STOPSIGNAL SIGINT").StopSignal).toBe("SIGINT");
    expect(() => apply("STOPSIGNAL not a signal")).toThrow(/is not a signal/);
  });
  test("SHELL needs the JSON form", () => {
    expect(apply(`SHELL ["/bin/ash", "-c"]`).Shell).toEqual(["/bin/ash", "-c"]);
    expect(() => apply("SHELL /bin/ash -c")).toThrow(/SHELL takes the JSON form/);
  });
  test("HEALTHCHECK: CMD forms, durations, NONE; bad flags point at the line", () => {
    expect(apply("HEALTHCHECK --interval=1m30s --retries=3 CMD wget -q localhost").Healthcheck).toEqual({
      Test: ["CMD-SHELL", "wget -q localhost"],
      Interval: 90e9,
      Retries: 3,
    });
    expect(apply(`HEALTHCHECK CMD ["true"]`).Healthcheck).toEqual({ Test: ["CMD", "true"] });
    expect(apply("HEALTHCHECK NONE").Healthcheck).toEqual({ Test: ["NONE"] });
    expect(() => apply("HEALTHCHECK --interval=soon CMD true")).toThrow(/soon is not a duration/);
    expect(parseDuration("250ms")).toBe(250e6);
  });
  test("ONBUILD records the trigger, refusing ONBUILD ONBUILD", () => {
    expect(apply("ONBUILD RUN make").OnBuild).toEqual(["RUN make"]);
    expect(() => apply("ONBUILD ONBUILD RUN x")).toThrow(/ONBUILD ONBUILD is not allowed/);
  });
});

describe("build context", () => {
  const dir = mkdtempSync(join(tmpdir(), "hull-ctx-unit-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, "src", "deep"), { recursive: true });
  mkdirSync(join(dir, "node_modules", "x"), { recursive: true });
  writeFileSync(join(dir, "src", "a.ts"), "a");
  writeFileSync(join(dir, "src", "b.js"), "b");
  writeFileSync(join(dir, "src", "deep", "c.ts"), "c");
  writeFileSync(join(dir, "node_modules", "x", "index.js"), "x");
  writeFileSync(join(dir, "README.md"), "r");
  symlinkSync("src/a.ts", join(dir, "link"));

  test("paths are cleaned and may not leave the context", () => {
    expect(contextPath("./src//a.ts")).toBe("src/a.ts");
    expect(contextPath(".")).toBe("");
    expect(contextPath("src/../README.md")).toBe("README.md");
    expect(() => contextPath("../etc/passwd")).toThrow(/outside the build context/);
  });

  test("a directory brings what is beneath it, less what .dockerignore leaves out", () => {
    const ctx = new BuildContext(dir, "node_modules\n**/*.js\n");
    const [root] = ctx.match(".");
    expect(root?.include?.sort()).toEqual(["README.md", "link", "src", "src/a.ts", "src/deep", "src/deep/c.ts"]);
    expect(() => ctx.match("node_modules/x/index.js")).toThrow(/no such file in the build context/);
  });

  test("a source that is a symlink is followed, but not out of the context", () => {
    symlinkSync("/etc/passwd", join(dir, "outside"));
    const ctx = new BuildContext(dir);
    expect(ctx.match("link")).toEqual([{ rel: "src/a.ts", type: "file", name: "link" }]);
    expect(() => ctx.match("outside")).toThrow(/points outside the build context/);
    rmSync(join(dir, "outside"));
  });

  test("wildcards stay within one path component", () => {
    const ctx = new BuildContext(dir);
    expect(ctx.match("src/*.ts").map((s) => s.rel)).toEqual(["src/a.ts"]);
    expect(ctx.match("*/*/c.?s").map((s) => s.rel)).toEqual(["src/deep/c.ts"]);
  });

  test("an exception brings a file back from an ignored directory", () => {
    const ctx = new BuildContext(dir, "node_modules\n!node_modules/x/index.js\n");
    expect(ctx.match("node_modules/x/index.js").map((s) => s.rel)).toEqual(["node_modules/x/index.js"]);
  });

  test("the hash follows contents and modes, and not times", () => {
    const ctx = () => new BuildContext(dir);
    const h1 = ctx().hash(ctx().match("src"));
    writeFileSync(join(dir, "src", "a.ts"), "a");
    expect(ctx().hash(ctx().match("src"))).toBe(h1);
    writeFileSync(join(dir, "src", "deep", "c.ts"), "changed");
    expect(ctx().hash(ctx().match("src"))).not.toBe(h1);
  });
});

describe("cache keys", () => {
  test("equal values give equal keys, whatever the order of their fields", () => {
    const a = cacheKey({ parent: "p", config: { Env: ["A=1"], Cmd: ["x"] } });
    expect(cacheKey({ config: { Cmd: ["x"], Env: ["A=1"] }, parent: "p" })).toBe(a);
    expect(cacheKey({ parent: "p", config: { Env: ["A=2"], Cmd: ["x"] } })).not.toBe(a);
    expect(cacheKey({ parent: "p", config: { Env: ["A=1"], Cmd: ["x"] }, owner: undefined })).toBe(a);
  });
});

describe("RUN --mount", () => {
  test("the parser keeps every --mount of a RUN", () => {
    const df = parseDockerfile(
      "FROM scratch\nRUN --mount=type=cache,target=/a --mount=target=/b --network=none true\n",
    );
    const run = df.stages[0]?.instructions[0];
    expect(run?.mounts).toEqual(["type=cache,target=/a", "target=/b"]);
    expect(run?.flags.network).toBe("none");
  });
  test("types, defaults and the options' other names", () => {
    expect(parseRunMount("type=cache,dst=/root/.cache,mode=0700,uid=1000,sharing=locked")).toMatchObject({
      type: "cache",
      target: "/root/.cache",
      mode: 0o700,
      uid: 1000,
      gid: 0,
      readonly: false,
    });
    expect(parseRunMount("target=/src,src=app,ro")).toEqual({
      type: "bind",
      target: "/src",
      source: "app",
      readonly: true,
    });
    expect(parseRunMount("type=tmpfs,target=/t,size=64m")).toEqual({ type: "tmpfs", target: "/t", size: "64m" });
    expect(parseRunMount("type=secret,id=npm,required")).toMatchObject({
      type: "secret",
      id: "npm",
      required: true,
      mode: 0o400,
    });
  });
  test("what hull cannot do is refused with a reason", () => {
    expect(() => parseRunMount("type=ssh")).toThrow(/there is no --ssh yet/);
    expect(() => parseRunMount("target=/src,rw")).toThrow(/writable bind mounts are not supported/);
    expect(() => parseRunMount("type=cache")).toThrow(/needs target=PATH/);
    expect(() => parseRunMount("type=cache,target=/c,mode=rwx")).toThrow(/octal/);
    expect(() => parseRunMount("type=volume,target=/v")).toThrow(/type takes cache, bind, tmpfs or secret/);
    expect(() => parseRunMount("target=/x,colour=blue")).toThrow(/unknown option colour/);
  });
});

describe("a RUN's command", () => {
  const run = (text: string) => runCommand(ins(text), ["/bin/sh", "-c"]);
  test("JSON form as is; shell form through the shell", () => {
    expect(run(`RUN ["echo", "$HOME"]`)).toEqual({ argv: ["echo", "$HOME"] });
    expect(run("RUN echo $HOME")).toEqual({ argv: ["/bin/sh", "-c", "echo $HOME"] });
  });
  test("a lone heredoc is the script; with #! it runs by its interpreter", () => {
    expect(run("RUN <<EOF\necho a\necho b\nEOF")).toEqual({ argv: ["/bin/sh", "-c", "echo a\necho b\n"] });
    expect(run("RUN <<EOF\n#!/usr/bin/env python3\nprint(1)\nEOF")).toEqual({
      argv: ["/dev/pipes/EOF"],
      script: { name: "EOF", body: "#!/usr/bin/env python3\nprint(1)\n" },
    });
  });
  test("a command that reads heredocs gets them back in its text", () => {
    expect(run("RUN cat <<A > /a\nhello\nA")).toEqual({ argv: ["/bin/sh", "-c", "cat <<A > /a\nhello\nA\n"] });
  });
});
