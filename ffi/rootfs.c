/* hull-shim: the container's root: paths resolved inside it, its setup steps, its overlay. */
#include "shim.h"

/* ---- resolving paths inside the rootfs -------------------------------------------------------- */

int open_in_root(int rootfd, const char *path, int flags) {
  struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC),
                         .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
}

/* Open PATH beneath the rootfs, creating missing directories (and, if want_file, the last component
 * as an empty file). Symlinks in the image resolve as if the rootfs were /, so they cannot point out.
 * Each prefix is resolved from the root, never from the directory before it: an absolute link such
 * as /var/run -> /run must mean the image's /run, not /var/run/run (that looped: ELOOP). */
int ensure_in_root(int rootfd, const char *path, int want_file) {
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

void fd_path(char *buf, size_t len, int fd) { snprintf(buf, len, "/proc/self/fd/%d", fd); }

/* A read-only remount inside a user namespace must repeat the flags the kernel locked on the mount. */
unsigned long locked_flags(const char *path) {
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

void remount_ro(const char *path, const char *what) {
  if (mount(NULL, path, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | locked_flags(path), NULL) < 0)
    die(errno, "remount %s read-only", what);
}

/* Read-only for the mount at DST and every mount beneath it: a bind of a host directory brings the
 * host's submounts along (MS_REC), and a remount reaches only the top one (as Docker 25+, which uses
 * the same call). An fd opened before a mount still names the covered directory; reopen it first. */
void remount_ro_in_root(int rootfd, const char *dst) {
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
void copy_tree(int srcfd, int dstfd) {
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

/* SRC's content into DST, and SRC's owner and mode onto DST */
static void copy_dir(int src, int dst) {
  copy_tree(src, dst);
  struct stat st;
  if (fstat(src, &st) == 0) {
    fchown(dst, st.st_uid, st.st_gid);
    fchmod(dst, st.st_mode & 07777);
  }
}

int dir_is_empty(const char *path) {
  DIR *d = opendir(path);
  if (!d) return 0;
  struct dirent *e;
  int empty = 1;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) empty = 0;
  closedir(d);
  return empty;
}

void run_step(int rootfd, const struct step *s) {
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
    unsigned long extra = flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC);
    if (is_bind && extra) {
      /* a bind takes no flags of its own: an OCI bundle's nosuid, nodev, noexec need a remount, of
       * the new mount (the fd above still names the directory it covers) */
      int top = open_in_root(rootfd, s->dst, O_PATH);
      if (top < 0) die(errno, "mount point %s", s->dst);
      fd_path(target, sizeof target, top);
      if (mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | extra | locked_flags(target), NULL) < 0)
        die(errno, "remount %s nosuid/nodev/noexec", s->dst);
      close(top);
    }
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
          copy_dir(src, dst);
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
  case HULL_STEP_TMPCOPYUP: {
    /* what is there now, owners and modes too, copied into the new mount once it covers it */
    int under = open_in_root(rootfd, s->dst, O_RDONLY | O_DIRECTORY);
    struct step m = *s;
    m.op = HULL_STEP_MOUNT;
    run_step(rootfd, &m);
    if (under >= 0) {
      int top = open_in_root(rootfd, s->dst, O_RDONLY | O_DIRECTORY);
      if (top < 0) die(errno, "tmpcopyup %s", s->dst);
      copy_dir(under, top);
      close(top);
      close(under);
    }
    break;
  }
  case HULL_STEP_PROPAGATION: {
    int fd = open_in_root(rootfd, s->dst, O_PATH);
    if (fd < 0) die(errno, "mount point %s", s->dst);
    fd_path(target, sizeof target, fd);
    if (mount(NULL, target, NULL, s->flags, NULL) < 0) die(errno, "propagation of the mount at %s", s->dst);
    close(fd);
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
  case HULL_STEP_SYSCTL: {
    char path[4096];
    snprintf(path, sizeof path, "/proc/sys/%s", s->src);
    /* in the container's /proc, whose sysctls are its namespaces' own */
    int fd = open_in_root(rootfd, path, O_WRONLY | O_TRUNC);
    if (fd < 0) die(errno, "--sysctl %s", s->dst);
    size_t n = strlen(s->data);
    if (write(fd, s->data, n) != (ssize_t)n) die(errno, "--sysctl %s=%s", s->dst, s->data);
    close(fd);
    break;
  }
  default: die(EINVAL, "unknown setup step %u", s->op);
  }
}


/* ---- the overlay ------------------------------------------------------------------------------ */

int overlay_mounted;

/* Returns 0, or the errno of the refused kernel overlay mount (-1 when it was not tried). */
int mount_kernel_overlay(void) {
  if (!cfg.overlay || cfg.overlay_mode == HULL_OVERLAY_FUSE) return -1;
  char opts[8192];
  /* A --rm container's layer (it has paths to clean up) goes with it: its fsyncs would make durable
   * what is about to be removed, so they are skipped (overlay's volatile, Linux 5.10; podman mounts
   * its --rm containers so too). A dpkg or a database in a throwaway container then writes at the
   * page cache's speed. A kernel without the option gets the mount without it. */
  int vol = cfg.ncleanup > 0;
  snprintf(opts, sizeof opts, "%s,userxattr%s", cfg.overlay, vol ? ",volatile" : "");
  if (mount("overlay", cfg.rootfs, "overlay", 0, opts) == 0) {
    overlay_mounted = 1;
    return 0;
  }
  if (vol && errno == EINVAL) {
    snprintf(opts, sizeof opts, "%s,userxattr", cfg.overlay);
    if (mount("overlay", cfg.rootfs, "overlay", 0, opts) == 0) {
      overlay_mounted = 1;
      return 0;
    }
  }
  int err = errno;
  if (cfg.overlay_mode == HULL_OVERLAY_KERNEL) die(err, "kernel overlay mount (HULL_OVERLAY=kernel)");
  return err;
}

/* The fallback when the kernel refuses overlay in a user namespace (kernels before 5.11, some
 * filesystems). Its chatter on stderr is kept back and shown only if it fails. */
void mount_fuse_overlay(int kernel_err) {
  int tried_kernel = kernel_err > 0;
  if (!cfg.fuse_prog || !*cfg.fuse_prog)
    die(kernel_err, "overlay mount failed (a store on NFS or another file system overlay cannot use? see hull doctor) and fuse-overlayfs is not installed (apt-get install fuse-overlayfs)");
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
