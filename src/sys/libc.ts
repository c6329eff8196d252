// The one module that imports bun:ffi. Every libc symbol hull calls from TypeScript is declared here,
// once, typed; callers get a thrown SysError, never -1. The kernel work that needs a single-threaded
// process (clone with namespaces, id maps, mounts, pivot_root) lives in the native shim (ffi/shim.c),
// which hull execs; see docs/architecture.md.
//
// `hull run` uses these instead of node:fs because, in a compiled Bun binary, loading node:fs costs
// milliseconds at startup, and startup is what `hull run` is measured on (bench/startup).
import { dlopen, FFIType, ptr, read, type Pointer } from "bun:ffi";
import { SysError } from "./error";

/** A file descriptor owned by this process. */
export type Fd = number & { readonly __brand: "Fd" };

export const O_RDONLY = 0;
export const O_WRONLY = 0o1;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_CLOEXEC = 0o2000000;
export const F_OK = 0;
export const W_OK = 2;
export const R_OK = 4;
export const X_OK = 1;
export const MFD_CLOEXEC = 0x0001;
export const MFD_ALLOW_SEALING = 0x0002;
export const MFD_EXEC = 0x0010;
export const AT_EMPTY_PATH = 0x1000;
const AT_FDCWD = -100;
export const F_ADD_SEALS = 1033;
export const F_SEAL_SEAL = 0x0001;
export const F_SEAL_SHRINK = 0x0002;
export const F_SEAL_GROW = 0x0004;
export const F_SEAL_WRITE = 0x0008;
const EINTR = 4;
const EEXIST = 17;
const EINVAL = 22;
const ENOENT = 2;
const ESRCH = 3;
const ENOTDIR = 20;
const ENXIO = 6;
const O_NONBLOCK = 0o4000;
const O_NOCTTY = 0o400;
const O_DIRECTORY = 0o200000;
const O_PATH = 0o10000000;
const SYS_openat2 = 437; // the same number on x86_64 and the generic table (arm64)
const RESOLVE_NO_MAGICLINKS = 0x02;
const RESOLVE_IN_ROOT = 0x10;

const { i32, u32, ptr: P, cstring } = FFIType;
const lib = dlopen("libc.so.6", {
  memfd_create: { args: [cstring, u32], returns: i32 },
  execveat: { args: [i32, cstring, P, P, i32], returns: i32 },
  fcntl: { args: [i32, i32, i32], returns: i32 },
  open: { args: [cstring, i32, u32], returns: i32 },
  read: { args: [i32, P, FFIType.u64], returns: FFIType.i64 },
  write: { args: [i32, P, FFIType.u64], returns: FFIType.i64 },
  fsync: { args: [i32], returns: i32 },
  close: { args: [i32], returns: i32 },
  rename: { args: [cstring, cstring], returns: i32 },
  unlink: { args: [cstring], returns: i32 },
  symlink: { args: [cstring, cstring], returns: i32 },
  readlink: { args: [cstring, P, FFIType.u64], returns: FFIType.i64 },
  mkdir: { args: [cstring, u32], returns: i32 },
  access: { args: [cstring, i32], returns: i32 },
  isatty: { args: [i32], returns: i32 },
  realpath: { args: [cstring, P], returns: P },
  getdents64: { args: [i32, P, FFIType.u64], returns: FFIType.i64 },
  openat: { args: [i32, P, i32, u32], returns: i32 },
  unlinkat: { args: [i32, P, i32], returns: i32 },
  fchmodat: { args: [i32, P, u32, i32], returns: i32 },
  statx: { args: [i32, P, i32, u32, P], returns: i32 },
  flock: { args: [i32, i32], returns: i32 },
  mknod: { args: [cstring, u32, FFIType.u64], returns: i32 },
  lsetxattr: { args: [cstring, cstring, P, FFIType.u64, i32], returns: i32 },
  lgetxattr: { args: [cstring, cstring, P, FFIType.u64], returns: FFIType.i64 },
  syscall: { args: [FFIType.i64, i32, cstring, P, FFIType.u64], returns: FFIType.i64 },
  __errno_location: { args: [], returns: P },
  signal: { args: [i32, FFIType.u64], returns: FFIType.u64 },
  socket: { args: [i32, i32, i32], returns: i32 },
  connect: { args: [i32, P, u32], returns: i32 },
  bind: { args: [i32, P, u32], returns: i32 },
  setsockopt: { args: [i32, i32, i32, P, u32], returns: i32 },
});

const trace = process.env.HULL_TRACE_FFI === "1";

/**
 * errno's address: thread-local, and every call here runs on the thread that loaded this module (a
 * Worker loads a module instance of its own). Asked once: `hull ps` of 200 containers sees some
 * 400 ENOENTs, each of which cost a second FFI call.
 */
const errnoAt = lib.symbols.__errno_location() as Pointer;

function errno(): number {
  return read.i32(errnoAt, 0);
}

function check(name: string, ret: number, path?: string): number {
  if (trace) console.error(`ffi: ${name}(${path ?? ""}) = ${ret}${ret < 0 ? ` errno ${errno()}` : ""}`);
  if (ret < 0) throw new SysError(name, errno(), path);
  return ret;
}

function cstr(s: string): Buffer {
  return Buffer.from(`${s}\0`);
}

const encoder = new TextEncoder();
const utf8 = new TextDecoder();
const scratch = [new Uint8Array(4097), new Uint8Array(4097)] as const;
const scratchBody = [scratch[0].subarray(0, 4096), scratch[1].subarray(0, 4096)] as const;

/**
 * S as a C string in scratch buffer SLOT, for a call that uses it before it returns. A fresh Buffer
 * per path was most of what an FFI call cost: `hull ps` of 200 containers makes 600 opens, at 13-16
 * µs each with the Buffer and 2.2 µs for C's own. A string longer than the buffer gets its own.
 */
function carg(s: string, slot: 0 | 1 = 0): Uint8Array {
  const { read, written } = encoder.encodeInto(s, scratchBody[slot]);
  if (read !== s.length) return cstr(s);
  const buf = scratch[slot];
  buf[written] = 0;
  return buf;
}

export function memfdCreate(name: string, flags: number): Fd {
  let ret = lib.symbols.memfd_create(carg(name), flags);
  // Kernels before 6.3 do not know MFD_EXEC; an executable memfd is their default.
  if (ret < 0 && flags & MFD_EXEC && errno() === EINVAL) ret = lib.symbols.memfd_create(carg(name), flags & ~MFD_EXEC);
  return check("memfd_create", ret, name) as Fd;
}

export function addSeals(fd: Fd, seals: number): void {
  check("fcntl(F_ADD_SEALS)", lib.symbols.fcntl(fd, F_ADD_SEALS, seals));
}

export function open(path: string, flags: number, mode = 0o644): Fd {
  return check("open", lib.symbols.open(carg(path), flags | O_CLOEXEC, mode), path) as Fd;
}

/** The FIFO at PATH opened for writing without waiting, or undefined when nothing reads it (ENXIO). */
export function openFifoWriter(path: string): Fd | undefined {
  const ret = lib.symbols.open(carg(path), O_WRONLY | O_NONBLOCK | O_CLOEXEC, 0);
  if (ret < 0 && errno() === ENXIO) return undefined;
  return check("open", ret, path) as Fd;
}

export function writeAll(fd: Fd, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) {
    const n = Number(lib.symbols.write(fd, ptr(data, off), data.length - off));
    if (n < 0 && errno() === EINTR) continue;
    check("write", n);
    off += n;
  }
}

/**
 * The whole of a small file, read synchronously, or undefined when it does not exist. `hull run`
 * reads /etc/subuid, the image's /etc/passwd and the like this way: Bun's async reads would start
 * its thread pool, which costs more than the reads.
 */
export function readFileText(path: string, nonBlocking = false): string | undefined {
  // NON_BLOCKING: a fifo reads as empty instead of waiting for a writer (a path a user names)
  const fd = lib.symbols.open(carg(path), O_RDONLY | O_CLOEXEC | (nonBlocking ? O_NONBLOCK : 0), 0);
  if (fd < 0) {
    if (errno() === 2) return undefined;
    check("open", fd, path);
  }
  try {
    return readAll(fd, path);
  } catch (e) {
    // /proc/PID/... of a process that ended between the open and the read: gone, as ENOENT is
    if (e instanceof SysError && e.errno === ESRCH) return undefined;
    throw e;
  } finally {
    lib.symbols.close(fd);
  }
}

/**
 * One buffer for every read: a fresh 64 KiB array per read (zeroed by the engine) made `hull ps` of
 * 200 containers spend a quarter of its time allocating. Reads are synchronous, so nothing else
 * uses it meanwhile; what is read is decoded (copied) before the next read.
 */
const readBuffer = new Uint8Array(65536);

/** FD's bytes to its end as UTF-8 (at most MAX; EAGAIN_ENDS: a fifo with nothing written ends it). */
function readAll(fd: number, path: string, max = Number.POSITIVE_INFINITY, eagainEnds = false): string {
  const spilled: Buffer[] = [];
  let used = 0;
  let total = 0;
  for (;;) {
    if (used === readBuffer.length) {
      spilled.push(Buffer.from(readBuffer));
      used = 0;
    }
    const n = Number(lib.symbols.read(fd, ptr(readBuffer, used), readBuffer.length - used));
    if (n < 0 && errno() === EINTR) continue;
    if (n < 0 && eagainEnds && errno() === 11) break;
    check("read", n, path);
    if (n === 0) break;
    used += n;
    total += n;
    if (total > max) throw new Error(`${path} is larger than ${max} bytes`);
  }
  const tail = Buffer.from(readBuffer.buffer, readBuffer.byteOffset, used);
  return spilled.length === 0 ? tail.toString("utf8") : Buffer.concat([...spilled, tail]).toString("utf8");
}

/**
 * A small file of a container's or a layer's tree, as a process chrooted at ROOT would see it: the
 * tree's symlinks are followed inside ROOT only (openat2 RESOLVE_IN_ROOT, so `/etc/passwd ->
 * /home/me/x` names ROOT/home/me/x), opened without blocking (a fifo there reads as empty instead
 * of hanging), and read to at most MAX bytes (a link to /dev/zero ends in an error, not in all the
 * memory there is). Undefined when nothing is there.
 */
export function readFileInRoot(root: string, path: string, max: number): string | undefined {
  const dirfd = lib.symbols.open(carg(root), O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
  if (dirfd < 0) {
    if (errno() === ENOENT) return undefined;
    check("open", dirfd, root);
  }
  let fd: number;
  try {
    const how = new BigUint64Array([BigInt(O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC), 0n, 0n]);
    how[2] = BigInt(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
    fd = Number(lib.symbols.syscall(SYS_openat2, dirfd, carg(path), ptr(how), how.byteLength));
    if (trace) console.error(`ffi: openat2(${root}, ${path}) = ${fd}`);
  } finally {
    lib.symbols.close(dirfd);
  }
  if (fd < 0) {
    const e = errno();
    if (e === ENOENT || e === ENOTDIR) return undefined;
    throw new SysError("openat2", e, `${root}:${path}`);
  }
  try {
    // EAGAIN: a fifo with a writer and nothing written
    return readAll(fd, `${path} in ${root}`, max, true);
  } finally {
    lib.symbols.close(fd);
  }
}

export function fsync(fd: Fd): void {
  check("fsync", lib.symbols.fsync(fd));
}

export function close(fd: Fd): void {
  check("close", lib.symbols.close(fd));
}

export function rename(from: string, to: string): void {
  check("rename", lib.symbols.rename(carg(from), carg(to, 1)), to);
}

/** unlink, ignoring a file that is already gone. */
/** unlink(2); false when there was nothing to remove. */
export function unlinkIfExists(path: string): boolean {
  const ret = lib.symbols.unlink(carg(path));
  if (ret < 0 && errno() === 2) return false;
  check("unlink", ret, path);
  return true;
}

/** symlink(2); false when LINKPATH exists already (the atomic test-and-set names rely on). */
export function symlinkIfAbsent(target: string, linkpath: string): boolean {
  const ret = lib.symbols.symlink(carg(target), carg(linkpath, 1));
  if (ret < 0 && errno() === EEXIST) return false;
  check("symlink", ret, linkpath);
  return true;
}

/** readlink(2), or undefined when PATH does not exist. */
export function readlink(path: string): string | undefined {
  const buf = new Uint8Array(4096);
  const n = Number(lib.symbols.readlink(carg(path), ptr(buf), buf.length));
  if (n < 0 && errno() === 2) return undefined;
  check("readlink", n, path);
  return utf8.decode(buf.subarray(0, n));
}

/**
 * The names in directory PATH (no . or ..), in the directory's order as readdirSync gives them;
 * undefined when it does not exist. node:fs costs ~3 ms to load in a compiled binary, and `hull
 * ps` and `hull images` needed it for this alone.
 */
export function readDir(path: string): string[] | undefined {
  const fd = lib.symbols.open(carg(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (fd < 0) {
    if (errno() === ENOENT) return undefined;
    check("open", fd, path);
  }
  const names: string[] = [];
  const view = new DataView(readBuffer.buffer, readBuffer.byteOffset, readBuffer.byteLength);
  try {
    for (;;) {
      const n = Number(lib.symbols.getdents64(fd, ptr(readBuffer), readBuffer.length));
      if (n < 0 && errno() === EINTR) continue;
      check("getdents64", n, path);
      if (n === 0) break;
      // struct linux_dirent64: ino (8), off (8), reclen (2), type (1), name (NUL-terminated)
      for (let at = 0; at < n; ) {
        const reclen = view.getUint16(at + 16, true);
        const start = at + 19;
        const end = readBuffer.indexOf(0, start);
        const name = utf8.decode(readBuffer.subarray(start, end));
        if (name !== "." && name !== "..") names.push(name);
        at += reclen;
      }
    }
  } finally {
    lib.symbols.close(fd);
  }
  return names;
}

const O_NOFOLLOW = 0o400000;
const AT_REMOVEDIR = 0x200;
const EACCES = 13;
const EISDIR = 21;
const ELOOP = 40;
const ENOTEMPTY = 39;
const DT_DIR = 4;
/** ".." as a C string, for the climb back up */
const DOTDOT = new Uint8Array([46, 46, 0]);

/** NAME (a C string's address) under DIRFD as a directory, never through a link */
function openDir(dirfd: number, name: Pointer): number {
  return lib.symbols.openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
}

/** openDir, for a removal: one of mode 000 (overlay's work/work) is opened after a chmod */
function openDirAt(dirfd: number, name: Pointer): number {
  const fd = openDir(dirfd, name);
  if (fd >= 0 || errno() !== EACCES) return fd;
  lib.symbols.fchmodat(dirfd, name, 0o700, 0);
  return openDir(dirfd, name);
}

/**
 * FN on each entry of directory FD but "." and "..", with its d_type and the offset of its name (a
 * C string) in readBuffer, in the order the kernel gives them; FN false stops. False when FN
 * stopped or getdents64 failed.
 */
function eachEntry(fd: number, fn: (type: number, start: number) => boolean): boolean {
  const view = new DataView(readBuffer.buffer, readBuffer.byteOffset, readBuffer.byteLength);
  for (;;) {
    const n = Number(lib.symbols.getdents64(fd, ptr(readBuffer), readBuffer.length));
    if (n < 0 && errno() === EINTR) continue;
    if (n < 0) return false;
    if (n === 0) return true;
    for (let at = 0; at < n; ) {
      const reclen = view.getUint16(at + 16, true);
      const type = readBuffer[at + 18] as number;
      const start = at + 19;
      at += reclen;
      const dot = readBuffer[start] === 46;
      if (dot && (readBuffer[start + 1] === 0 || (readBuffer[start + 1] === 46 && readBuffer[start + 2] === 0)))
        continue;
      if (!fn(type, start)) return false;
    }
  }
}

/** The name at START in readBuffer, with its NUL, in a buffer of its own */
const entryName = (start: number) => readBuffer.slice(start, readBuffer.indexOf(0, start) + 1);

/**
 * Unlink what directory FD holds, reading it once: the names (as the kernel gave their bytes: a name
 * need not be UTF-8) of the subdirectories not empty yet, or undefined for an entry that cannot be
 * removed.
 */
function scanDir(fd: number): Uint8Array[] | undefined {
  const subs: Uint8Array[] = [];
  const whole = eachEntry(fd, (type, start) => {
    const name = ptr(readBuffer, start);
    if (type !== DT_DIR) {
      if (lib.symbols.unlinkat(fd, name, 0) === 0 || errno() === ENOENT) return true;
      if (errno() !== EISDIR) return false;
    }
    if (lib.symbols.unlinkat(fd, name, AT_REMOVEDIR) === 0 || errno() === ENOENT) return true;
    if (errno() !== ENOTEMPTY && errno() !== EEXIST) return false;
    subs.push(entryName(start));
    return true;
  });
  return whole ? subs : undefined;
}

/**
 * Walk the tree whose top directory is open as TOP (closed when the walk ends), as the shim's
 * remove_tree walks: a loop with one directory open at a time, down by name and up by "..", each
 * directory read once (SCAN: what it does there, and the subdirectories to go down into; undefined
 * stops the walk), what is left to visit kept in memory. ENTER opens a subdirectory under its
 * parent; one it cannot open stops the walk when STRICT, else it is left out. LEAVE runs in the
 * parent once a subdirectory is done (false stops the walk). Each ".." must be the directory the walk
 * came down from: a tree moved under the walk ends it rather than let it climb out. A container
 * can nest directories thousands deep, or put 40,000 full directories side by side: a walk by
 * paths from the top stops at PATH_MAX and costs the square of the depth, and reading a parent
 * again after each subdirectory the square of their number. True when the walk reached its end.
 */
function walkTree(
  top: number,
  step: {
    scan: (fd: number) => Uint8Array[] | undefined;
    enter: (parent: number, name: Pointer) => number;
    strict: boolean;
    leave?: (parent: number, name: Uint8Array) => boolean;
  },
): boolean {
  let cur = top;
  const stack: { subs: Uint8Array[]; name?: Uint8Array; id: string }[] = [];
  try {
    let name: Uint8Array | undefined;
    for (;;) {
      if (stack.length === 0 || name) {
        const id = identity(cur);
        if (id === undefined) return false;
        const subs = step.scan(cur);
        if (!subs) return false;
        stack.push({ subs, name, id });
        name = undefined;
      }
      const sub = stack[stack.length - 1]?.subs.pop();
      if (sub) {
        const next = step.enter(cur, ptr(sub));
        if (next < 0) {
          if (step.strict) return false;
          continue;
        }
        lib.symbols.close(cur);
        cur = next;
        name = sub;
        continue;
      }
      if (stack.length === 1) return true;
      const up = lib.symbols.openat(cur, ptr(DOTDOT), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
      if (up < 0) return false;
      if (identity(up) !== stack[stack.length - 2]?.id) {
        lib.symbols.close(up);
        return false;
      }
      lib.symbols.close(cur);
      cur = up;
      const done = stack.pop();
      if (step.leave && !step.leave(cur, done?.name as Uint8Array)) return false;
    }
  } finally {
    lib.symbols.close(cur);
  }
}

/**
 * Remove PATH and everything below it, as this process may: true when it is gone, false when an
 * entry could not be removed (a file of another id in a directory that is not ours), which leaves
 * the rest in place. Walked by walkTree (rm -f also waits for the container's pid 1, which the
 * kernel ends only after the rest of its pid namespace: none of its processes is left to move the
 * tree).
 */
export function removeOwnTree(path: string): boolean {
  const top = openDirAt(AT_FDCWD, ptr(carg(path)));
  if (top < 0) {
    if (errno() === ENOENT) return true;
    // a file or a link in its place: itself only
    if (errno() !== ENOTDIR && errno() !== ELOOP) return false;
    return lib.symbols.unlink(carg(path)) === 0 || errno() === ENOENT;
  }
  const emptied = walkTree(top, {
    scan: scanDir,
    enter: openDirAt,
    strict: true,
    leave: (parent, name) => lib.symbols.unlinkat(parent, ptr(name), AT_REMOVEDIR) === 0 || errno() === ENOENT,
  });
  return emptied && (lib.symbols.unlinkat(AT_FDCWD, ptr(carg(path)), AT_REMOVEDIR) === 0 || errno() === ENOENT);
}

const AT_SYMLINK_NOFOLLOW = 0x100;
const STATX_TYPE = 0x1;
const STATX_NLINK = 0x4;
const STATX_INO = 0x100;
const STATX_SIZE = 0x200;
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const statxBuffer = new Uint8Array(256);
const statxView = new DataView(statxBuffer.buffer);

const EMPTY = new Uint8Array(1);

/** st_dev (major:minor) and st_ino of what statx last filled statxBuffer with */
const statxKey = () =>
  `${statxView.getUint32(136, true)}:${statxView.getUint32(140, true)}:${statxView.getBigUint64(32, true)}`;

/** What directory FD is (through statx: fstat is exported by glibc only since 2.33) */
function identity(fd: number): string | undefined {
  return lib.symbols.statx(fd, ptr(EMPTY), AT_EMPTY_PATH, STATX_INO, ptr(statxBuffer)) < 0 ? undefined : statxKey();
}

/**
 * The bytes the files under PATH hold (every entry but a directory, by its size: a link's is its
 * target's length), a file of several names once; what cannot be read is skipped, and 0 when PATH
 * is no directory. Walked by walkTree: a walk by paths stopped at PATH_MAX, so a container's files
 * nested 3,000 deep were not counted at all (`ps -s` and `system df` showed 0 B for 50 MB).
 */
export function treeBytes(path: string): number {
  // opened as it is: openDirAt's chmod of a mode-000 directory is for a removal, not for a measure
  const top = openDir(AT_FDCWD, ptr(carg(path)));
  if (top < 0) return 0;
  let total = 0;
  const seen = new Set<string>();
  const mask = STATX_TYPE | STATX_NLINK | STATX_INO | STATX_SIZE;
  const scan = (fd: number): Uint8Array[] => {
    const subs: Uint8Array[] = [];
    eachEntry(fd, (type, start) => {
      if (type === DT_DIR) {
        subs.push(entryName(start));
        return true;
      }
      if (lib.symbols.statx(fd, ptr(readBuffer, start), AT_SYMLINK_NOFOLLOW, mask, ptr(statxBuffer)) < 0) return true;
      if ((statxView.getUint16(28, true) & S_IFMT) === S_IFDIR) {
        subs.push(entryName(start));
        return true;
      }
      if (statxView.getUint32(16, true) > 1) {
        const key = statxKey();
        if (seen.has(key)) return true;
        seen.add(key);
      }
      total += Number(statxView.getBigUint64(40, true));
      return true;
    });
    return subs;
  };
  walkTree(top, {
    scan,
    enter: openDir,
    // one this user may not read is left out
    strict: false,
  });
  return total;
}

/** realpath(3): PATH with every link and . or .. resolved; undefined when it does not exist. */
export function realPath(path: string): string | undefined {
  const buf = new Uint8Array(4097);
  const ret = lib.symbols.realpath(carg(path), ptr(buf));
  if (!ret) {
    if (errno() === 2 || errno() === 20) return undefined;
    throw new SysError("realpath", errno(), path);
  }
  return utf8.decode(buf.subarray(0, buf.indexOf(0)));
}

/** mkdir; an existing directory is success when EXIST_OK. */
export function mkdir(path: string, mode = 0o755, existOk = false): void {
  const ret = lib.symbols.mkdir(carg(path), mode);
  if (ret < 0 && existOk && errno() === EEXIST) return;
  check("mkdir", ret, path);
}

/** access(2) as a boolean: does PATH exist (F_OK) or may we run it (X_OK)? */
export function accessible(path: string, mode: number): boolean {
  const ret = lib.symbols.access(carg(path), mode);
  if (trace) console.error(`ffi: access(${path}, ${mode}) = ${ret}`);
  return ret === 0;
}

export const LOCK_SH = 1;
export const LOCK_EX = 2;

/** flock(2), retried on EINTR: blocks until FD holds the lock. */
export function flock(fd: Fd, op: number): void {
  for (;;) {
    const ret = lib.symbols.flock(fd, op);
    if (ret < 0 && errno() === EINTR) continue;
    check("flock", ret);
    return;
  }
}

export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;

/** mknod(2); used for overlay whiteouts (a 0:0 character device), which a user namespace may create. */
export function mknod(path: string, mode: number, dev: number): void {
  check("mknod", lib.symbols.mknod(carg(path), mode, dev), path);
}

/** lsetxattr(2) on PATH itself, never a symlink's target. */
export function lsetxattr(path: string, name: string, value: Uint8Array): void {
  check(
    "lsetxattr",
    lib.symbols.lsetxattr(carg(path), carg(name, 1), ptr(value.length ? value : new Uint8Array(1)), value.length, 0),
    path,
  );
}

/** lgetxattr(2): the attribute's value, or undefined when PATH has no such attribute. */
export function lgetxattr(path: string, name: string): Uint8Array | undefined {
  const buf = new Uint8Array(65536);
  const n = Number(lib.symbols.lgetxattr(carg(path), carg(name, 1), ptr(buf), buf.length));
  if (n < 0 && errno() === 61) return undefined; // ENODATA
  check("lgetxattr", n, path);
  return buf.slice(0, n);
}

export function isatty(fd: number): boolean {
  return lib.symbols.isatty(fd) === 1;
}

/** Replaces this process with the program in FD. Returns only by throwing. */
export function execveat(fd: Fd, argv: string[], env: string[]): never {
  return execIn(fd, "", argv, env, AT_EMPTY_PATH);
}

/** Replaces this process with the program at PATH (absolute). Returns only by throwing. */
export function execve(path: string, argv: string[], env: string[]): never {
  return execIn(AT_FDCWD as Fd, path, argv, env, 0);
}

function execIn(fd: Fd, path: string, argv: string[], env: string[], flags: number): never {
  const keep: Buffer[] = [];
  const table = (list: string[]) => {
    const arr = new BigUint64Array(list.length + 1);
    list.forEach((s, i) => {
      const b = cstr(s);
      keep.push(b);
      arr[i] = BigInt(ptr(b));
    });
    return arr;
  };
  const a = table(argv);
  const e = table(env);
  check("execveat", lib.symbols.execveat(fd, carg(path), ptr(a), ptr(e), flags), path || argv[0]);
  throw new SysError("execveat", 0, path || argv[0]);
}

const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOL_SOCKET = 1;
const SO_RCVTIMEO = 20;
const SO_SNDTIMEO = 21;

/**
 * A stream connected to the unix socket at PATH, whose reads and writes fail with EAGAIN after
 * TIMEOUT_MS: synchronous, for a short exchange (systemd's D-Bus socket) on `hull run`'s path,
 * where an event loop round trip costs more than the exchange.
 */
export function unixConnect(path: string, timeoutMs: number): Fd {
  const fd = check("socket", lib.symbols.socket(AF_UNIX, SOCK_STREAM | O_CLOEXEC, 0)) as Fd;
  try {
    const name = Buffer.from(path);
    if (name.length >= 108) throw new SysError("connect", 36 /* ENAMETOOLONG */, path);
    const addr = new Uint8Array(110);
    addr[0] = AF_UNIX;
    addr.set(name, 2);
    const tv = new BigInt64Array([BigInt(Math.floor(timeoutMs / 1000)), BigInt((timeoutMs % 1000) * 1000)]);
    check("setsockopt(SO_RCVTIMEO)", lib.symbols.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, ptr(tv), 16));
    check("setsockopt(SO_SNDTIMEO)", lib.symbols.setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, ptr(tv), 16));
    for (;;) {
      const r = lib.symbols.connect(fd, ptr(addr), 2 + name.length + 1);
      if (r < 0 && errno() === EINTR) continue;
      check("connect", r, path);
      return fd;
    }
  } catch (e) {
    lib.symbols.close(fd);
    throw e;
  }
}

const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_DGRAM = 2;

/**
 * Bind a UDP socket to ADDRESS (4 or 16 bytes, network order) and PORT, and close it: throws the
 * kernel's refusal (EADDRINUSE). Without SO_REUSEADDR, which Bun's own UDP sockets set and a helper
 * such as pasta sets too: with it on both sides a second bind succeeds and steals the datagrams.
 */
export function probeUdpBind(address: Uint8Array, port: number): void {
  const v6 = address.length === 16;
  const fd = check("socket", lib.symbols.socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | O_CLOEXEC, 0)) as Fd;
  try {
    // sockaddr_in (16 bytes) or sockaddr_in6 (28): family, port in network order, the address
    const addr = new Uint8Array(v6 ? 28 : 16);
    new DataView(addr.buffer).setUint16(0, v6 ? AF_INET6 : AF_INET, true);
    new DataView(addr.buffer).setUint16(2, port, false);
    addr.set(address, v6 ? 8 : 4);
    check("bind", lib.symbols.bind(fd, ptr(addr), addr.length));
  } finally {
    lib.symbols.close(fd);
  }
}

/** What one read(2) of FD gives, into BUF: the byte count, 0 at the end. */
export function readSome(fd: Fd, buf: Uint8Array): number {
  for (;;) {
    const n = Number(lib.symbols.read(fd, ptr(buf), buf.length));
    if (n < 0 && errno() === EINTR) continue;
    return check("read", n);
  }
}

const SIGPIPE = 13;
const SIG_IGN = 1n;
let pipeIgnored = false;

/**
 * A write to a pipe whose reader is gone fails with EPIPE instead of killing hull: Bun leaves
 * SIGPIPE at its default, which ended `hull cp web:/d - | head` before it could continue the
 * container it had paused.
 */
export function ignoreBrokenPipe(): void {
  if (pipeIgnored) return;
  lib.symbols.signal(SIGPIPE, SIG_IGN);
  pipeIgnored = true;
}
