/* hull-shim: error reports and the small helpers every part uses. */
#include "shim.h"

struct config cfg;

int err_fd = -1;
uint32_t stage = HULL_STAGE_PARENT;

/* Under Ubuntu 23.10+'s AppArmor restriction a user namespace is made, but without capabilities in
 * it: the first mount or map fails with EPERM/EACCES, which would not say why. Looked at only then. */
static int apparmor_restricts(void) {
  char c = 0;
  int fd = open("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  if (read(fd, &c, 1) != 1) c = 0;
  close(fd);
  return c == '1';
}

/* hull oci --log: the error as runc writes it, so containerd and CRI-O find the reason there */
static void log_error(const char *msg, int err) {
  char text[700], line[1600];
  snprintf(text, sizeof text, "%s%s%s", msg, err ? ": " : "", err ? strerror(err) : "");
  char stamp[40];
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
  /* the message as a JSON string, which logfmt's quoted value takes as well */
  char quoted[1400];
  size_t o = 0;
  quoted[o++] = '"';
  for (const unsigned char *p = (const unsigned char *)text; *p && o + 8 < sizeof quoted; p++) {
    if (*p == '"' || *p == '\\') o += (size_t)snprintf(quoted + o, sizeof quoted - o, "\\%c", *p);
    else if (*p < 0x20) o += (size_t)snprintf(quoted + o, sizeof quoted - o, "\\u%04x", *p);
    else quoted[o++] = (char)*p;
  }
  quoted[o++] = '"';
  quoted[o] = 0;
  int n = cfg.error_log_json
              ? snprintf(line, sizeof line, "{\"level\":\"error\",\"msg\":%s,\"time\":\"%s\"}\n", quoted, stamp)
              : snprintf(line, sizeof line, "time=\"%s\" level=error msg=%s\n", stamp, quoted);
  int fd = open(cfg.error_log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return;
  write_all(fd, line, (size_t)n);
  close(fd);
}

/* S on F with its control characters (C0 but tab, DEL, and C1 as UTF-8 encodes them) shown as \xHH, and the
 * line separators U+2028 and U+2029 as \uHHHH, as src/sys/control-chars.ts's visible() shows them: a
 * message may quote an image's words (its entrypoint, a path), which must not reach the caller's
 * terminal as escape sequences, nor break the error's one line in two */
static void put_visible(FILE *f, const char *s) {
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if ((*p < 0x20 && *p != '\t') || *p == 0x7f) {
      fprintf(f, "\\x%02x", *p);
    } else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
      fprintf(f, "\\x%02x", p[1]);
      p++;
    } else if (*p == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) {
      fprintf(f, "\\u20%02x", p[2] - 0x80);
      p += 2;
    } else {
      fputc(*p, f);
    }
  }
}

/* PREFIX, then MSG made visible (put_visible), then a line end, on stderr */
void print_line(const char *prefix, const char *msg) {
  fputs(prefix, stderr);
  put_visible(stderr, msg);
  fputc('\n', stderr);
}

void print_error(const char *msg, int err) {
  fputs("hull: ", stderr);
  put_visible(stderr, msg);
  fprintf(stderr, "%s%s\n", err ? ": " : "", err ? strerror(err) : "");
  if (cfg.error_log) log_error(msg, err);
  if ((err == EPERM || err == EACCES) && apparmor_restricts())
    fprintf(stderr, "hull: AppArmor restricts user namespaces on this host (kernel.apparmor_restrict_unprivileged_userns=1): "
                    "hull doctor --apparmor-profile | sudo tee /etc/apparmor.d/hull && sudo apparmor_parser -r /etc/apparmor.d/hull\n");
}

void report(int err, uint32_t code, const char *fmt, ...) {
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
    print_error(e.msg, err);
  }
}

void __attribute__((noreturn)) die(int err, const char *fmt, ...) {
  char buf[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  report(err, HULL_EXIT_SETUP, "%s", buf);
  _exit(HULL_EXIT_SETUP);
}

/* ---- small helpers ---------------------------------------------------------------------------- */

void write_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    p += n;
    len -= (size_t)n;
  }
}

/* write_all to a stage that may be gone already (a setup failure ends it): EPIPE, never SIGPIPE,
 * which would end this process too, its report and its clean-up unmade */
void write_to_stage(int fd, const void *buf, size_t len) {
  void (*old)(int) = signal(SIGPIPE, SIG_IGN);
  write_all(fd, buf, len);
  signal(SIGPIPE, old);
}

/* HULL_TRACE=timing: LABEL with the ms since the caller started (its clock: the wall clock), and the pid */
void trace(const char *label) {
  if (cfg.trace_origin <= 0) return;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  double ms = (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6 - cfg.trace_origin;
  char line[160];
  int n = snprintf(line, sizeof line, "hull-trace %8.2f ms  shim %d: %s\n", ms, (int)getpid(), label);
  if (n > 0) write_all(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

int read_full(int fd, void *buf, size_t len) {
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

/* A small file of the kernel's (/proc, cgroup files) into BUF, NUL-terminated; its length, or -1. */
/* FD is the file PATH names (a namespace: /proc/self/ns/user): the same device and inode */
int fd_is(int fd, const char *path) {
  struct stat a, b;
  return fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

ssize_t read_small_file(const char *path, char *buf, size_t size) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, size - 1);
  close(fd);
  if (n < 0) return -1;
  buf[n] = 0;
  return n;
}

pid_t spawn(const char *const argv[]) {
  pid_t pid = fork();
  if (pid == 0) {
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  return pid;
}

/* ARGV in a child of its own session, with /dev/null for its standard streams and the default
 * signal mask (the caller blocks signals for its signalfd): the health check's prober. */
pid_t spawn_quiet(const char *const argv[]) {
  pid_t pid = fork();
  if (pid == 0) {
    quiet_child(-1);
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  return pid;
}

/* ARGV in the background, never waited for: a grandchild in a session of its own, which init reaps
 * (the caller reaps only the child between them, at once). */
void spawn_detached(const char *const argv[]) {
  pid_t pid = fork();
  if (pid == 0) {
    if (fork() == 0) {
      quiet_child(-1);
      execv(argv[0], (char *const *)argv);
      _exit(127);
    }
    _exit(0);
  }
  if (pid > 0) waitpid(pid, NULL, 0);
}

/* In a helper's child: no signal blocked, a session of its own, /dev/null for stdin and stdout, and
 * for stderr unless ERRFD says where it goes. */
void quiet_child(int errfd) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  setsid();
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) {
    dup2(null, 0);
    dup2(null, 1);
    if (errfd < 0) dup2(null, 2);
  }
  if (errfd >= 0) dup2(errfd, 2);
}

int wait_status(pid_t pid) {
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

/* NAME under DIRFD as a directory, never through a link; one of mode 000 (overlay's work/work) is
 * opened after a chmod */
static int open_dir_at(int dirfd, const char *name) {
  int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == EACCES) {
    fchmodat(dirfd, name, 0700, 0);
    fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  }
  return fd;
}

/* A directory on the way down: the subdirectories it still has to empty, by name (the scan that
 * found them does not run again), its name in its parent, and what it is, to know it again when
 * the walk climbs back to it through ".." */
struct level {
  char **subs;
  size_t nsubs, cap;
  char *name;
  dev_t dev;
  ino_t ino;
};

/* Unlink what directory FD holds, reading it once; the subdirectories that are not empty yet go on
 * LV's list. 0, or -1 for an entry that cannot be removed (or no memory). */
static int scan_dir(int fd, struct level *lv) {
  char buf[8192];
  long n;
  while ((n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0)
    for (long off = 0; off < n;) {
      struct linux_dirent64 *d = (void *)(buf + off);
      off += d->d_reclen;
      if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, "..")) continue;
      if (d->d_type != DT_DIR) {
        if (unlinkat(fd, d->d_name, 0) == 0 || errno == ENOENT) continue;
        if (errno != EISDIR) return -1;
      }
      if (unlinkat(fd, d->d_name, AT_REMOVEDIR) == 0 || errno == ENOENT) continue;
      if (errno != ENOTEMPTY && errno != EEXIST) return -1;
      if (lv->nsubs == lv->cap) {
        size_t cap = lv->cap ? lv->cap * 2 : 16;
        char **subs = realloc(lv->subs, cap * sizeof *subs);
        if (!subs) return -1;
        lv->subs = subs;
        lv->cap = cap;
      }
      if (!(lv->subs[lv->nsubs] = strdup(d->d_name))) return -1;
      lv->nsubs++;
    }
  return n < 0 ? -1 : 0;
}

/* Remove NAME under DIRFD and everything below it, at any depth and width: a loop, not a
 * recursion, with one directory open at a time (down by name, up by ".."), each directory read
 * once, and what is left to visit kept on the heap. A container can nest directories thousands
 * deep (a recursion with a buffer a level overflowed the stack there, and one descriptor a level
 * would pass the limit) or put 40,000 full directories side by side (reading the parent again after
 * each costs the square of their number). Climbing, ".." must be the directory the walk came down
 * from: a tree moved under the walk ends it rather than let it climb out. */
void remove_tree_at(int dirfd, const char *name) {
  if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT) return;
  if (unlinkat(dirfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT) return;
  int cur = open_dir_at(dirfd, name);
  if (cur < 0) return;
  struct level *stack = NULL;
  size_t depth = 0, cap = 0;
  char *sub = NULL;
  for (;;) {
    if (depth == 0 || sub) {
      /* a new level for CUR, reached by SUB (none at the top) */
      struct stat st;
      if (depth == cap) {
        size_t ncap = cap ? cap * 2 : 64;
        struct level *ns = realloc(stack, ncap * sizeof *ns);
        if (!ns) break;
        stack = ns;
        cap = ncap;
      }
      if (fstat(cur, &st) < 0) break;
      stack[depth] = (struct level){.name = sub, .dev = st.st_dev, .ino = st.st_ino};
      sub = NULL;
      depth++;
      if (scan_dir(cur, &stack[depth - 1]) < 0) break;
    }
    struct level *lv = &stack[depth - 1];
    if (lv->nsubs > 0) {
      sub = lv->subs[--lv->nsubs];
      int next = open_dir_at(cur, sub);
      if (next < 0) break;
      close(cur);
      cur = next;
      continue;
    }
    if (depth == 1) break;
    int up = openat(cur, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct stat st;
    const struct level *parent = &stack[depth - 2];
    if (up < 0 || fstat(up, &st) < 0 || st.st_dev != parent->dev || st.st_ino != parent->ino) {
      if (up >= 0) close(up);
      break;
    }
    close(cur);
    cur = up;
    depth--;
    int gone = unlinkat(cur, stack[depth].name, AT_REMOVEDIR) == 0 || errno == ENOENT;
    free(stack[depth].name);
    free(stack[depth].subs);
    if (!gone) break;
  }
  close(cur);
  free(sub);
  while (depth > 0) {
    struct level *lv = &stack[--depth];
    while (lv->nsubs > 0) free(lv->subs[--lv->nsubs]);
    free(lv->subs);
    free(lv->name);
  }
  free(stack);
  unlinkat(dirfd, name, AT_REMOVEDIR);
}

void remove_tree(const char *path) { remove_tree_at(AT_FDCWD, path); }

/* A name link (names/N -> id) goes only while it still names this container: after a `hull rename`
 * the old name may already be another container's. Everything else is removed whole. */
void remove_cleanup(void) {
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
    /* a rename under way into the directory as it is emptied (init.pid, as the command ends at
     * once) leaves it not empty: a second pass takes what moved */
    remove_tree(p);
    struct stat st;
    if (lstat(p, &st) == 0) remove_tree(p);
  }
}

/* An FD sent over the unix socket SOCK (SCM_RIGHTS, one byte of data), CLOEXEC; -1 at the end or on error */
int recv_fd(int sock) {
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

/* FD over the unix socket SOCK (SCM_RIGHTS), with DATA as the message's bytes; sendmsg's result */
ssize_t send_fd_with(int sock, int fd, const char *data) {
  struct iovec iov = {.iov_base = (void *)data, .iov_len = strlen(data)};
  char ctl[CMSG_SPACE(sizeof(int))];
  memset(ctl, 0, sizeof ctl);
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
  return sendmsg(sock, &msg, 0);
}
