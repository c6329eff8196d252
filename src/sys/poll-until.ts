// Waiting for another process to finish something (a container to exit, a helper to go) by looking
// again and again: there is no event to wait on across hull's processes. The first looks come 1 ms
// apart, since most waits end within a few ms (a SIGKILLed container's supervisor writes its state
// ~2 ms later, and a 5 ms step cost `hull stop -t 0` 2-5 ms); later ones 20 ms apart, so that a
// stop's 10 s grace does not read the container's files ten thousand times.

/** Look with DONE until it says true or MS have passed; whether it did. */
export async function pollUntil(done: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  let step = 1;
  while (!done()) {
    const left = until - Date.now();
    if (left <= 0) return false;
    await Bun.sleep(Math.min(step, left));
    step = Math.min(step * 2, 20);
  }
  return true;
}
