// pollUntil: the waits for another process (a container's exit, its helper's) look often at first,
// then back off, and give up at the deadline.
import { expect, test } from "bun:test";
import { pollUntil } from "../src/sys/poll-until";

test("looks again within a few ms at first, and says whether the condition came true", async () => {
  const t0 = performance.now();
  let looks = 0;
  // true on the fourth look: with 1, 2 and 4 ms between the first looks, well under 20 ms
  expect(await pollUntil(() => ++looks === 4, 1000)).toBe(true);
  expect(looks).toBe(4);
  expect(performance.now() - t0).toBeLessThan(500);
});

test("gives up at the deadline, with the looks spaced out", async () => {
  let looks = 0;
  const t0 = performance.now();
  expect(
    await pollUntil(() => {
      looks++;
      return false;
    }, 300),
  ).toBe(false);
  expect(performance.now() - t0).toBeGreaterThanOrEqual(295);
  // 1+2+4+8+16 ms, then one look every 20 ms: about 20 looks in 300 ms, not 300
  expect(looks).toBeLessThan(40);
});
