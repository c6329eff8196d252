// Mirror of ffi/abi.h: the setup message hull writes and hull-shim reads. test/abi.test.ts checks
// every value against the header, so the two cannot drift.
export const ABI = {
  HULL_ABI_MAGIC: 0x4c4c5548,
  HULL_ABI_VERSION: 1,
  HULL_REC_ARG: 1,
  HULL_REC_ENV: 2,
  HULL_REC_CWD: 3,
  HULL_REC_UID: 4,
  HULL_REC_GID: 5,
  HULL_REC_GROUP: 6,
  HULL_REC_HOSTNAME: 7,
  HULL_REC_NSFLAGS: 8,
  HULL_REC_UIDMAP: 9,
  HULL_REC_GIDMAP: 10,
  HULL_REC_UIDMAP_PROG: 11,
  HULL_REC_GIDMAP_PROG: 12,
  HULL_REC_ROOTFS: 13,
  HULL_REC_OVERLAY: 14,
  HULL_REC_FUSE_PROG: 15,
  HULL_REC_OVERLAY_MODE: 16,
  HULL_REC_CLEANUP: 17,
  HULL_REC_FLAGS: 18,
  HULL_REC_STEP: 19,
  HULL_REC_STATE_FILE: 20,
  HULL_FLAG_TTY: 1,
  HULL_FLAG_STDIN: 2,
  HULL_FLAG_READONLY: 4,
  HULL_FLAG_INIT: 8,
  HULL_FLAG_NET_LO: 16,
  HULL_FLAG_SETGROUPS: 32,
  HULL_OVERLAY_AUTO: 0,
  HULL_OVERLAY_KERNEL: 1,
  HULL_OVERLAY_FUSE: 2,
  HULL_STEP_MOUNT: 1,
  HULL_STEP_MKDIR: 2,
  HULL_STEP_SYMLINK: 3,
  HULL_STEP_READONLY: 4,
  HULL_STEP_MASK: 5,
  HULL_STAGE_PARENT: 1,
  HULL_STAGE_USERNS: 2,
  HULL_STAGE_CONTAINER: 3,
  HULL_STAGE_EXEC: 4,
  HULL_SYNC_MAPS_DONE: 1,
  HULL_EXIT_SETUP: 125,
  HULL_EXIT_CANNOT_INVOKE: 126,
  HULL_EXIT_NOT_FOUND: 127,
} as const;

/** Kernel constants the plan uses (linux/sched.h, linux/mount.h). */
export const CLONE_NEWNS = 0x00020000;
export const CLONE_NEWUTS = 0x04000000;
export const CLONE_NEWIPC = 0x08000000;
export const CLONE_NEWUSER = 0x10000000;
export const CLONE_NEWPID = 0x20000000;
export const CLONE_NEWNET = 0x40000000;

export const MS_RDONLY = 1;
export const MS_NOSUID = 2;
export const MS_NODEV = 4;
export const MS_NOEXEC = 8;
export const MS_BIND = 4096;
export const MS_REC = 16384;
export const MS_STRICTATIME = 1 << 24;
