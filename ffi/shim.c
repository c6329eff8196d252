/* hull-shim: the native half of `hull run`.
 *
 * Bun is multi-threaded from its first instruction, and the kernel refuses unshare(CLONE_NEWUSER)
 * to a multi-threaded process. So hull (TypeScript) validates everything, writes a flat setup
 * message (ffi/abi.h) into a memfd and execs this program, which is single-threaded and owns the
 * rest of the container's life. Three processes, like runc's nsexec:
 *
 *   parent (host)                 userns stage                    container stage (pid 1)
 *   ------------------------      --------------------------      ---------------------------
 *   read setup message
 *   clone(NEWUSER|NEWNS) -------> wait for maps
 *   newuidmap/newgidmap
 *   SYNC_MAPS_DONE ------------->  become root, mount overlay
 *                                  clone(NEWPID|NEWUTS|...) ----> hostname, setup steps,
 *   <------------- container pid                                  pivot_root, tty, caps, user
 *   forward signals, relay pty                                    execve(command)
 *   <----------- error record (pipe, CLOEXEC: EOF means exec succeeded) -----------------
 *                                  wait; unmount; rm -rf layer
 *   wait; exit with its status <-- exit(status)
 *
 * Every failure is reported once as a struct hull_error on the error pipe; the parent prints it.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "abi.h"

/* Kernel ABI this file needs from linux/capability.h and linux/openat2.h, spelled out so that the
 * shim builds against any libc (musl's toolchain ships no kernel headers). */
#define LINUX_CAPABILITY_VERSION_3 0x20080522
struct cap_header { uint32_t version; int pid; };
struct cap_data { uint32_t effective, permitted, inheritable; };
enum {
  CAP_CHOWN = 0, CAP_DAC_OVERRIDE = 1, CAP_FOWNER = 3, CAP_FSETID = 4, CAP_KILL = 5, CAP_SETGID = 6,
  CAP_SETUID = 7, CAP_SETPCAP = 8, CAP_NET_BIND_SERVICE = 10, CAP_NET_RAW = 13, CAP_SYS_CHROOT = 18,
  CAP_MKNOD = 27, CAP_AUDIT_WRITE = 29, CAP_SETFCAP = 31,
};
struct open_how { uint64_t flags, mode, resolve; };
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_IN_ROOT 0x10
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
/* linux/mount.h: mount_setattr(2), for read-only that reaches every submount (Linux >= 5.12) */
struct mount_attr { uint64_t attr_set, attr_clr, propagation, userns_fd; };
#define MOUNT_ATTR_RDONLY 0x1
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#define KEYCTL_JOIN_SESSION_KEYRING 1
/* linux/filter.h and linux/seccomp.h */
struct sock_filter { uint16_t code; uint8_t jt, jf; uint32_t k; };
struct sock_fprog { unsigned short len; struct sock_filter *filter; };
#ifndef SECCOMP_MODE_FILTER
#define SECCOMP_MODE_FILTER 2
#endif

struct hull_error {
  uint32_t stage;
  int32_t err;
  uint32_t exit_code;
  char msg[500];
};

#define MAX_STEPS 256

struct step {
  uint32_t op, flags;
  const char *src, *dst, *fstype, *data;
};

static struct config {
  /* NULL-terminated, grown as the message holds more: the kernel, not the shim, sets the limit
   * (execve's E2BIG, reported as any failure to run the command) */
  const char **argv;
  int argc, argcap;
  const char **envp;
  int envc, envcap;
  const char *cwd, *hostname, *rootfs, *overlay, *fuse_prog, *state_file, *run_dir, *id;
  /* removed, in this order, once the container is gone (--rm): its name link, then its directory */
  const char *cleanup[4];
  int ncleanup;
  const char *uidmap, *gidmap, *uidmap_prog, *gidmap_prog;
  uint32_t uid, gid, nsflags, flags, overlay_mode, target_pid, restart, restart_max;
  uint64_t caps;
  int have_caps;
  uint32_t die_with;
  struct sock_filter *seccomp;
  unsigned short seccomp_len;
  gid_t groups[64];
  int ngroups;
  struct step steps[MAX_STEPS];
  int nsteps;
} cfg;

static int err_fd = -1;  /* write end of the error pipe */
static uint32_t stage = HULL_STAGE_PARENT;

static void report(int err, uint32_t code, const char *fmt, ...) {
  struct hull_error e;
  memset(&e, 0, sizeof e);
  e.stage = stage;
  e.err = err;
  e.exit_code = code;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e.msg, sizeof e.msg, fmt, ap);
  va_end(ap);
  if (err_fd >= 0) {
    ssize_t r = write(err_fd, &e, sizeof e);
    (void)r;
  } else {
    fprintf(stderr, "hull: %s%s%s\n", e.msg, err ? ": " : "", err ? strerror(err) : "");
  }
}

static void __attribute__((noreturn)) die(int err, const char *fmt, ...) {
  char buf[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  report(err, HULL_EXIT_SETUP, "%s", buf);
  _exit(HULL_EXIT_SETUP);
}

/* ---- the setup message ---------------------------------------------------------------------- */

static char *message;

/* Appends ITEM to the NULL-terminated LIST of *N items, growing it by doubling. */
static void push_list(const char ***list, int *n, int *cap, const char *item) {
  if (*n + 1 >= *cap) {
    int want = *cap ? *cap * 2 : 64;
    const char **grown = realloc(*list, (size_t)want * sizeof *grown);
    if (!grown) die(ENOMEM, "setup message");
    *list = grown;
    *cap = want;
  }
  (*list)[(*n)++] = item;
  (*list)[*n] = NULL;
}

/* Reads the whole message from FD (a memfd from `hull run`, or a pipe on stdin for `exec`). */
static void read_message(int fd) {
  size_t cap = 16384, got = 0;
  lseek(fd, 0, SEEK_SET); /* a memfd is handed over with its offset at the end; a pipe says ESPIPE */
  message = malloc(cap);
  if (!message) die(ENOMEM, "setup message");
  for (;;) {
    if (got == cap && !(message = realloc(message, cap *= 2))) die(ENOMEM, "setup message");
    ssize_t n = read(fd, message + got, cap - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) die(errno, "setup message: read");
    if (n == 0) break;
    got += (size_t)n;
  }
  /* stdin stays open, on /dev/null: a free descriptor 0 would be taken by the next open, and
   * fuse-overlayfs's daemon, which points 0 at /dev/null, would then close its /dev/fuse */
  if (fd <= 2) {
    int null = open("/dev/null", O_RDONLY);
    if (null < 0) die(errno, "open /dev/null");
    if (null != fd) {
      dup2(null, fd);
      close(null);
    }
  } else close(fd);
  uint32_t magic, version, total;
  if (got < 12) die(EINVAL, "setup message too short");
  memcpy(&magic, message, 4);
  memcpy(&version, message + 4, 4);
  memcpy(&total, message + 8, 4);
  if (magic != HULL_ABI_MAGIC || version != HULL_ABI_VERSION || total != got)
    die(EINVAL, "setup message from another hull version (abi %u, want %u)", version, HULL_ABI_VERSION);

  size_t off = 12;
  while (off + 8 <= got) {
    uint16_t type;
    uint32_t len;
    memcpy(&type, message + off, 2);
    memcpy(&len, message + off + 4, 4);
    char *data = message + off + 8;
    if (off + 8 + len > got) die(EINVAL, "setup message: record past the end");
    off += 8 + len;
    uint32_t u = 0;
    if (len >= 4) memcpy(&u, data, 4);
    switch (type) {
    case HULL_REC_ARG:
      push_list(&cfg.argv, &cfg.argc, &cfg.argcap, data);
      break;
    case HULL_REC_ENV:
      push_list(&cfg.envp, &cfg.envc, &cfg.envcap, data);
      break;
    case HULL_REC_CWD: cfg.cwd = data; break;
    case HULL_REC_UID: cfg.uid = u; break;
    case HULL_REC_GID: cfg.gid = u; break;
    case HULL_REC_GROUP:
      if (cfg.ngroups >= 64) die(E2BIG, "more than 64 supplementary groups");
      cfg.groups[cfg.ngroups++] = u;
      break;
    case HULL_REC_HOSTNAME: cfg.hostname = data; break;
    case HULL_REC_NSFLAGS: cfg.nsflags = u; break;
    case HULL_REC_UIDMAP: cfg.uidmap = data; break;
    case HULL_REC_GIDMAP: cfg.gidmap = data; break;
    case HULL_REC_UIDMAP_PROG: cfg.uidmap_prog = data; break;
    case HULL_REC_GIDMAP_PROG: cfg.gidmap_prog = data; break;
    case HULL_REC_ROOTFS: cfg.rootfs = data; break;
    case HULL_REC_OVERLAY: cfg.overlay = data; break;
    case HULL_REC_FUSE_PROG: cfg.fuse_prog = data; break;
    case HULL_REC_OVERLAY_MODE: cfg.overlay_mode = u; break;
    case HULL_REC_CLEANUP:
      if (cfg.ncleanup < 4) cfg.cleanup[cfg.ncleanup++] = data;
      break;
    case HULL_REC_STATE_FILE: cfg.state_file = data; break;
    case HULL_REC_RUN_DIR: cfg.run_dir = data; break;
    case HULL_REC_ID: cfg.id = data; break;
    case HULL_REC_TARGET_PID: cfg.target_pid = u; break;
    case HULL_REC_RESTART: cfg.restart = u; break;
    case HULL_REC_RESTART_MAX: cfg.restart_max = u; break;
    case HULL_REC_FLAGS: cfg.flags = u; break;
    case HULL_REC_DIE_WITH: cfg.die_with = u; break;
    case HULL_REC_CAPS:
      if (len != 8) die(EINVAL, "setup message: bad capability set");
      memcpy(&cfg.caps, data, 8);
      cfg.have_caps = 1;
      break;
    case HULL_REC_SECCOMP:
      if (len == 0 || len % sizeof(struct sock_filter) || len / sizeof(struct sock_filter) > 4096)
        die(EINVAL, "setup message: bad seccomp program");
      /* records are not aligned; the kernel reads the program through a pointer */
      cfg.seccomp = malloc(len);
      if (!cfg.seccomp) die(ENOMEM, "seccomp program");
      memcpy(cfg.seccomp, data, len);
      cfg.seccomp_len = (unsigned short)(len / sizeof(struct sock_filter));
      break;
    case HULL_REC_STEP: {
      if (cfg.nsteps >= MAX_STEPS || len < 12) die(EINVAL, "setup message: bad step");
      struct step *s = &cfg.steps[cfg.nsteps++];
      memcpy(&s->op, data, 4);
      memcpy(&s->flags, data + 4, 4);
      const char **fields[4] = {&s->src, &s->dst, &s->fstype, &s->data};
      char *p = data + 8, *end = data + len;
      for (int i = 0; i < 4; i++) {
        char *nul = memchr(p, 0, (size_t)(end - p));
        if (!nul) die(EINVAL, "setup message: unterminated step field");
        *fields[i] = p;
        p = nul + 1;
      }
      break;
    }
    default: die(EINVAL, "setup message: unknown record %u", type);
    }
  }
  if (cfg.argc == 0) die(EINVAL, "setup message: no command");
  if (!cfg.envp && !(cfg.envp = calloc(1, sizeof *cfg.envp))) die(ENOMEM, "setup message"); /* an empty environment */
  /* The hull that started us (a build, a helper's caller) may be killed outright; we go with it,
   * and the user-namespace stage, told by its own parent-death signal, takes the container down
   * and cleans up. A parent already gone before the prctl shows as another parent pid. */
  if (cfg.die_with) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) die(errno, "pdeathsig");
    if ((uint32_t)getppid() != cfg.die_with) _exit(HULL_EXIT_SETUP);
  }
}

/* ---- small helpers ---------------------------------------------------------------------------- */

static void write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    p += n;
    len -= (size_t)n;
  }
}

static int read_full(int fd, void *buf, size_t len) {
  char *p = buf;
  size_t got = 0;
  while (got < len) {
    ssize_t n = read(fd, p + got, len - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return (int)got;
    got += (size_t)n;
  }
  return (int)got;
}

static pid_t spawn(const char *const argv[]) {
  pid_t pid = fork();
  if (pid == 0) {
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  return pid;
}

static int wait_status(pid_t pid) {
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* rm -rf that never follows symlinks out of the tree; used on the container's own layer, whose
 * files belong to ids only root in the user namespace may remove. */
struct linux_dirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

static void remove_tree_at(int dirfd, const char *name) {
  if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT) return;
  for (int pass = 0; pass < 3; pass++) {
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == EACCES) {
      fchmodat(dirfd, name, 0700, 0); /* overlay's work/work is mode 000 */
      fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) return;
    char buf[8192];
    long n;
    while ((n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0)
      for (long off = 0; off < n;) {
        struct linux_dirent64 *d = (void *)(buf + off);
        off += d->d_reclen;
        if (strcmp(d->d_name, ".") && strcmp(d->d_name, "..")) remove_tree_at(fd, d->d_name);
      }
    close(fd);
    if (unlinkat(dirfd, name, AT_REMOVEDIR) == 0 || errno != ENOTEMPTY) return;
  }
}

static void remove_tree(const char *path) { remove_tree_at(AT_FDCWD, path); }

/* A name link (names/N -> id) goes only while it still names this container: after a `hull rename`
 * the old name may already be another container's. Everything else is removed whole. */
static void remove_cleanup(void) {
  for (int i = 0; i < cfg.ncleanup; i++) {
    const char *p = cfg.cleanup[i];
    if (!p || !*p) continue;
    char target[256];
    ssize_t n = readlink(p, target, sizeof target - 1);
    if (n >= 0) {
      target[n] = 0;
      if (cfg.id && !strcmp(target, cfg.id)) unlink(p);
      continue;
    }
    remove_tree(p);
  }
}

/* ---- id maps (parent, on the host) ----------------------------------------------------------- */

static int write_file_rc(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  int rc = write(fd, text, strlen(text)) < 0 ? errno : 0;
  close(fd);
  return rc;
}

struct map_helper {
  const char *argv[64];
  char buf[512], pid[16];
};

static void helper_argv(struct map_helper *h, const char *prog, pid_t pid, const char *map) {
  int argc = 0;
  snprintf(h->pid, sizeof h->pid, "%d", pid);
  snprintf(h->buf, sizeof h->buf, "%s", map);
  h->argv[argc++] = prog;
  h->argv[argc++] = h->pid;
  char *save = NULL;
  for (char *tok = strtok_r(h->buf, " ", &save); tok && argc < 62; tok = strtok_r(NULL, " ", &save))
    h->argv[argc++] = tok;
  h->argv[argc] = NULL;
}

/* Write PID's uid and gid maps: through newuidmap and newgidmap, run side by side (each is a
 * setuid program that takes about a millisecond), or directly for a single-id map.
 * Returns 0, or fills MSG and returns an errno (or -1 when a helper program failed). */
static int write_maps(pid_t pid, char *msg, size_t msglen) {
  if (cfg.uidmap_prog && *cfg.uidmap_prog && cfg.gidmap_prog && *cfg.gidmap_prog) {
    struct map_helper u, g;
    helper_argv(&u, cfg.uidmap_prog, pid, cfg.uidmap);
    helper_argv(&g, cfg.gidmap_prog, pid, cfg.gidmap);
    pid_t up = spawn(u.argv), gp = spawn(g.argv);
    int urc = up < 0 ? -1 : wait_status(up), grc = gp < 0 ? -1 : wait_status(gp);
    if (urc == 0 && grc == 0) return 0;
    int uid_failed = urc != 0;
    snprintf(msg, msglen, "%s %s %s failed (exit %d): check /etc/sub%cid for this user (hull doctor)",
             uid_failed ? cfg.uidmap_prog : cfg.gidmap_prog, u.pid, uid_failed ? cfg.uidmap : cfg.gidmap,
             uid_failed ? urc : grc, uid_failed ? 'u' : 'g');
    return -1;
  }
  char path[64], line[128];
  snprintf(path, sizeof path, "/proc/%d/setgroups", pid);
  int rc = write_file_rc(path, "deny");
  if (!rc) {
    snprintf(path, sizeof path, "/proc/%d/gid_map", pid);
    snprintf(line, sizeof line, "%s\n", cfg.gidmap);
    rc = write_file_rc(path, line);
  }
  if (!rc) {
    snprintf(path, sizeof path, "/proc/%d/uid_map", pid);
    snprintf(line, sizeof line, "%s\n", cfg.uidmap);
    rc = write_file_rc(path, line);
  }
  if (rc) snprintf(msg, msglen, "write %s", path);
  return rc;
}

/* ---- resolving paths inside the rootfs -------------------------------------------------------- */

static int open_in_root(int rootfd, const char *path, int flags) {
  struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC),
                         .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
}

/* Open PATH beneath the rootfs, creating missing directories (and, if want_file, the last component
 * as an empty file). Symlinks in the image resolve as if the rootfs were /, so they cannot point out.
 * Each prefix is resolved from the root, never from the directory before it: an absolute link such
 * as /var/run -> /run must mean the image's /run, not /var/run/run (that looped: ELOOP). */
static int ensure_in_root(int rootfd, const char *path, int want_file) {
  int fd = open_in_root(rootfd, path, O_PATH);
  if (fd >= 0 || errno != ENOENT) return fd;
  char buf[4096];
  size_t len = strlen(path);
  if (len >= sizeof buf) {
    errno = ENAMETOOLONG;
    return -1;
  }
  memcpy(buf, path, len + 1);
  char *p = buf;
  while (*p == '/') p++;
  int dirfd = dup(rootfd);
  while (*p) {
    char *slash = strchr(p, '/');
    if (slash) *slash = 0;
    int last = !slash || !slash[1];
    if (*p) {
      int next = open_in_root(rootfd, buf, O_PATH);
      if (next < 0 && errno == ENOENT) {
        /* DIRFD is the resolved parent: the new entry is made right there, never through a link */
        if (last && want_file) {
          int f = openat(dirfd, p, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
          if (f >= 0) close(f);
        } else {
          mkdirat(dirfd, p, 0755);
        }
        next = open_in_root(rootfd, buf, O_PATH);
      }
      close(dirfd);
      if (next < 0) return -1;
      dirfd = next;
    }
    if (!slash) break;
    *slash = '/';
    p = slash + 1;
  }
  return dirfd;
}

static void fd_path(char *buf, size_t len, int fd) { snprintf(buf, len, "/proc/self/fd/%d", fd); }

/* A read-only remount inside a user namespace must repeat the flags the kernel locked on the mount. */
static unsigned long locked_flags(const char *path) {
  struct statvfs sv;
  unsigned long f = 0;
  if (statvfs(path, &sv) == 0) {
    if (sv.f_flag & ST_NOSUID) f |= MS_NOSUID;
    if (sv.f_flag & ST_NODEV) f |= MS_NODEV;
    if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
    if (sv.f_flag & ST_NOATIME) f |= MS_NOATIME;
    if (sv.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
    if (sv.f_flag & ST_RELATIME) f |= MS_RELATIME;
  }
  return f;
}

static void remount_ro(const char *path, const char *what) {
  if (mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | locked_flags(path), NULL) < 0)
    die(errno, "remount %s read-only", what);
}

/* Read-only for the mount at DST and every mount beneath it: a bind of a host directory brings the
 * host's submounts along (MS_REC), and a remount reaches only the top one (as Docker 25+, which uses
 * the same call). An fd opened before a mount still names the covered directory; reopen it first. */
static void remount_ro_in_root(int rootfd, const char *dst) {
  int fd = open_in_root(rootfd, dst, O_PATH);
  if (fd < 0) die(errno, "reopen %s", dst);
  struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
  if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0) {
    if (errno != ENOSYS) die(errno, "make %s read-only", dst);
    /* kernels before 5.12: the top mount only */
    char target[64];
    fd_path(target, sizeof target, fd);
    remount_ro(target, dst);
  }
  close(fd);
}

/* Copy the tree at SRCFD into the empty directory DSTFD: files, directories and symlinks with their
 * owners and modes (we are root in the user namespace); device nodes and sockets are left out.
 * Owners and modes go on through the descriptors of what this function created, never by name: the
 * volume may be shared with a running container, which could swap a name for a symlink to a host
 * file meanwhile (and a chmod by name would follow it). */
static void copy_tree(int srcfd, int dstfd) {
  DIR *d = fdopendir(dup(srcfd));
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    struct stat st;
    if (fstatat(srcfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) continue;
    int made = -1; /* what was created, to own and mode */
    if (S_ISDIR(st.st_mode)) {
      if (mkdirat(dstfd, e->d_name, 0700) < 0) continue;
      int s2 = openat(srcfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      made = openat(dstfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (s2 >= 0 && made >= 0) copy_tree(s2, made);
      if (s2 >= 0) close(s2);
    } else if (S_ISLNK(st.st_mode)) {
      char target[4096];
      ssize_t n = readlinkat(srcfd, e->d_name, target, sizeof target - 1);
      if (n < 0) continue;
      target[n] = 0;
      if (symlinkat(target, dstfd, e->d_name) < 0) continue;
      fchownat(dstfd, e->d_name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
      continue;
    } else if (S_ISREG(st.st_mode)) {
      int in = openat(srcfd, e->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      made = openat(dstfd, e->d_name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (in >= 0 && made >= 0) {
        char buf[65536];
        ssize_t n;
        while ((n = read(in, buf, sizeof buf)) > 0) write_all(made, buf, (size_t)n);
      }
      if (in >= 0) close(in);
    } else {
      continue;
    }
    if (made < 0) continue;
    /* chown first: it clears the setuid and setgid bits the mode then sets */
    fchown(made, st.st_uid, st.st_gid);
    fchmod(made, st.st_mode & 07777);
    close(made);
  }
  closedir(d);
}

static int dir_is_empty(const char *path) {
  DIR *d = opendir(path);
  if (!d) return 0;
  struct dirent *e;
  int empty = 1;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) empty = 0;
  closedir(d);
  return empty;
}

static void run_step(int rootfd, const struct step *s) {
  char target[64];
  switch (s->op) {
  case HULL_STEP_MOUNT: {
    int is_bind = (s->flags & MS_BIND) != 0;
    struct stat st;
    int want_file = 0;
    if (is_bind) {
      if (stat(s->src, &st) < 0) die(errno, "bind mount source %s", s->src);
      want_file = !S_ISDIR(st.st_mode);
    }
    int fd = ensure_in_root(rootfd, s->dst, want_file);
    if (fd < 0) die(errno, "mount point %s", s->dst);
    fd_path(target, sizeof target, fd);
    unsigned long flags = s->flags;
    if (mount(s->src, target, s->fstype, is_bind ? (flags & (MS_BIND | MS_REC)) : flags, s->data) < 0)
      die(errno, "mount %s on %s", *s->fstype ? s->fstype : s->src, s->dst);
    close(fd);
    if (is_bind && (flags & MS_RDONLY)) remount_ro_in_root(rootfd, s->dst);
    break;
  }
  case HULL_STEP_VOLUME: {
    /* Docker's copy-up: a volume still empty takes the image's content at its target, owners and
     * all, the first time it is mounted there. */
    int src = open_in_root(rootfd, s->dst, O_RDONLY | O_DIRECTORY);
    if (src >= 0) {
      if (dir_is_empty(s->src)) {
        int dst = open(s->src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dst >= 0) {
          copy_tree(src, dst);
          struct stat st;
          if (fstat(src, &st) == 0) {
            fchown(dst, st.st_uid, st.st_gid);
            fchmod(dst, st.st_mode & 07777);
          }
          close(dst);
        }
      }
      close(src);
    }
    struct step bind = *s;
    bind.op = HULL_STEP_MOUNT;
    run_step(rootfd, &bind);
    break;
  }
  case HULL_STEP_MKDIR: {
    int fd = ensure_in_root(rootfd, s->dst, 0);
    if (fd < 0) die(errno, "mkdir %s", s->dst);
    if (s->flags) {
      fd_path(target, sizeof target, fd);
      chmod(target, s->flags);
    }
    close(fd);
    break;
  }
  case HULL_STEP_SYMLINK: {
    char parent[4096];
    snprintf(parent, sizeof parent, "%s", s->dst);
    char *slash = strrchr(parent, '/');
    const char *name = slash ? slash + 1 : parent;
    if (slash) *slash = 0;
    int dfd = ensure_in_root(rootfd, *parent ? parent : "/", 0);
    if (dfd < 0) die(errno, "symlink %s", s->dst);
    if (symlinkat(s->src, dfd, name) < 0 && errno != EEXIST) die(errno, "symlink %s", s->dst);
    close(dfd);
    break;
  }
  case HULL_STEP_READONLY:
  case HULL_STEP_MASK: {
    int fd = open_in_root(rootfd, s->dst, O_PATH);
    if (fd < 0) break; /* not in this kernel or image: nothing to protect */
    fd_path(target, sizeof target, fd);
    struct stat st;
    if (fstat(fd, &st) < 0) die(errno, "stat %s", s->dst);
    if (s->op == HULL_STEP_READONLY) {
      if (mount(target, target, NULL, MS_BIND | MS_REC, NULL) < 0) die(errno, "bind %s", s->dst);
      remount_ro_in_root(rootfd, s->dst);
    } else if (S_ISDIR(st.st_mode)) {
      if (mount("tmpfs", target, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0") < 0)
        die(errno, "mask %s", s->dst);
    } else if (mount("/dev/null", target, NULL, MS_BIND, NULL) < 0) {
      die(errno, "mask %s", s->dst);
    }
    close(fd);
    break;
  }
  default: die(EINVAL, "unknown setup step %u", s->op);
  }
}

/* ---- capabilities ----------------------------------------------------------------------------- */

/* Docker's default set (moby oci/caps/defaults.go). */
static const int default_caps[] = {
    CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FSETID, CAP_FOWNER, CAP_MKNOD, CAP_NET_RAW, CAP_SETGID,
    CAP_SETUID, CAP_SETFCAP, CAP_SETPCAP, CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT, CAP_KILL, CAP_AUDIT_WRITE,
};

/* The bounding set: the message's, or Docker's default set. */
static uint64_t bounding_set(void) {
  if (cfg.have_caps) return cfg.caps;
  uint64_t keep = 0;
  for (size_t i = 0; i < sizeof default_caps / sizeof *default_caps; i++) keep |= 1ULL << default_caps[i];
  return keep;
}

static void drop_capabilities(void) {
  uint64_t keep = bounding_set();
  int last = 40;
  FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
  if (f) {
    if (fscanf(f, "%d", &last) != 1) last = 40;
    fclose(f);
  }
  for (int c = 0; c <= last; c++)
    if (!(keep & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
      die(errno, "drop capability %d", c);
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
}

static void set_capabilities(int is_root) {
  uint64_t keep = is_root ? bounding_set() : 0;
  struct cap_header h = {.version = LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct cap_data d[2];
  memset(d, 0, sizeof d);
  d[0].effective = d[0].permitted = d[0].inheritable = (uint32_t)keep;
  d[1].effective = d[1].permitted = d[1].inheritable = (uint32_t)(keep >> 32);
  if (syscall(SYS_capset, &h, d) < 0) die(errno, "capset");
}

/* The seccomp filter goes on while this process still holds CAP_SYS_ADMIN in its user namespace,
 * which the kernel asks for when no_new_privs is off (Docker's default); the calls left before the
 * exec (setgroups, setres[ug]id, capset, prctl, chdir, close_range, execve) are ones Docker's
 * profile allows, as runc relies on too. */
static void install_seccomp(void) {
  if (!cfg.seccomp) return;
  struct sock_fprog prog = {.len = cfg.seccomp_len, .filter = cfg.seccomp};
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0) die(errno, "install the seccomp filter");
}

/* ---- the container stage ---------------------------------------------------------------------- */

static int tty_sock = -1;          /* container stage -> parent: the pty master */
static int log_pipes[2][2] = {{-1, -1}, {-1, -1}}; /* detached: container stdout, stderr -> supervisor */
static int ready_fd = -1; /* detached: supervisor -> the first process, one struct hull_error */
static struct winsize host_winsize; /* read before clone; applied to the new pty */
static int have_winsize;

static void send_fd(int sock, int fd) {
  char dummy = 'T';
  struct iovec iov = {.iov_base = &dummy, .iov_len = 1};
  char ctl[CMSG_SPACE(sizeof(int))];
  memset(ctl, 0, sizeof ctl);
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
  if (sendmsg(sock, &msg, 0) < 0) die(errno, "send pty to hull");
}

static int recv_fd(int sock) {
  char dummy;
  struct iovec iov = {.iov_base = &dummy, .iov_len = 1};
  char ctl[CMSG_SPACE(sizeof(int))];
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
  if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) <= 0) return -1;
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_type != SCM_RIGHTS) return -1;
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return fd;
}

static void loopback_up(void) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) die(errno, "socket for lo");
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strcpy(ifr.ifr_name, "lo");
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) die(errno, "get lo flags");
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) die(errno, "bring lo up");
  close(s);
}

static const char *env_value(const char *name) {
  size_t n = strlen(name);
  for (int i = 0; i < cfg.envc; i++)
    if (!strncmp(cfg.envp[i], name, n) && cfg.envp[i][n] == '=') return cfg.envp[i] + n + 1;
  return NULL;
}


/* execvpe() searches the PATH of hull's environment; the container's PATH is what counts. */
static void __attribute__((noreturn)) exec_command(void) {
  const char *cmd = cfg.argv[0];
  int err = ENOENT;
  if (strchr(cmd, '/')) {
    execve(cmd, (char *const *)cfg.argv, (char *const *)cfg.envp);
    err = errno;
  } else {
    const char *path = env_value("PATH");
    if (!path) path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    char buf[4096];
    int saw_eacces = 0;
    while (*path) {
      const char *colon = strchr(path, ':');
      size_t len = colon ? (size_t)(colon - path) : strlen(path);
      snprintf(buf, sizeof buf, "%.*s/%s", (int)len, len ? path : ".", cmd);
      execve(buf, (char *const *)cfg.argv, (char *const *)cfg.envp);
      if (errno == EACCES) saw_eacces = 1;
      else if (errno != ENOENT && errno != ENOTDIR) {
        err = errno;
        break;
      }
      if (!colon) break;
      path = colon + 1;
    }
    if (saw_eacces && err == ENOENT) err = EACCES;
  }
  stage = HULL_STAGE_EXEC;
  if (err == ENOENT)
    report(err, HULL_EXIT_NOT_FOUND, "executable file not found in $PATH: %s (is it in the image?)", cmd);
  else
    report(err, HULL_EXIT_CANNOT_INVOKE, "cannot run %s", cmd);
  _exit(err == ENOENT ? HULL_EXIT_NOT_FOUND : HULL_EXIT_CANNOT_INVOKE);
}

static void __attribute__((noreturn)) init_loop(pid_t child);

/* The command's stdio: SLAVE (a pty's peer) as its controlling terminal on 0, 1 and 2; or, with
 * no pty and no -i, stdin from /dev/null. */
static void command_stdio(int slave) {
  /* A session of its own, always: a process whose controlling tty is the caller's terminal could
   * push keystrokes into the caller's shell with TIOCSTI (bubblewrap's CVE-2017-5226), and open
   * /dev/tty. Without a pty the caller's terminal may still be its stdio, but not its ctty. */
  if (getsid(0) != getpid() && setsid() < 0) die(errno, "setsid");
  if (slave >= 0) {
    if (ioctl(slave, TIOCSCTTY, 0) < 0) die(errno, "set controlling tty");
    if (fchown(slave, cfg.uid, (gid_t)-1) < 0 && errno != EINVAL) die(errno, "chown pty");
    for (int i = 0; i < 3; i++)
      if (dup2(slave, i) < 0) die(errno, "dup pty");
    if (slave > 2) close(slave);
  } else if (!(cfg.flags & HULL_FLAG_STDIN)) {
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null < 0 || dup2(null, 0) < 0) die(errno, "stdin from /dev/null");
    close(null);
  }
}

/* Who the command runs as, for run and exec alike: Docker's capability set and no_new_privs, the
 * groups and ids, the working directory, and nothing of hull's left open across the exec. */
static void become_command(void) {
  /* a session keyring of its own, as runc gives each container: the caller's holds its keys */
  if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, 0, 0, 0, 0) < 0 && errno != ENOSYS && errno != EDQUOT)
    die(errno, "new session keyring");
  drop_capabilities();
  install_seccomp();
  if ((cfg.flags & HULL_FLAG_SETGROUPS) && setgroups((size_t)cfg.ngroups, cfg.groups) < 0)
    die(errno, "setgroups");
  if (setresgid(cfg.gid, cfg.gid, cfg.gid) < 0)
    die(errno, "setresgid %u (is the group mapped? see hull doctor)", cfg.gid);
  if (setresuid(cfg.uid, cfg.uid, cfg.uid) < 0)
    die(errno, "setresuid %u (is the user mapped? see hull doctor)", cfg.uid);
  set_capabilities(cfg.uid == 0);
  /* a change of ids clears the parent-death signal: set it again, or a container whose stage above
   * was killed with SIGKILL would run on, unseen and never cleaned up */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) die(errno, "pdeathsig");
  if ((cfg.flags & HULL_FLAG_NO_NEW_PRIVS) && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) die(errno, "no_new_privs");
  if (cfg.cwd && chdir(cfg.cwd) < 0) die(errno, "working directory %s", cfg.cwd);
  syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
}

static void __attribute__((noreturn)) container_stage(void) {
  stage = HULL_STAGE_CONTAINER;
  prctl(PR_SET_NAME, "hull-container", 0, 0, 0);
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) die(errno, "pdeathsig");
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);

  if ((cfg.nsflags & CLONE_NEWUTS) && cfg.hostname && sethostname(cfg.hostname, strlen(cfg.hostname)) < 0)
    die(errno, "sethostname");

  if (mount(cfg.rootfs, cfg.rootfs, NULL, MS_BIND | MS_REC, NULL) < 0) die(errno, "bind rootfs %s", cfg.rootfs);
  int rootfd = open(cfg.rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) die(errno, "open rootfs %s", cfg.rootfs);
  for (int i = 0; i < cfg.nsteps; i++) run_step(rootfd, &cfg.steps[i]);
  if (cfg.cwd && cfg.uid == 0) {
    /* Docker creates a missing working directory; do it before the rootfs may turn read-only. */
    int fd = ensure_in_root(rootfd, cfg.cwd, 0);
    if (fd >= 0) close(fd);
  }
  if (cfg.flags & HULL_FLAG_READONLY) remount_ro(cfg.rootfs, "/");
  close(rootfd);

  if (chdir(cfg.rootfs) < 0) die(errno, "chdir rootfs");
  if (syscall(SYS_pivot_root, ".", ".") < 0) die(errno, "pivot_root");
  if (umount2(".", MNT_DETACH) < 0) die(errno, "detach old root");
  if (chdir("/") < 0) die(errno, "chdir /");

  if (cfg.flags & HULL_FLAG_NET_LO) loopback_up();

  if (cfg.flags & HULL_FLAG_DETACH) {
    /* detached: output goes to the supervisor, which keeps the log; no input */
    if (setsid() < 0) die(errno, "setsid");
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null < 0 || dup2(null, 0) < 0 || dup2(log_pipes[0][1], 1) < 0 || dup2(log_pipes[1][1], 2) < 0)
      die(errno, "detached stdio");
    close(null);
  } else if (cfg.flags & HULL_FLAG_TTY) {
    int master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0) die(errno, "open /dev/pts/ptmx");
    int unlock = 0;
    if (ioctl(master, TIOCSPTLCK, &unlock) < 0) die(errno, "unlock pty");
    int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
    if (slave < 0) die(errno, "open pty peer");
    if (have_winsize) ioctl(master, TIOCSWINSZ, &host_winsize);
    send_fd(tty_sock, master);
    close(master);
    command_stdio(slave);
  } else {
    command_stdio(-1);
    /* a kept foreground container: its output through the parent, which logs it as well */
    if (log_pipes[0][1] >= 0 && (dup2(log_pipes[0][1], 1) < 0 || dup2(log_pipes[1][1], 2) < 0))
      die(errno, "logged stdio");
  }
  if (cfg.flags & (HULL_FLAG_NO_STDOUT | HULL_FLAG_NO_STDERR)) {
    /* run -a: the streams not attached go nowhere */
    int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null < 0) die(errno, "open /dev/null");
    if ((cfg.flags & HULL_FLAG_NO_STDOUT) && dup2(null, 1) < 0) die(errno, "stdout to /dev/null");
    if ((cfg.flags & HULL_FLAG_NO_STDERR) && dup2(null, 2) < 0) die(errno, "stderr to /dev/null");
    close(null);
  }
  if (tty_sock >= 0) close(tty_sock);
  become_command();

  if (cfg.flags & HULL_FLAG_INIT) {
    /* blocked before the fork: a command that exits at once must not leave its SIGCHLD to the
     * default disposition, which discards it and left init waiting forever (seen under load) */
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &all, NULL);
    pid_t child = fork();
    if (child < 0) die(errno, "fork");
    if (child == 0) {
      sigprocmask(SIG_SETMASK, &none, NULL);
      exec_command();
    }
    init_loop(child);
  }
  exec_command();
}

/* --init: pid 1 forwards signals to the command and reaps every orphan. Every signal is already
 * blocked (before the fork). It keeps no descriptor: the container could reach them through
 * /proc/1/fd (the log pipes' read ends among them). */
static void __attribute__((noreturn)) init_loop(pid_t child) {
  prctl(PR_SET_NAME, "hull-init", 0, 0, 0);
  sigset_t all;
  sigfillset(&all);
  syscall(SYS_close_range, 0, ~0U, 0);
  for (;;) {
    siginfo_t si;
    if (sigwaitinfo(&all, &si) < 0) continue;
    if (si.si_signo == SIGCHLD) {
      int status;
      pid_t p;
      while ((p = waitpid(-1, &status, WNOHANG)) > 0)
        if (p == child) _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    } else {
      kill(child, si.si_signo);
    }
  }
}

/* ---- the user-namespace stage ----------------------------------------------------------------- */

static int sync_rd = -1, sync_wr = -1; /* userns stage <- parent, userns stage -> parent */
static int overlay_mounted;

/* Returns 0, or the errno of the refused kernel overlay mount (-1 when it was not tried). */
static int mount_kernel_overlay(void) {
  if (!cfg.overlay || cfg.overlay_mode == HULL_OVERLAY_FUSE) return -1;
  char opts[8192];
  snprintf(opts, sizeof opts, "%s,userxattr", cfg.overlay);
  if (mount("overlay", cfg.rootfs, "overlay", 0, opts) == 0) {
    overlay_mounted = 1;
    return 0;
  }
  int err = errno;
  if (cfg.overlay_mode == HULL_OVERLAY_KERNEL) die(err, "kernel overlay mount (HULL_OVERLAY=kernel)");
  return err;
}

/* The fallback when the kernel refuses overlay in a user namespace (kernels before 5.11, some
 * filesystems). Its chatter on stderr is kept back and shown only if it fails. */
static void mount_fuse_overlay(int kernel_err) {
  int tried_kernel = kernel_err > 0;
  if (!cfg.fuse_prog || !*cfg.fuse_prog)
    die(kernel_err, "overlay mount failed and fuse-overlayfs is not installed (apt-get install fuse-overlayfs)");
  const char *argv[] = {cfg.fuse_prog, "-o", cfg.overlay, cfg.rootfs, NULL};
  int out[2];
  if (pipe2(out, O_CLOEXEC) < 0) die(errno, "pipe");
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    dup2(out[1], 2);
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  close(out[1]);
  char said[300] = "";
  /* fuse-overlayfs daemonizes: its first process exits once the mount is ready, and the daemon
   * keeps the pipe open, so read only what is there when the first process is gone. */
  int rc = pid < 0 ? -1 : wait_status(pid);
  fcntl(out[0], F_SETFL, O_NONBLOCK);
  ssize_t n = read(out[0], said, sizeof said - 1);
  close(out[0]);
  if (n > 0) said[n - (said[n - 1] == '\n')] = 0;
  if (rc != 0) {
    if (tried_kernel)
      die(kernel_err, "overlay mount failed: fuse-overlayfs exited %d (%s; is /dev/fuse usable? see hull doctor); kernel overlay", rc, said);
    die(0, "fuse-overlayfs exited %d (%s; is /dev/fuse usable? see hull doctor)", rc, said);
  }
  overlay_mounted = 1;
}

/* A kept container's exit, for `hull ps`: written to a temp name and renamed, so a reader sees the
 * whole record or none. */
static void write_state(int code) {
  char tmp[4200], stamp[40], text[200];
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
  int n = snprintf(text, sizeof text, "{\"exitCode\": %d, \"finishedAt\": \"%s\"}\n", code, stamp);
  snprintf(tmp, sizeof tmp, "%s.tmp", cfg.state_file);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  write_all(fd, text, (size_t)n);
  fsync(fd);
  close(fd);
  rename(tmp, cfg.state_file);
}

static void __attribute__((noreturn)) userns_stage(void) {
  stage = HULL_STAGE_USERNS;
  prctl(PR_SET_NAME, "hull-userns", 0, 0, 0);
  if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) < 0) die(errno, "pdeathsig");
  /* Nothing before the maps: the kernel refuses the overlay mount (EACCES, measured) while the
   * caller's id is not yet mapped, although the new namespace already grants every capability. */
  char b = 0;
  if (read_full(sync_rd, &b, 1) != 1 || b != HULL_SYNC_MAPS_DONE) _exit(HULL_EXIT_SETUP);
  close(sync_rd);
  if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) die(errno, "become root in the user namespace");
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) die(errno, "make mounts private");
  int kernel_err = mount_kernel_overlay();
  if (cfg.overlay && !overlay_mounted) mount_fuse_overlay(kernel_err);

  int code = HULL_EXIT_SETUP;

  /* The container stage gets the remaining namespaces; with NEWPID it is pid 1 there. */
  pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)(cfg.nsflags | SIGCHLD), 0, 0, 0, 0);
  if (pid < 0) {
    report(errno, HULL_EXIT_SETUP, "clone container namespaces");
  } else if (pid == 0) {
    close(sync_wr);
    container_stage();
  } else {
    int32_t p = pid;
    write_all(sync_wr, &p, sizeof p);
    close(sync_wr);
    close(err_fd);
    if (tty_sock >= 0) close(tty_sock);
    for (int i = 0; i < 2; i++)
      for (int j = 0; j < 2; j++)
        if (log_pipes[i][j] >= 0) close(log_pipes[i][j]);
    if (ready_fd >= 0) close(ready_fd);
    /* Signals for the container go to it directly from the parent; this stage only waits. A
     * SIGTERM here means the parent died: take the container down with it, then clean up. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, NULL);
    for (;;) {
      int status;
      pid_t w = waitpid(pid, &status, WNOHANG);
      if (w == pid) {
        code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        break;
      }
      siginfo_t si;
      if (sigwaitinfo(&set, &si) == SIGTERM) kill(pid, SIGKILL);
    }
  }
  /* Unmount before removing: the mount point could not be removed, and fuse-overlayfs's daemon
   * only stops once its mount is gone. */
  if (overlay_mounted) umount2(cfg.rootfs, MNT_DETACH);
  if (cfg.state_file && *cfg.state_file) write_state(code);
  remove_cleanup();
  _exit(code);
}

/* ---- the parent ------------------------------------------------------------------------------- */

static struct termios saved_tio;
static int tio_saved;

static void restore_terminal(void) {
  if (tio_saved) tcsetattr(0, TCSADRAIN, &saved_tio);
  tio_saved = 0;
}

static void log_feed(int stream, const char *data, size_t len);
static int log_fd;

/* FROM to TO; with LOGGED (a kept container's pty), into its log as well */
static void relay(int from, int to, int *open_flag) {
  char buf[16384];
  ssize_t n = read(from, buf, sizeof buf);
  if (n <= 0) {
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    *open_flag = 0;
    return;
  }
  write_all(to, buf, (size_t)n);
  if (from != 0 && log_fd >= 0 && !(cfg.flags & HULL_FLAG_DETACH)) log_feed(0, buf, (size_t)n);
}

/* ---- detached containers: the supervisor --------------------------------------------------------
 *
 * `hull run -d`: the shim forks; the child (the supervisor: a new session, stdio on /dev/null) runs
 * the container as usual but keeps its output in RUN_DIR/container.log, one JSON object per line as
 * Docker's json-file driver writes ({"log":..,"stream":..,"time":..}), rotated at LOG_MAX. The first
 * process waits on the ready pipe only until the command was exec'd (or failed), prints the id and
 * exits. Both write RUN_DIR/<name>.pid files ("pid starttime") so `hull ps` and `hull stop` can tell a
 * live process from a recycled pid. */

#define LOG_MAX (16 * 1024 * 1024)
#define LOG_LINE 16384

static int log_fd = -1;
static size_t log_size;
static char log_path[4200];
static struct {
  char buf[LOG_LINE];
  size_t len;
} pending[2];

static void proc_start(pid_t pid, char *out, size_t len) {
  char path[64], stat[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  out[0] = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ssize_t n = read(fd, stat, sizeof stat - 1);
  close(fd);
  if (n <= 0) return;
  stat[n] = 0;
  char *p = strrchr(stat, ')');
  for (int field = 2; p && field < 22; field++) p = strchr(p + 1, ' ');
  if (!p) return;
  snprintf(out, len, "%.*s", (int)strcspn(p + 1, " "), p + 1);
}

static void write_pidfile(const char *name, pid_t pid) {
  if (!cfg.run_dir) return;
  char path[4200], tmp[4300], start[32], text[64];
  proc_start(pid, start, sizeof start);
  snprintf(path, sizeof path, "%s/%s", cfg.run_dir, name);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  int n = snprintf(text, sizeof text, "%d %s\n", pid, start);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  write_all(fd, text, (size_t)n);
  close(fd);
  rename(tmp, path);
}

static void log_open(void) {
  snprintf(log_path, sizeof log_path, "%s/container.log", cfg.run_dir);
  log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  struct stat st;
  log_size = log_fd >= 0 && fstat(log_fd, &st) == 0 ? (size_t)st.st_size : 0;
}

/* Entries are gathered here and written in one go per chunk read, not one write(2) per line: a
 * container that prints 200,000 short lines would otherwise cost 200,000 system calls. */
static char log_buf[65536];
static size_t log_buf_len;
static char log_stamp[96]; /* the time of the chunk being logged, "2026-11-30T01:02:03.123456789Z" */

static void log_flush(void) {
  if (log_fd >= 0 && log_buf_len) write_all(log_fd, log_buf, log_buf_len);
  log_size += log_buf_len;
  log_buf_len = 0;
}

static void log_entry(int stream, const char *data, size_t len) {
  static char out[LOG_LINE * 6 + 256];
  size_t o = (size_t)snprintf(out, sizeof out, "{\"log\":\"");
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)data[i];
    if (c == '"' || c == '\\') {
      out[o++] = '\\';
      out[o++] = (char)c;
    } else if (c == '\n') {
      out[o++] = '\\';
      out[o++] = 'n';
    } else if (c < 0x20) {
      o += (size_t)snprintf(out + o, 7, "\\u%04x", c);
    } else {
      out[o++] = (char)c;
    }
  }
  o += (size_t)snprintf(out + o, sizeof out - o, "\",\"stream\":\"%s\",\"time\":\"%s\"}\n",
                        stream ? "stderr" : "stdout", log_stamp);
  if (log_fd < 0) return;
  if (log_size + log_buf_len + o > LOG_MAX) {
    /* keep one old file: container.log.1 */
    log_flush();
    char old[4300];
    snprintf(old, sizeof old, "%s.1", log_path);
    close(log_fd);
    rename(log_path, old);
    log_open();
  }
  if (log_buf_len + o > sizeof log_buf) log_flush();
  if (o > sizeof log_buf) {
    write_all(log_fd, out, o);
    log_size += o;
    return;
  }
  memcpy(log_buf + log_buf_len, out, o);
  log_buf_len += o;
}

/* The time every entry of the chunk now being logged carries: it arrived at once. */
static void log_stamp_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char day[32];
  strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(log_stamp, sizeof log_stamp, "%s.%09ldZ", day, ts.tv_nsec);
}

/* Lines go out whole; a line longer than LOG_LINE is cut into several entries, as Docker does. */
static void log_feed(int stream, const char *data, size_t len) {
  log_stamp_now();
  for (size_t i = 0; i < len; i++) {
    pending[stream].buf[pending[stream].len++] = data[i];
    if (data[i] == '\n' || pending[stream].len == LOG_LINE) {
      log_entry(stream, pending[stream].buf, pending[stream].len);
      pending[stream].len = 0;
    }
  }
  log_flush();
}

/* TO_CALLER: a foreground container's output goes on to the caller's stdout or stderr as well (a
 * reader that went away only stops that copy; the log keeps everything). */
static void log_drain(int stream, int fd, int *open_flag, int to_caller) {
  char buf[16384];
  ssize_t n = read(fd, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) {
    if (pending[stream].len) log_entry(stream, pending[stream].buf, pending[stream].len);
    log_flush();
    pending[stream].len = 0;
    *open_flag = 0;
    return;
  }
  if (to_caller) write_all(stream ? 2 : 1, buf, (size_t)n);
  log_feed(stream, buf, (size_t)n);
}

/* The first process of `run -d`: wait for the supervisor's word, print the id, exit. */
static int await_ready(int fd) {
  struct hull_error e;
  int n = read_full(fd, &e, sizeof e);
  if (n != (int)sizeof e) {
    fprintf(stderr, "hull: the container's supervisor died while starting it\n");
    return HULL_EXIT_SETUP;
  }
  if (e.exit_code == 0) {
    printf("%s\n", cfg.id ? cfg.id : "");
    fflush(stdout);
    return 0;
  }
  fprintf(stderr, "hull: %s%s%s\n", e.msg, e.err ? ": " : "", e.err ? strerror(e.err) : "");
  return (int)e.exit_code;
}

/* Bun ignores SIGPIPE and SIGXFSZ, and an ignored signal stays ignored across execve: give what we
 * run default dispositions, as a fresh process has. The raw syscall, because libc refuses to touch
 * the signals it reserves for itself (32-34), which a caller may have ignored too. */
static void reset_signals(void) {
  struct { void *handler; unsigned long flags; void *restorer; uint64_t mask; } dfl = {0};
  for (int sig = 1; sig < 65; sig++)
    if (sig != SIGKILL && sig != SIGSTOP) syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof dfl.mask);
}

static int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT, SIGALRM};

/* The signals a parent takes while its child runs: SIGCHLD reaps WAITFOR (its status into *STATUS),
 * SIGWINCH resizes the pty, the others go on to TARGET (through TARGET_FD, a pidfd, where there is
 * one: the container's pid may be reaped and reused by the time a late signal comes). The container
 * has a session of its own, so what is typed at the terminal reaches it only this way. */
static void take_signals(int sfd, pid_t waitfor, pid_t target, int target_fd, int master, int *status) {
  struct signalfd_siginfo si;
  while (read(sfd, &si, sizeof si) == sizeof si) {
    if (si.ssi_signo == SIGCHLD) {
      int ws;
      if (waitpid(waitfor, &ws, WNOHANG) == waitfor) *status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
    } else if (si.ssi_signo == SIGWINCH) {
      struct winsize ws;
      if (master >= 0 && ioctl(0, TIOCGWINSZ, &ws) == 0) ioctl(master, TIOCSWINSZ, &ws);
    } else if (target_fd >= 0) {
      syscall(SYS_pidfd_send_signal, target_fd, (int)si.ssi_signo, NULL, 0);
    } else if (target > 0) {
      kill(target, (int)si.ssi_signo);
    }
  }
}

/* The child is gone: copy out what it still wrote to the pty. */
static void drain_pty(int master, int *master_open) {
  struct pollfd m = {.fd = master, .events = POLLIN};
  while (poll(&m, 1, 0) > 0 && *master_open) relay(master, 1, master_open);
  *master_open = 0;
}

/* The exit status hull reports: the child's, or the error record's code when setup failed. */
static int final_status(int status, const struct hull_error *err, int have_err) {
  if (have_err) {
    fprintf(stderr, "hull: %s%s%s\n", err->msg, err->err ? ": " : "", err->err ? strerror(err->err) : "");
    if (status <= 0) status = (int)err->exit_code;
  }
  return status < 0 ? HULL_EXIT_SETUP : status;
}

/* One run of the container: namespaces, maps, the container, until it is gone. */
static int run_once(int detach) {
  int tty_flag = (cfg.flags & HULL_FLAG_TTY) != 0;
  /* the output through pipes: to the supervisor (detached), or through this process to the caller
   * and the log (a kept container in the foreground; with a pty, the pty is relayed and logged) */
  int piped = detach || (log_fd >= 0 && !tty_flag);
  if (piped)
    for (int i = 0; i < 2; i++)
      if (pipe2(log_pipes[i], O_CLOEXEC) < 0) die(errno, "pipe");
  int sync_pipe[2], back_pipe[2], err_pipe[2], sock[2] = {-1, -1};
  if (pipe2(sync_pipe, O_CLOEXEC) < 0 || pipe2(back_pipe, O_CLOEXEC) < 0 || pipe2(err_pipe, O_CLOEXEC) < 0)
    die(errno, "pipe");
  int tty = (cfg.flags & HULL_FLAG_TTY) != 0;
  if (tty && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sock) < 0) die(errno, "socketpair");
  if (tty && (ioctl(0, TIOCGWINSZ, &host_winsize) == 0 || ioctl(1, TIOCGWINSZ, &host_winsize) == 0))
    have_winsize = 1;

  sigset_t set, old;
  sigemptyset(&set);
  for (size_t i = 0; i < sizeof forwarded / sizeof *forwarded; i++) sigaddset(&set, forwarded[i]);
  sigaddset(&set, SIGCHLD);
  sigprocmask(SIG_BLOCK, &set, &old);
  int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) die(errno, "signalfd");

  pid_t ns_pid = (pid_t)syscall(SYS_clone, (unsigned long)(CLONE_NEWUSER | CLONE_NEWNS | SIGCHLD), 0, 0, 0, 0);
  if (ns_pid < 0) {
    int e = errno;
    remove_cleanup();
    die(e, "create user namespace (does this kernel allow unprivileged user namespaces? see hull doctor)");
  }
  if (ns_pid == 0) {
    close(sfd);
    close(sync_pipe[1]);
    close(back_pipe[0]);
    close(err_pipe[0]);
    if (sock[0] >= 0) close(sock[0]);
    sync_rd = sync_pipe[0];
    sync_wr = back_pipe[1];
    err_fd = err_pipe[1];
    tty_sock = sock[1];
    userns_stage();
  }
  close(sync_pipe[0]);
  close(back_pipe[1]);
  close(err_pipe[1]);
  if (sock[1] >= 0) close(sock[1]);

  /* Maps first, while the new stage waits: after this it is root inside and owns the rootfs. */
  err_fd = ready_fd;
  char msg[400];
  int rc = write_maps(ns_pid, msg, sizeof msg);
  if (rc) {
    /* Nothing in the layer belongs to other ids yet, so the host user can remove it. */
    kill(ns_pid, SIGKILL);
    waitpid(ns_pid, NULL, 0);
    remove_cleanup();
    die(rc > 0 ? rc : 0, "%s", msg);
  }
  char go = HULL_SYNC_MAPS_DONE;
  write_all(sync_pipe[1], &go, 1);
  close(sync_pipe[1]);

  int32_t ctr = 0;
  if (read_full(back_pipe[0], &ctr, sizeof ctr) != sizeof ctr) ctr = 0;
  close(back_pipe[0]);
  int ctr_fd = ctr > 0 ? (int)syscall(SYS_pidfd_open, ctr, 0) : -1;
  if (ctr > 0) write_pidfile("init.pid", ctr);
  int logs_open[2] = {0, 0};
  if (piped) {
    for (int i = 0; i < 2; i++) {
      close(log_pipes[i][1]);
      log_pipes[i][1] = -1;
      logs_open[i] = 1;
    }
    /* a caller that stops reading ends only the copy to it, never the container or its log */
    if (!detach) signal(SIGPIPE, SIG_IGN);
  }

  int master = -1;
  if (tty && ctr > 0) master = recv_fd(sock[0]);
  if (sock[0] >= 0) close(sock[0]);
  int stdin_open = (cfg.flags & HULL_FLAG_STDIN) != 0 && master >= 0, master_open = master >= 0;
  if (master >= 0 && stdin_open && isatty(0) && tcgetattr(0, &saved_tio) == 0) {
    struct termios raw = saved_tio;
    cfmakeraw(&raw);
    tio_saved = tcsetattr(0, TCSANOW, &raw) == 0;
  }

  struct hull_error err;
  int have_err = 0, err_open = 1, status = -1;
  while (status < 0 || master_open || logs_open[0] || logs_open[1]) {
    struct pollfd p[6] = {
        {.fd = sfd, .events = POLLIN},
        {.fd = err_open ? err_pipe[0] : -1, .events = POLLIN},
        {.fd = master_open ? master : -1, .events = POLLIN},
        {.fd = stdin_open ? 0 : -1, .events = POLLIN},
        {.fd = logs_open[0] ? log_pipes[0][0] : -1, .events = POLLIN},
        {.fd = logs_open[1] ? log_pipes[1][0] : -1, .events = POLLIN},
    };
    if (status >= 0) p[0].fd = -1;
    if (poll(p, 6, -1) < 0 && errno != EINTR) break;
    if (p[1].revents) {
      int n = read_full(err_pipe[0], &err, sizeof err);
      if (n == (int)sizeof err) have_err = 1;
      else err_open = 0;
      if (n == 0) err_open = 0;
      if (ready_fd >= 0 && !have_err && n == 0) {
        /* the command was exec'd: tell the first process. A failure is told only once the
         * container is gone and its state written, so `hull ps` never shows it running. */
        struct hull_error ok = {0};
        write_all(ready_fd, &ok, sizeof ok);
        close(ready_fd);
        ready_fd = err_fd = -1;
      }
    }
    if (p[4].revents) log_drain(0, log_pipes[0][0], &logs_open[0], !detach);
    if (p[5].revents) log_drain(1, log_pipes[1][0], &logs_open[1], !detach);
    if (p[2].revents) relay(master, 1, &master_open);
    if (p[3].revents) relay(0, master, &stdin_open);
    if (p[0].revents) take_signals(sfd, ns_pid, ctr, ctr_fd, master, &status);
    if (status >= 0 && master_open) drain_pty(master, &master_open);
  }
  restore_terminal();
  if (err_open) {
    int n = read_full(err_pipe[0], &err, sizeof err);
    if (n == (int)sizeof err) have_err = 1;
  }
  if (ready_fd >= 0) {
    struct hull_error gone = {.stage = HULL_STAGE_PARENT, .exit_code = status > 0 ? (uint32_t)status : HULL_EXIT_SETUP};
    snprintf(gone.msg, sizeof gone.msg, "the container exited (%d) before its command started", status);
    write_all(ready_fd, have_err ? &err : &gone, sizeof err);
    close(ready_fd);
    ready_fd = -1;
  }
  close(sfd);
  close(err_pipe[0]);
  if (ctr_fd >= 0) close(ctr_fd);
  if (master >= 0) close(master);
  for (int i = 0; i < 2; i++)
    if (piped && log_pipes[i][0] >= 0) {
      close(log_pipes[i][0]);
      log_pipes[i][0] = log_pipes[i][1] = -1;
    }
  return final_status(status, &err, have_err);
}


/* `hull stop` marks the container stopped; `hull rm` removes its directory: either ends restarts. */
static int stop_requested(void) {
  char path[4200];
  if (!cfg.run_dir) return 1;
  snprintf(path, sizeof path, "%s/stopping", cfg.run_dir);
  return access(path, F_OK) == 0 || access(cfg.run_dir, F_OK) != 0;
}

static void write_count(const char *name, int n) {
  char path[4200], tmp[4300], text[32];
  snprintf(path, sizeof path, "%s/%s", cfg.run_dir, name);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  int len = snprintf(text, sizeof text, "%d\n", n);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  write_all(fd, text, (size_t)len);
  close(fd);
  rename(tmp, path);
}

static int run_parent(int message_fd) {
  reset_signals();
  read_message(message_fd);

  int detach = (cfg.flags & HULL_FLAG_DETACH) != 0 && cfg.run_dir;
  if (detach) {
    int rp[2];
    if (pipe2(rp, O_CLOEXEC) < 0) die(errno, "pipe");
    pid_t sup = fork();
    if (sup < 0) die(errno, "fork the supervisor");
    if (sup > 0) {
      close(rp[1]);
      return await_ready(rp[0]);
    }
    close(rp[0]);
    ready_fd = rp[1];
    err_fd = ready_fd; /* the supervisor's own failures reach the first process, which prints them */
    setsid();
    prctl(PR_SET_NAME, "hull-supervisor", 0, 0, 0);
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
      dup2(null, 0);
      dup2(null, 1);
      dup2(null, 2);
      close(null);
    }
    write_pidfile("supervisor.pid", getpid());
    log_open();
  } else if ((cfg.flags & HULL_FLAG_LOG) && cfg.run_dir) {
    log_open();
  }

  /* --restart: the supervisor runs the container again while the policy says so and `hull stop`
   * has not marked it stopped; the pause doubles from 100 ms to a minute, and starts again at
   * 100 ms after a run of 10 s or more (Docker's rule). */
  long backoff = 100;
  for (int restarts = 0;; restarts++) {
    time_t started = time(NULL);
    int status = run_once(detach);
    int again = detach && (cfg.restart == HULL_RESTART_ALWAYS || cfg.restart == HULL_RESTART_UNLESS_STOPPED ||
                           (cfg.restart == HULL_RESTART_ON_FAILURE && status != 0 &&
                            (cfg.restart_max == 0 || (uint32_t)restarts < cfg.restart_max)));
    if (!again || stop_requested()) return status;
    if (time(NULL) - started >= 10) backoff = 100;
    /* the pause in slices of 100 ms, so that a stop or a removal ends it at once */
    for (long slept = 0; slept < backoff; slept += 100) {
      struct timespec slice = {0, 100 * 1000000L};
      nanosleep(&slice, NULL);
      if (stop_requested()) return status;
    }
    backoff = backoff * 2 > 60000 ? 60000 : backoff * 2;
    if (cfg.state_file) unlink(cfg.state_file);
    write_count("restarts", restarts + 1);
  }
}

/* `hull-shim probe overlay LOWER UPPER WORK MERGED`: can this user mount kernel overlay in a user
 * namespace? Used by `hull doctor`; exits 0 when it can. */
static int probe_overlay(char **dirs) {
  int go[2];
  if (pipe2(go, O_CLOEXEC) < 0) return 2;
  uid_t uid = getuid();
  gid_t gid = getgid();
  pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)(CLONE_NEWUSER | CLONE_NEWNS | SIGCHLD), 0, 0, 0, 0);
  if (pid < 0) return 2;
  if (pid == 0) {
    close(go[1]);
    char b;
    if (read(go[0], &b, 1) != 1) _exit(3);
    char opts[8192];
    snprintf(opts, sizeof opts, "lowerdir=%s,upperdir=%s,workdir=%s,userxattr", dirs[0], dirs[1], dirs[2]);
    _exit(mount("overlay", dirs[3], "overlay", 0, opts) == 0 ? 0 : 1);
  }
  close(go[0]);
  char umap[32], gmap[32], msg[200];
  snprintf(umap, sizeof umap, "0 %u 1", uid);
  snprintf(gmap, sizeof gmap, "0 %u 1", gid);
  cfg.uidmap = umap;
  cfg.gidmap = gmap;
  int rc = write_maps(pid, msg, sizeof msg);
  if (!rc && write(go[1], "g", 1) != 1) rc = errno;
  close(go[1]);
  int status;
  waitpid(pid, &status, 0);
  if (rc) return 2;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 3;
}

/* `hull-shim exec` (message on stdin): run the message's command as root in a new user namespace
 * with the message's id maps, and nothing else: no other namespace, no rootfs. hull unpacks and
 * removes image layers this way, so that files of every mapped id can be created and deleted. */
static int run_exec(int remove) {
  reset_signals();
  read_message(0);
  if (cfg.target_pid) {
    /* the user namespace of a running container (TARGET_PID), not a new one: only there may its
     * /proc/PID/root be read (hull cp) */
    char path[64];
    snprintf(path, sizeof path, "/proc/%u/ns/user", cfg.target_pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWUSER) < 0) die(errno, "join the container's user namespace");
    if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) die(errno, "become root in the user namespace");
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null < 0 || dup2(null, 0) < 0) die(errno, "stdin from /dev/null");
    execve(cfg.argv[0], (char *const *)cfg.argv, (char *const *)cfg.envp);
    die(errno, "exec %s", cfg.argv[0]);
  }
  int go[2];
  if (pipe2(go, O_CLOEXEC) < 0) die(errno, "pipe");
  /* with ROOTFS and OVERLAY, the command also gets a private mount namespace in which a stopped
   * container's layers are mounted at ROOTFS (hull cp) */
  int mount_ns = cfg.overlay != NULL && cfg.rootfs != NULL;
  pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)(CLONE_NEWUSER | (mount_ns ? CLONE_NEWNS : 0) | SIGCHLD), 0, 0, 0, 0);
  if (pid < 0) die(errno, "create user namespace (see hull doctor)");
  if (pid == 0) {
    close(go[1]);
    char b;
    if (read(go[0], &b, 1) != 1) _exit(HULL_EXIT_SETUP);
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) die(errno, "pdeathsig");
    if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) die(errno, "become root in the user namespace");
    if (mount_ns) {
      if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) die(errno, "make mounts private");
      int kernel_err = mount_kernel_overlay();
      if (!overlay_mounted) mount_fuse_overlay(kernel_err);
    }
    if (remove) {
      /* `hull-shim remove`: the message's arguments are trees to delete, files of any mapped id */
      for (int i = 0; i < cfg.argc; i++) remove_tree(cfg.argv[i]);
      for (int i = 0; i < cfg.argc; i++)
        if (access(cfg.argv[i], F_OK) == 0) die(ENOTEMPTY, "could not remove %s", cfg.argv[i]);
      _exit(0);
    }
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null < 0 || dup2(null, 0) < 0) die(errno, "stdin from /dev/null");
    execve(cfg.argv[0], (char *const *)cfg.argv, (char *const *)cfg.envp);
    die(errno, "exec %s", cfg.argv[0]);
  }
  close(go[0]);
  char msg[400];
  int rc = write_maps(pid, msg, sizeof msg);
  if (rc) {
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    die(rc > 0 ? rc : 0, "%s", msg);
  }
  if (write(go[1], "g", 1) != 1) die(errno, "start child");
  close(go[1]);
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) die(errno, "wait");
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ---- hull exec: join a running container ---------------------------------------------------------
 *
 * `hull-shim enter FD`: setns into every namespace of the container's pid 1 (TARGET_PID) that is not
 * already ours (with --network host, the network namespace is the host's), the user namespace first
 * so the others may be joined; the container's root through /proc/PID/root; then fork, because only
 * children enter the pid namespace. The child becomes the command as `hull run` makes it (user,
 * capabilities, no_new_privs, working directory); this process forwards signals, relays a pty for
 * -t, and exits with the command's status. */
/* Join every namespace of TARGET_PID that is not already ours, and its root. */
static void join_container(void) {
  static const char *names[] = {"user", "ipc", "uts", "net", "pid", "mnt"};
  int fds[6];
  char path[64];
  for (int i = 0; i < 6; i++) {
    snprintf(path, sizeof path, "/proc/%u/ns/%s", cfg.target_pid, names[i]);
    fds[i] = open(path, O_RDONLY | O_CLOEXEC);
    if (fds[i] < 0) die(errno, "the container's process %u is gone (is it running?)", cfg.target_pid);
    char own[64];
    snprintf(own, sizeof own, "/proc/self/ns/%s", names[i]);
    struct stat a, b;
    if (stat(own, &a) == 0 && fstat(fds[i], &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
      close(fds[i]);
      fds[i] = -1; /* shared with us already: joining it would need privileges we lack */
    }
  }
  snprintf(path, sizeof path, "/proc/%u/root", cfg.target_pid);
  int rootfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) die(errno, "open the container's root");
  for (int i = 0; i < 6; i++) {
    if (fds[i] < 0) continue;
    if (setns(fds[i], 0) < 0) die(errno, "join the container's %s namespace", names[i]);
    close(fds[i]);
  }
  if (fchdir(rootfd) < 0 || chroot(".") < 0 || chdir("/") < 0) die(errno, "enter the container's root");
  close(rootfd);
}

/* `hull-shim signal-all SIG` (message: TARGET_PID): SIG to every process of the container. Its
 * processes run as ids the host user cannot signal, so a child in the container's pid namespace,
 * root there, signals all of them but pid 1 (kill(-1) spares init and the caller), and pid 1 is
 * signalled from outside, where SIGSTOP reaches an init. `hull pause` without a cgroup freezer. */
static int run_signal_all(int sig) {
  reset_signals();
  read_message(0);
  join_container();
  pid_t child = fork();
  if (child < 0) die(errno, "fork");
  if (child == 0) _exit(kill(-1, sig) < 0 && errno != ESRCH ? 1 : 0);
  int status;
  waitpid(child, &status, 0);
  if (kill((pid_t)cfg.target_pid, sig) < 0) die(errno, "signal the container's pid 1");
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

static int run_enter(int message_fd) {
  reset_signals();
  read_message(message_fd);
  join_container();

  int tty = (cfg.flags & HULL_FLAG_TTY) != 0;
  int master = -1, slave = -1;
  if (tty) {
    if (ioctl(0, TIOCGWINSZ, &host_winsize) == 0 || ioctl(1, TIOCGWINSZ, &host_winsize) == 0) have_winsize = 1;
    master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    int unlock = 0;
    if (master < 0 || ioctl(master, TIOCSPTLCK, &unlock) < 0) die(errno, "open a pty in the container");
    slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
    if (slave < 0) die(errno, "open pty peer");
    if (have_winsize) ioctl(master, TIOCSWINSZ, &host_winsize);
  }
  int errp[2];
  if (pipe2(errp, O_CLOEXEC) < 0) die(errno, "pipe");
  sigset_t set;
  sigemptyset(&set);
  for (size_t i = 0; i < sizeof forwarded / sizeof *forwarded; i++) sigaddset(&set, forwarded[i]);
  sigaddset(&set, SIGCHLD);
  sigprocmask(SIG_BLOCK, &set, NULL);
  int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) die(errno, "signalfd");

  pid_t child = fork();
  if (child < 0) die(errno, "fork");
  if (child == 0) {
    stage = HULL_STAGE_CONTAINER;
    close(errp[0]);
    err_fd = errp[1];
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (tty) close(master);
    command_stdio(tty ? slave : -1);
    become_command();
    exec_command();
  }
  close(errp[1]);
  if (slave >= 0) close(slave);
  int stdin_open = tty && (cfg.flags & HULL_FLAG_STDIN), master_open = master >= 0;
  if (stdin_open && isatty(0) && tcgetattr(0, &saved_tio) == 0) {
    struct termios raw = saved_tio;
    cfmakeraw(&raw);
    tio_saved = tcsetattr(0, TCSANOW, &raw) == 0;
  }
  struct hull_error err;
  int have_err = 0, err_open = 1, status = -1;
  while (status < 0 || master_open) {
    struct pollfd p[4] = {
        {.fd = status < 0 ? sfd : -1, .events = POLLIN},
        {.fd = err_open ? errp[0] : -1, .events = POLLIN},
        {.fd = master_open ? master : -1, .events = POLLIN},
        {.fd = stdin_open ? 0 : -1, .events = POLLIN},
    };
    if (poll(p, 4, -1) < 0 && errno != EINTR) break;
    if (p[1].revents) {
      int n = read_full(errp[0], &err, sizeof err);
      if (n == (int)sizeof err) have_err = 1;
      else err_open = 0;
    }
    if (p[2].revents) relay(master, 1, &master_open);
    if (p[3].revents) relay(0, master, &stdin_open);
    if (p[0].revents) take_signals(sfd, child, child, -1, master, &status);
    if (status >= 0 && master_open) drain_pty(master, &master_open);
  }
  restore_terminal();
  if (err_open && read_full(errp[0], &err, sizeof err) == (int)sizeof err) have_err = 1;
  return final_status(status, &err, have_err);
}

int main(int argc, char **argv) {
  /* exec'd from a memfd, the kernel would name us after the descriptor number; say what we are */
  prctl(PR_SET_NAME, "hull-shim", 0, 0, 0);
  if (argc == 3 && !strcmp(argv[1], "enter")) return run_enter(atoi(argv[2]));
  if (argc == 3 && !strcmp(argv[1], "signal-all")) return run_signal_all(atoi(argv[2]));
  if (argc == 3 && !strcmp(argv[1], "run")) {
    int fd = atoi(argv[2]);
    return run_parent(fd);
  }
  if (argc == 2 && !strcmp(argv[1], "exec")) return run_exec(0);
  if (argc == 2 && !strcmp(argv[1], "remove")) return run_exec(1);
  if (argc == 7 && !strcmp(argv[1], "probe") && !strcmp(argv[2], "overlay")) return probe_overlay(argv + 3);
  if (argc == 2 && !strcmp(argv[1], "abi")) {
    printf("%d\n", HULL_ABI_VERSION);
    return 0;
  }
  fprintf(stderr, "hull-shim is started by hull; run `hull run` instead\n");
  return 2;
}
