import { describe, expect, test } from "bun:test";
import { DockerfileError, expand, parseDockerfile } from "../src/build/dockerfile";

describe("parseDockerfile", () => {
  test("stages, names, platforms, global ARGs, flags, JSON and shell forms", () => {
    const df = parseDockerfile(`# syntax=docker/dockerfile:1
ARG BASE=busybox
FROM --platform=linux/amd64 \${BASE} AS build
WORKDIR /src
COPY --chown=1000:1000 --chmod=0644 a.txt b.txt /src/
RUN echo hi > /out
FROM busybox
COPY --from=build /out /out
CMD ["cat", "/out"]
ENTRYPOINT /bin/sh -c
`);
    expect(df.syntax).toBe("docker/dockerfile:1");
    expect(df.globalArgs.map((a) => a.args)).toEqual(["BASE=busybox"]);
    expect(df.stages).toHaveLength(2);
    const [build, final] = df.stages;
    expect(build).toMatchObject({ from: "${BASE}", name: "build", platform: "linux/amd64", line: 3 });
    expect(build?.instructions.map((i) => i.cmd)).toEqual(["WORKDIR", "COPY", "RUN"]);
    expect(build?.instructions[1]).toMatchObject({
      flags: { chown: "1000:1000", chmod: "0644" },
      args: "a.txt b.txt /src/",
    });
    expect(final?.instructions[0]).toMatchObject({ cmd: "COPY", flags: { from: "build" }, args: "/out /out" });
    expect(final?.instructions[1]?.json).toEqual(["cat", "/out"]);
    expect(final?.instructions[2]?.json).toBeUndefined();
  });

  test("continuations, comments inside them, lower-case instructions, blank lines", () => {
    const df = parseDockerfile(
      [
        "FROM busybox",
        "",
        "run echo one \\",
        "  # a comment inside",
        "  two \\",
        "  three",
        "ENV A=1 \\",
        "    B=2",
        "",
      ].join("\n"),
    );
    const [run, env] = df.stages[0]?.instructions ?? [];
    expect(run).toMatchObject({ cmd: "RUN", line: 3 });
    expect(run?.args.replace(/\s+/g, " ")).toBe("echo one two three");
    expect(env?.args.replace(/\s+/g, " ")).toBe("A=1 B=2");
  });

  test("the escape directive changes the continuation character", () => {
    const df = parseDockerfile("# escape=`\nFROM busybox\nRUN dir c:\\ `\n  /w\n");
    expect(df.escape).toBe("`");
    expect(df.stages[0]?.instructions[0]?.args.replace(/\s+/g, " ")).toBe("dir c:\\ /w");
  });

  test("heredocs: several, <<- strips tabs, quoted names", () => {
    const df = parseDockerfile(
      [
        "FROM busybox",
        "RUN <<EOF",
        "echo a",
        "echo b",
        "EOF",
        'COPY <<-"CONF" /etc/app.conf',
        "\tkey=${VALUE}",
        "\tCONF",
        "RUN cat <<A <<B",
        "one",
        "A",
        "two",
        "B",
        "",
      ].join("\n"),
    );
    const [run, copy, two] = df.stages[0]?.instructions ?? [];
    expect(run?.heredocs).toEqual([{ name: "EOF", body: "echo a\necho b\n", stripTabs: false, quoted: false }]);
    expect(copy?.heredocs).toEqual([{ name: "CONF", body: "key=${VALUE}\n", stripTabs: true, quoted: true }]);
    expect(copy?.args).toBe('<<-"CONF" /etc/app.conf');
    expect(two?.heredocs.map((h) => h.body)).toEqual(["one\n", "two\n"]);
  });

  const bad = (text: string) => {
    try {
      parseDockerfile(text);
    } catch (e) {
      expect(e).toBeInstanceOf(DockerfileError);
      return (e as Error).message;
    }
    throw new Error("no error");
  };

  test("errors point at the line and column", () => {
    expect(bad("FROM busybox\nRUNN echo\n")).toBe("Dockerfile:2:1: unknown instruction: RUNN");
    expect(bad("RUN echo\nFROM busybox\n")).toBe("Dockerfile:1:1: RUN before the first FROM (only ARG may come first)");
    expect(bad("FROM\n")).toStartWith("Dockerfile:1:5: FROM needs an image");
    expect(bad("FROM a b c d\n")).toContain("FROM takes IMAGE [AS NAME]");
    expect(bad("FROM busybox\nRUN <<EOF\necho\n")).toBe("Dockerfile:2:5: heredoc <<EOF is not closed");
    expect(bad("FROM a AS x\nFROM b AS x\n")).toContain("stage name x is used twice");
    expect(bad("FROM busybox\nWORKDIR\n")).toContain("WORKDIR needs arguments");
    expect(bad("ARG A\n")).toContain("no FROM");
    expect(bad("# escape=x\nFROM a\n")).toContain("escape must be");
  });
});

describe("expand", () => {
  const vars = new Map([
    ["A", "a"],
    ["EMPTY", ""],
  ]);
  test("Docker's forms", () => {
    expect(expand("$A ${A} x${A}y", vars)).toBe("a a xay");
    expect(expand("${UNSET:-def} ${EMPTY:-def} ${EMPTY-def} ${A:-def}", vars)).toBe("def def  a");
    expect(expand("${A:+alt} ${EMPTY:+alt} ${EMPTY+alt} ${UNSET:+alt}", vars)).toBe("alt  alt ");
    expect(expand("${UNSET:-${A}}", vars)).toBe("a");
    expect(expand("\\$A $UNSET end$", vars)).toBe("$A  end$");
    expect(expand("`$A", vars, "`")).toBe("$A");
  });
  test("malformed substitutions are errors", () => {
    expect(() => expand("${A", vars)).toThrow("missing }");
    expect(() => expand("${1A}", vars)).toThrow("bad substitution");
  });
});
