// What `hull oci spec` writes and `hull oci features` says: a rootless bundle's config.json to start
// from (as `crun spec --rootless`), and runtime-spec's features document of what hull carries out.
import { CAPABILITIES } from "../runtime/capabilities";
import { MASKED_PATHS, READONLY_PATHS } from "../runtime/plan";
import { FLAG_WORDS, PROPAGATION } from "./bundle-plan";
import { NAMESPACES } from "./config";
import { OCI_VERSION } from "./state";

const SPEC_CAPS = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];

/**
 * A config.json for a rootfs/ beside it, running sh on a terminal as root of a user namespace
 * that maps the caller's own id (hull needs one: there is no other spec for it to write, so
 * --rootless changes nothing).
 */
export function defaultSpec(): Record<string, unknown> {
  return {
    ociVersion: OCI_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ["sh"],
      env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
      cwd: "/",
      capabilities: {
        bounding: SPEC_CAPS,
        effective: SPEC_CAPS,
        permitted: SPEC_CAPS,
        ambient: SPEC_CAPS,
      },
      rlimits: [{ type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: "rootfs", readonly: true },
    hostname: "hull",
    mounts: [
      { destination: "/proc", type: "proc", source: "proc" },
      {
        destination: "/dev",
        type: "tmpfs",
        source: "tmpfs",
        options: ["nosuid", "strictatime", "mode=755", "size=65536k"],
      },
      {
        destination: "/dev/pts",
        type: "devpts",
        source: "devpts",
        options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"],
      },
      {
        destination: "/dev/shm",
        type: "tmpfs",
        source: "shm",
        options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
      },
      { destination: "/dev/mqueue", type: "mqueue", source: "mqueue", options: ["nosuid", "noexec", "nodev"] },
      { destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"] },
    ],
    linux: {
      namespaces: [
        { type: "pid" },
        { type: "network" },
        { type: "ipc" },
        { type: "uts" },
        { type: "user" },
        { type: "mount" },
      ],
      maskedPaths: MASKED_PATHS,
      readonlyPaths: READONLY_PATHS,
    },
  };
}

/** runtime-spec's features.md document. */
export async function features(): Promise<Record<string, unknown>> {
  const { ACTIONS, OPS } = await import("../runtime/seccomp");
  return {
    ociVersionMin: "1.0.0",
    ociVersionMax: OCI_VERSION,
    hooks: ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"],
    mountOptions: [...Object.keys(FLAG_WORDS), ...Object.keys(PROPAGATION), "tmpcopyup"].sort(),
    linux: {
      namespaces: NAMESPACES,
      capabilities: CAPABILITIES,
      cgroup: { v1: false, v2: true, systemd: false, systemdUser: true, rdma: false },
      seccomp: {
        enabled: true,
        actions: ACTIONS,
        operators: OPS,
        archs: ["SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"],
      },
      apparmor: { enabled: false },
      selinux: { enabled: false },
      intelRdt: { enabled: false },
    },
  };
}
