import { errnoName } from "./errno";

/** A failed system call: the only error type created in src/sys/. Upper layers wrap it with `cause`. */
export class SysError extends Error {
  readonly syscall: string;
  readonly errno: number;
  readonly code: string;
  readonly path?: string;

  constructor(syscall: string, errno: number, path?: string) {
    const code = errnoName(errno);
    super(`${syscall}${path ? ` ${path}` : ""}: ${code}`);
    this.name = "SysError";
    this.syscall = syscall;
    this.errno = errno;
    this.code = code;
    this.path = path;
  }
}
