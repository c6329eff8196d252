import { readFileText } from "../sys/libc";

/**
 * The caller's login name, which /etc/subuid is keyed by. From /etc/passwd rather than
 * os.userInfo(), which answers "unknown" in some environments (measured under Bun with a bare env).
 */
export function userName(uid = process.getuid?.() ?? 0): string {
  const passwd = readFileText("/etc/passwd") ?? "";
  for (const line of passwd.split("\n")) {
    const f = line.split(":");
    if (f[2] === String(uid) && f[0]) return f[0];
  }
  return process.env.USER || process.env.LOGNAME || String(uid);
}
