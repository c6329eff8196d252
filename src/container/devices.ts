// docker's --device HOST[:CONTAINER][:PERMS], rootless: a user namespace cannot mknod, so the host's
// node is bound into the container's /dev, as rootless podman does. The kernel's own permission
// check on the node stays the boundary (no device cgroup is ours to program), so a device is given
// only when the caller may open it as PERMS asks; m (mknod) cannot be given at all.
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
  return { host, container, permissions };
}

/** Checks that the caller may open DEVICE's node as it asks; a directory gives what it holds. */
export function checkDevice(d: DeviceMapping): void {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(d.host);
  } catch (e) {
    throw new Error(
      `--device ${d.host}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such device" : (e as NodeJS.ErrnoException).code}`,
    );
  }
  if (!st.isCharacterDevice() && !st.isBlockDevice() && !st.isDirectory())
    throw new Error(`--device ${d.host}: not a device (give a node under /dev, or a directory of them)`);
  const mode = (d.permissions.includes("r") ? R_OK : 0) | (d.permissions.includes("w") ? W_OK : 0);
  if (mode !== 0 && !accessible(d.host, mode))
    throw new Error(
      `--device ${d.host}: you cannot open it for ${d.permissions
        .replace("m", "")
        .split("")
        .map((c) => (c === "r" ? "reading" : "writing"))
        .join(
          " and ",
        )}, and a rootless container gets no more than you: ask for it in its group (ls -l ${d.host}), or give fewer permissions`,
    );
}
