// The terminal's transfer line: bar, bytes, rate and time left; once done, the time it took.
import { expect, test } from "bun:test";
import { progress, progressLine } from "../src/cli/progress";

test("a layer under way: a bar, the bytes, the rate so far and the time left at that rate", () => {
  // 10 MB of 40 in 2 s: 5 MB/s, 30 MB to go, 6 s
  const line = progressLine(10e6, 40e6, 2000);
  expect(line).toBe(`[=======>${" ".repeat(22)}] 10.0 MB/40.0 MB  5.0 MB/s  ETA 6s`);
  expect(progressLine(1e6, 400e6, 1000)).toContain("ETA 6m39s");
  expect(progressLine(1e5, 400e9, 1000)).toContain("0.1 MB/s  ETA 1111h06m");
  // nothing yet: no rate to guess a time from
  expect(progressLine(0, 40e6, 0)).toBe(`[>${" ".repeat(29)}] 0.0 MB/40.0 MB  0.0 MB/s`);
});

test("a layer done: its size, the time it took and the rate", () => {
  expect(progressLine(40e6, 40e6, 8000)).toBe("done 40.0 MB in 8.0s (5.0 MB/s)");
});

test("on a terminal a finished layer's line is drawn once, also when a note follows it", () => {
  let out = "";
  const p = progress(true, { tty: true, write: (t) => (out += t) });
  p.bytes?.("abc", 5, 10);
  p.bytes?.("abc", 10, 10);
  p.say("pulled: sha256:x");
  p.finish();
  expect(out.match(/abc: done/g)).toHaveLength(1);
  expect(out.endsWith("pulled: sha256:x\n")).toBe(true);
});
