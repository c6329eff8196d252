import { expect, test } from "bun:test";
import { familiarName, formatReference, parseReference, registryHost, registryScheme } from "../src/image/reference";

test("Docker's normalisation of names", () => {
  const cases: Array<[string, string]> = [
    ["busybox", "docker.io/library/busybox:latest"],
    ["busybox:1.36", "docker.io/library/busybox:1.36"],
    ["library/busybox", "docker.io/library/busybox:latest"],
    ["team/app:v1", "docker.io/team/app:v1"],
    ["index.docker.io/team/app", "docker.io/team/app:latest"],
    ["docker.io/busybox", "docker.io/library/busybox:latest"],
    ["127.0.0.1:5000/team/app:1", "127.0.0.1:5000/team/app:1"],
    ["localhost/app", "localhost/app:latest"],
    ["localhost:5000/app", "localhost:5000/app:latest"],
    ["ghcr.io/o/r/deep/path:t", "ghcr.io/o/r/deep/path:t"],
    [`busybox@sha256:${"a".repeat(64)}`, `docker.io/library/busybox@sha256:${"a".repeat(64)}`],
    [`busybox:1@sha256:${"b".repeat(64)}`, `docker.io/library/busybox:1@sha256:${"b".repeat(64)}`],
    ["my_app/a-b.c__d:x", "docker.io/my_app/a-b.c__d:x"],
  ];
  for (const [input, want] of cases) expect(formatReference(parseReference(input))).toBe(want);
});

test("a first component without dot, colon or localhost is part of the path", () => {
  expect(parseReference("myhost/app")).toEqual({
    domain: "docker.io",
    path: "myhost/app",
    tag: "latest",
    digest: undefined,
  });
});

test("malformed references are refused with the reason", () => {
  expect(() => parseReference("")).toThrow("empty");
  expect(() => parseReference("Busybox")).toThrow("lowercase");
  expect(() => parseReference("busybox:")).toThrow("tag");
  expect(() => parseReference("busybox:-x")).toThrow("tag");
  expect(() => parseReference("busybox@sha256:abc")).toThrow("digest");
  expect(() => parseReference("a//b")).toThrow("name component");
  expect(() => parseReference("-a")).toThrow("name component");
  expect(() => parseReference("127.0.0.1:5000/")).toThrow("no repository");
});

test("familiar names, API hosts and schemes", () => {
  expect(familiarName(parseReference("busybox"))).toBe("busybox");
  expect(familiarName(parseReference("team/app"))).toBe("team/app");
  expect(familiarName(parseReference("127.0.0.1:5000/team/app"))).toBe("127.0.0.1:5000/team/app");
  expect(registryHost("docker.io")).toBe("registry-1.docker.io");
  expect(registryScheme("127.0.0.1:5000")).toBe("http");
  expect(registryScheme("localhost:5000")).toBe("http");
  expect(registryScheme("ghcr.io")).toBe("https");
  expect(registryScheme("reg.internal:5000", ["reg.internal:5000"])).toBe("http");
});
