// Commands that take several names (rm, stop, kill, rmi...) act on each, as docker does: a failure
// is one line of its own and the others still happen; the exit status is 1 when any failed.
import { printErr } from "./output";
import { visible } from "../sys/control-chars";

export async function eachName(
  names: string[],
  act: (name: string) => Promise<void> | void,
  /** failures that are not failures (rm -f of a container that is not there) */
  ignore: (e: unknown) => boolean = () => false,
): Promise<void> {
  let failed = false;
  for (const name of names) {
    try {
      await act(name);
    } catch (e) {
      if (ignore(e)) continue;
      printErr(`hull: ${visible((e as Error).message)}`);
      failed = true;
    }
  }
  if (failed) process.exitCode = 1;
}
