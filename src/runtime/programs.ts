import { accessible, X_OK } from "../sys/libc";

/** Absolute path of a host program hull may call (fuse-overlayfs, newuidmap...), or "". */
export function findProgram(name: string): string {
  const dirs = (process.env.PATH ?? "").split(":").concat(["/usr/bin", "/bin", "/usr/sbin", "/sbin"]);
  for (const d of dirs) {
    if (d.startsWith("/") && accessible(`${d}/${name}`, X_OK)) return `${d}/${name}`;
  }
  return "";
}
