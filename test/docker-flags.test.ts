// Every flag docker documents for `docker run` / `docker create` (docker 28's reference, long names and
// short ones) either is hull's or is refused by name with the reason: a script written for docker
// must never meet "unknown flag".
import { expect, test } from "bun:test";
import { parseInterspersed, UsageError } from "../src/cli/argv";
import { runArgs } from "../src/cli/commands/run";

const DOCKER_RUN_LONG =
  `add-host annotation attach blkio-weight blkio-weight-device cap-add cap-drop cgroup-parent cgroupns
  cidfile cpu-count cpu-percent cpu-period cpu-quota cpu-rt-period cpu-rt-runtime cpu-shares cpus cpuset-cpus
  cpuset-mems detach detach-keys device device-cgroup-rule device-read-bps device-read-iops device-write-bps
  device-write-iops disable-content-trust dns dns-option dns-search domainname entrypoint env env-file expose
  gpus group-add health-cmd health-interval health-retries health-start-interval health-start-period
  health-timeout hostname init interactive io-maxbandwidth io-maxiops ip ip6 ipc isolation kernel-memory label
  label-file link link-local-ip log-driver log-opt mac-address memory memory-reservation memory-swap
  memory-swappiness mount name network net network-alias net-alias no-healthcheck oom-kill-disable
  oom-score-adj pid pids-limit platform privileged publish publish-all pull quiet read-only restart rm runtime
  security-opt shm-size sig-proxy stop-signal stop-timeout storage-opt sysctl tmpfs tty ulimit
  use-api-socket user userns uts volume volume-driver volumes-from workdir`
    .split(/\s+/)
    .filter(Boolean);
const DOCKER_RUN_SHORT = ["a", "c", "d", "e", "h", "i", "l", "m", "p", "P", "q", "t", "u", "v", "w"];

/** hull's verdict on FLAG given with a value: undefined when it parses, else the usage error's text. */
function verdict(flag: string): string | undefined {
  const def = (runArgs as Record<string, { type?: string }>)[flag.replace(/^-+/, "")];
  const args = def?.type === "boolean" ? [flag] : [flag, "x"];
  try {
    parseInterspersed([...args, "busybox"], runArgs, "run");
    return undefined;
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    return e.message;
  }
}

test("every docker run flag is hull's, or refused by name with a reason", () => {
  const unknown: string[] = [];
  for (const flag of [...DOCKER_RUN_LONG.map((f) => `--${f}`), ...DOCKER_RUN_SHORT.map((f) => `-${f}`)]) {
    const v = verdict(flag);
    if (v === undefined) continue;
    if (v.startsWith("unknown flag")) unknown.push(flag);
    else expect(v).toMatch(new RegExp(`^${flag} is not supported by hull run: .{10,}`));
  }
  expect(unknown).toEqual([]);
});

test("a flag neither docker nor hull has is still unknown, with the help to see", () => {
  expect(verdict("--no-such-flag")).toBe("unknown flag: --no-such-flag (see 'hull run --help')");
});
