import { accessible, X_OK } from "../sys/libc";

/**
 * Absolute path of a host program hull may call (fuse-overlayfs, newuidmap...), or "". PATH first,
 * then the system's directories (a user's PATH may lack /usr/sbin, where newuidmap lives); with
 * PATH_ONLY, PATH alone: a helper a user hides from PATH is one they do not want used.
 */
export function findProgram(name: string, pathOnly = false): string {
  const dirs = (process.env.PATH ?? "").split(":").concat(pathOnly ? [] : ["/usr/bin", "/bin", "/usr/sbin", "/sbin"]);
  for (const d of dirs) {
    if (d.startsWith("/") && accessible(`${d}/${name}`, X_OK)) return `${d}/${name}`;
  }
  return "";
}
