// --ulimit NAME=SOFT[:HARD] as docker takes it: the rlimits the container's processes start with.
// They need no cgroup; the kernel lets a user lower them, and raise a soft limit up to the hard one.

/** Linux's RLIMIT_* numbers (the same on x86_64 and the generic table of arm64). */
export const RESOURCES: Record<string, number> = {
  cpu: 0,
  fsize: 1,
  data: 2,
  stack: 3,
  core: 4,
  rss: 5,
  nproc: 6,
  nofile: 7,
  memlock: 8,
  as: 9,
  locks: 10,
  sigpending: 11,
  msgqueue: 12,
  nice: 13,
  rtprio: 14,
  rttime: 15,
};

export const UNLIMITED = 0xffffffffffffffffn;

export interface Rlimit {
  resource: number;
  soft: bigint;
  hard: bigint;
}

/** One --ulimit value; -1 is unlimited; a HARD below SOFT, or an unknown name, is refused. */
export function parseUlimit(text: string): Rlimit {
  const m = /^([a-z]+)=(-1|\d+)(?::(-1|\d+))?$/.exec(text);
  if (!m) throw new Error(`--ulimit takes NAME=SOFT[:HARD] (nofile=1024:2048), not ${text}`);
  const resource = RESOURCES[m[1] as string];
  if (resource === undefined)
    throw new Error(`--ulimit ${m[1]}: not a limit (it takes ${Object.keys(RESOURCES).join(", ")})`);
  const value = (v: string) => (v === "-1" ? UNLIMITED : BigInt(v));
  const soft = value(m[2] as string);
  const hard = m[3] === undefined ? soft : value(m[3]);
  if (soft > hard) throw new Error(`--ulimit ${text}: the soft limit is above the hard one`);
  return { resource, soft, hard };
}
