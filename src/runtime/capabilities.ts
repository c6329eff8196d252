// Linux capabilities by name (linux/capability.h), Docker's default set, and the --cap-add/--cap-drop
// arithmetic, so `hull run` hands the shim one bounding set as a 64-bit mask.
export const CAPABILITIES = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_DAC_READ_SEARCH",
  "CAP_FOWNER",
  "CAP_FSETID",
  "CAP_KILL",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETPCAP",
  "CAP_LINUX_IMMUTABLE",
  "CAP_NET_BIND_SERVICE",
  "CAP_NET_BROADCAST",
  "CAP_NET_ADMIN",
  "CAP_NET_RAW",
  "CAP_IPC_LOCK",
  "CAP_IPC_OWNER",
  "CAP_SYS_MODULE",
  "CAP_SYS_RAWIO",
  "CAP_SYS_CHROOT",
  "CAP_SYS_PTRACE",
  "CAP_SYS_PACCT",
  "CAP_SYS_ADMIN",
  "CAP_SYS_BOOT",
  "CAP_SYS_NICE",
  "CAP_SYS_RESOURCE",
  "CAP_SYS_TIME",
  "CAP_SYS_TTY_CONFIG",
  "CAP_MKNOD",
  "CAP_LEASE",
  "CAP_AUDIT_WRITE",
  "CAP_AUDIT_CONTROL",
  "CAP_SETFCAP",
  "CAP_MAC_OVERRIDE",
  "CAP_MAC_ADMIN",
  "CAP_SYSLOG",
  "CAP_WAKE_ALARM",
  "CAP_BLOCK_SUSPEND",
  "CAP_AUDIT_READ",
  "CAP_PERFMON",
  "CAP_BPF",
  "CAP_CHECKPOINT_RESTORE",
] as const;

export type Capability = (typeof CAPABILITIES)[number];

/** Docker's default set (moby oci/caps/defaults.go). */
export const DEFAULT_CAPS: readonly Capability[] = [
  "CAP_CHOWN",
  "CAP_DAC_OVERRIDE",
  "CAP_FSETID",
  "CAP_FOWNER",
  "CAP_MKNOD",
  "CAP_NET_RAW",
  "CAP_SETGID",
  "CAP_SETUID",
  "CAP_SETFCAP",
  "CAP_SETPCAP",
  "CAP_NET_BIND_SERVICE",
  "CAP_SYS_CHROOT",
  "CAP_KILL",
  "CAP_AUDIT_WRITE",
];

/** "net_admin", "NET_ADMIN", "CAP_NET_ADMIN" -> "CAP_NET_ADMIN"; "all" -> "ALL"; else a clear error. */
export function capabilityName(raw: string): Capability | "ALL" {
  const up = raw.trim().toUpperCase();
  if (up === "ALL") return "ALL";
  const name = up.startsWith("CAP_") ? up : `CAP_${up}`;
  if (!(CAPABILITIES as readonly string[]).includes(name))
    throw new Error(`unknown capability ${JSON.stringify(raw)}: see capabilities(7) for the names`);
  return name as Capability;
}

/**
 * The container's capabilities as Docker computes them: every capability when --privileged or when
 * --cap-add has ALL; else the default set, or nothing when --cap-drop has ALL, then the additions,
 * less the drops. Sorted in the kernel's order.
 */
export function capabilitySet(o: { privileged: boolean; capAdd: string[]; capDrop: string[] }): Capability[] {
  const add = o.capAdd.map(capabilityName);
  const drop = o.capDrop.map(capabilityName);
  if (o.privileged || add.includes("ALL")) return [...CAPABILITIES];
  const set = new Set<Capability>(drop.includes("ALL") ? [] : DEFAULT_CAPS);
  for (const c of add) set.add(c as Capability);
  for (const c of drop) if (c !== "ALL" && !add.includes(c)) set.delete(c);
  return CAPABILITIES.filter((c) => set.has(c));
}

/** The set as the kernel's bit mask (bit N = capability N). */
export function capabilityMask(caps: readonly Capability[]): bigint {
  let mask = 0n;
  for (const c of caps) mask |= 1n << BigInt(CAPABILITIES.indexOf(c));
  return mask;
}
