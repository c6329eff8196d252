import { expect, test } from "bun:test";
import { DockerIgnore } from "../src/build/dockerignore";

test("Docker's pattern rules", () => {
  const ig = new DockerIgnore(
    [
      "# comment",
      "",
      "*.log",
      "/build",
      "./tmp/",
      "**/node_modules",
      "docs/**/*.md",
      "secret?.txt",
      "data/[ab]*.csv",
      "!important.log",
      "cache",
      "!cache/keep",
    ].join("\n"),
  );
  const cases: Array<[string, boolean]> = [
    ["app.log", true],
    ["dir/app.log", false], // * does not cross /
    ["important.log", false], // re-included
    ["build", true],
    ["build/out/x.o", true], // inside an ignored directory
    ["src/build", false],
    ["tmp/x", true],
    ["node_modules/a/b.js", true],
    ["pkg/deep/node_modules/c.js", true],
    ["docs/a.md", true], // **/ also matches no directory
    ["docs/x/y/a.md", true],
    ["docs/a.txt", false],
    ["secret1.txt", true],
    ["secret12.txt", false],
    ["data/a1.csv", true],
    ["data/c1.csv", false],
    ["cache/old", true],
    ["cache/keep", false], // the last matching pattern decides
    ["main.go", false],
  ];
  for (const [path, ignored] of cases) expect([path, ig.ignores(path)]).toEqual([path, ignored]);
});

test("paths are cleaned before matching", () => {
  const ig = new DockerIgnore("a/b\n");
  expect(ig.ignores("./a/b")).toBe(true);
  expect(ig.ignores("a//b/")).toBe(true);
  expect(ig.ignores("x/../a/b/c")).toBe(true);
});

test("an empty .dockerignore ignores nothing", () => {
  expect(new DockerIgnore("").ignores("anything")).toBe(false);
  expect(new DockerIgnore("# only a comment\n\n").ignores("x")).toBe(false);
});
