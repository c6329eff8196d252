// The caller's home directory: $HOME, as os.homedir() answers first. node:os is loaded only where
// HOME is unset, for its password-database lookup: loading it cost every command ~1.5 ms of start
// (a CPU profile of `hull run`), and HOME is set in nearly every session.
export function homeDir(): string {
  const home = process.env.HOME;
  if (home) return home;
  const os = require("node:os") as typeof import("node:os");
  return os.homedir();
}
