import { accessible, X_OK } from "../sys/libc";

/**
 * Absolute path of a host program hull may call (fuse-overlayfs, newuidmap...), or "". PATH first,
 * then the system's directories (a user's PATH may lack /usr/sbin, where newuidmap lives); with
 * PATH_ONLY, PATH alone: a helper a user hides from PATH is one they do not want used.
 */
export function findProgram(name: string, pathOnly = false): string {
  const dirs = (process.env.PATH ?? "").split(":").concat(pathOnly ? [] : systemDirs());
  for (const d of dirs) {
    if (d.startsWith("/") && accessible(`${d}/${name}`, X_OK)) return `${d}/${name}`;
  }
  return "";
}

/** The system's program directories; HULL_TEST_SYSTEM_DIRS (":"-separated, "" for none) stands in for a test. */
function systemDirs(): string[] {
  const test = process.env.HULL_TEST_SYSTEM_DIRS;
  if (test !== undefined) return test.split(":").filter(Boolean);
  return ["/usr/bin", "/bin", "/usr/sbin", "/sbin"];
}
