// docker's --device HOST[:CONTAINER][:PERMS], rootless: a user namespace cannot mknod, so the host's
// node is bound into the container, as rootless podman does. The kernel's own permission check on
// the node stays the boundary (no device cgroup is ours to program), so a node is given only when
// the caller may open it for reading and writing, and only as that: PERMS narrower than rw would be
// a promise nothing keeps, and are refused.
import { statSync } from "node:fs";
import { accessible, R_OK, W_OK } from "../sys/libc";

export interface DeviceMapping {
  host: string;
  container: string;
  permissions: string;
}

const PERMS = /^[rwm]{1,3}$/;

export function parseDevice(spec: string): DeviceMapping {
  const parts = spec.split(":");
  if (parts.length > 3 || parts.some((p) => p === ""))
    throw new Error(`--device ${spec}: takes HOST_PATH[:CONTAINER_PATH][:PERMISSIONS], as /dev/fuse:/dev/fuse:rw`);
  const [host = ""] = parts;
  let container = host;
  let permissions = "rwm";
  if (parts.length === 3) {
    container = parts[1] as string;
    permissions = parts[2] as string;
  } else if (parts.length === 2) {
    // docker's reading: a second part that is no path is the permissions
    if ((parts[1] as string).startsWith("/")) container = parts[1] as string;
    else permissions = parts[1] as string;
  }
  for (const [what, p] of [
    ["host path", host],
    ["container path", container],
  ] as const) {
    if (!p.startsWith("/") || p.split("/").includes(".."))
      throw new Error(`--device ${spec}: the ${what} must be absolute, without '..'`);
  }
  if (/^\/(proc|sys)(\/|$)/.test(container) || container === "/")
    throw new Error(`--device ${spec}: a device goes under /dev (or another path of the image), not ${container}`);
  if (!PERMS.test(permissions) || new Set(permissions).size !== permissions.length)
    throw new Error(`--device ${spec}: permissions are letters of rwm, each once`);
  // docker enforces them with a device cgroup, which a rootless runtime does not have: a node bound
  // in opens as the caller may open it, so "read only" would be a promise hull does not keep
  if (!permissions.includes("r") || !permissions.includes("w"))
    throw new Error(
      `--device ${spec}: a rootless container cannot be held to ${permissions} (no device cgroup): the node opens as you may open it; give rw, or leave the permissions out`,
    );
  return { host, container, permissions };
}

/** SPECS parsed, each node checked. */
export function checkedDevices(specs: string[]): DeviceMapping[] {
  const devices = specs.map((s) => parseDevice(s));
  for (const d of devices) checkDevice(d);
  return devices;
}

/** Checks that DEVICE is a node the caller may open for reading and writing. */
export function checkDevice(d: DeviceMapping): void {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(d.host);
  } catch (e) {
    throw new Error(
      `--device ${d.host}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such device" : (e as NodeJS.ErrnoException).code}`,
    );
  }
  // a directory would be bound whole: whatever else is in it too, writable, --read-only or not
  if (!st.isCharacterDevice() && !st.isBlockDevice())
    throw new Error(`--device ${d.host}: not a device node (give each node, as /dev/fuse; for a directory, -v)`);
  if (!accessible(d.host, R_OK | W_OK))
    throw new Error(
      `--device ${d.host}: you cannot open it for reading and writing, and a rootless container gets no more than you: join its group (ls -l ${d.host})`,
    );
}
