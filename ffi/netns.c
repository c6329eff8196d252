/* hull-shim: the shared network namespace of user-defined networks.
 *
 * Containers on a user network reach each other through a bridge per network, and the bridges
 * live in one network namespace per user and store, as podman's rootless netns. A process must
 * hold that namespace open: the holder, a tiny process started here on first need (double-forked,
 * so no container's supervisor owns it), in a user namespace H with the same id map a container
 * gets. It exits once no attachment is left, under the lock every attach holds, so it never leaves
 * while one is being made.
 *
 * Moving a veth end into a container's network namespace needs CAP_NET_ADMIN over both. Only a
 * process of H holds that over a container's namespaces when the container's user namespace C is a
 * child of H: so a container on a user network is cloned from inside H (the clone is this process's
 * child still, CLONE_PARENT), and its maps are written from H, in H's ids. The caller owns H, so
 * pasta, exec and `hull top` reach C as before. */
#include "shim.h"

#define NS_GET_PARENT 0xb702

static int lock_fd = -1;

static void holder_file(char *out, size_t len, const char *name) {
  snprintf(out, len, "%s/%s", cfg.holder_dir, name);
}

/* PID is a holder hull started: named hull-netns, the caller's, in the caller's pid namespace, its
 * user namespace a child of the caller's. The pid file alone is not trusted: a pid file pointing at a
 * container's process (which may name itself hull-netns) would nest the next containers under that
 * container's user namespace, giving its root every capability over them. */
static int is_holder(pid_t pid) {
  char path[64], text[512];
  snprintf(path, sizeof path, "/proc/%d/comm", pid);
  if (read_small_file(path, text, sizeof text) <= 0 || strcmp(text, "hull-netns\n")) return 0;
  /* a holder killed outright and not reaped yet (a pid 1 that reaps nothing) keeps its pid, name and
   * start time: a zombie has no namespaces to lend */
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  const char *close_paren = read_small_file(path, text, sizeof text) > 0 ? strrchr(text, ')') : NULL;
  if (!close_paren || close_paren[1] != ' ' || close_paren[2] == 'Z' || close_paren[2] == 'X') return 0;
  struct stat st;
  snprintf(path, sizeof path, "/proc/%d", pid);
  if (stat(path, &st) < 0 || st.st_uid != getuid()) return 0;
  snprintf(path, sizeof path, "/proc/%d/ns/pid", pid);
  int pidns = open(path, O_RDONLY | O_CLOEXEC);
  if (pidns < 0) return 0;
  int ours = fd_is(pidns, "/proc/self/ns/pid");
  close(pidns);
  if (!ours) return 0;
  snprintf(path, sizeof path, "/proc/%d/ns/user", pid);
  int user = open(path, O_RDONLY | O_CLOEXEC);
  if (user < 0) return 0;
  int parent = ioctl(user, NS_GET_PARENT);
  close(user);
  if (parent < 0) return 0;
  ours = fd_is(parent, "/proc/self/ns/user");
  close(parent);
  return ours;
}

/* The holder's pid while the process its pid file names ("pid starttime") lives, else 0. */
static pid_t holder_pid(void) {
  char path[4200], text[128], start[32];
  holder_file(path, sizeof path, "holder.pid");
  if (read_small_file(path, text, sizeof text) <= 0) return 0;
  int pid = atoi(text);
  char *sp = strchr(text, ' ');
  if (pid <= 0 || !sp) return 0;
  sp++;
  size_t n = strcspn(sp, " \n");
  proc_start(pid, start, sizeof start);
  if (!start[0] || strlen(start) != n || strncmp(start, sp, n)) return 0;
  return is_holder(pid) ? pid : 0;
}

/* The pastas of this user whose target (the last argument) is HOLDER: found in /proc rather than
 * through a pid file, which a removed store takes along. With KILL each gets SIGTERM; the count. */
static int holder_pastas(pid_t holder, int kill_them) {
  char want[16];
  snprintf(want, sizeof want, "%d", (int)holder);
  /* HOLDER 0: the pastas of holders that are gone (one killed outright could not end its own) */
  int orphans = holder == 0;
  DIR *d = opendir("/proc");
  if (!d) return 0;
  int found = 0;
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9' || strlen(e->d_name) > 10) continue;
    char path[64], comm[32], cmd[4096];
    snprintf(path, sizeof path, "/proc/%.10s/comm", e->d_name);
    if (read_small_file(path, comm, sizeof comm) <= 0 || strncmp(comm, "pas", 3)) continue;
    snprintf(path, sizeof path, "/proc/%.10s/cmdline", e->d_name);
    ssize_t n = read_small_file(path, cmd, sizeof cmd);
    if (n <= 1) continue;
    /* NUL-separated: the last argument starts after the last NUL but the final one */
    cmd[n - 1] = 0;
    char *last = cmd;
    for (ssize_t i = 0; i < n - 1; i++)
      if (!cmd[i]) last = cmd + i + 1;
    if (orphans) {
      /* a holder's pasta names its pid file: only those, and only when its target is no holder */
      int holders = 0;
      for (char *a = cmd; a < cmd + n - 1; a += strlen(a) + 1)
        if (strstr(a, "/holder.pasta.pid")) holders = 1;
      /* a holder killed outright may linger as a zombie, still named hull-netns: not alive */
      if (!holders || (atoi(last) > 0 && is_holder(atoi(last)))) continue;
    } else if (strcmp(last, want)) {
      continue;
    }
    found++;
    if (kill_them) kill(atoi(e->d_name), SIGTERM);
  }
  closedir(d);
  return found;
}

/* The holder: it only keeps the namespace. Every container cloned under it holds holder.users
 * (shared) for its life and touches the file when it ends (holder_unuse), and every attach under way
 * holds holder.lock. The holder goes once both are free and the last use ended a second ago: a
 * script's loop of `hull run`s keeps one namespace, not a new one (and its pasta) every other run,
 * as sampling for free locks alone gave (they are free between two runs). */
static void __attribute__((noreturn)) holder_loop(const char *dir) {
  prctl(PR_SET_NAME, "hull-netns", 0, 0, 0);
  char lock[4200], pidfile[4200], usersfile[4200];
  snprintf(lock, sizeof lock, "%s/holder.lock", dir);
  snprintf(usersfile, sizeof usersfile, "%s/holder.users", dir);
  snprintf(pidfile, sizeof pidfile, "%s/holder.pid", dir);
  char pasta_file[4300];
  snprintf(pasta_file, sizeof pasta_file, "%s/holder.pasta.pid", dir);
  /* Links left when it goes are stale (a container killed outright, whose namespace the kernel
   * tears down seconds later, or never while a joined container keeps it): deleted here. */
  for (;;) {
    struct timespec t = {0, 250000000};
    nanosleep(&t, NULL);
    char text[128];
    int fd = open(lock, O_RDWR | O_CLOEXEC);
    if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0) {
      close(fd);
      continue;
    }
    int users = open(usersfile, O_RDWR | O_CLOEXEC);
    struct stat st;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int busy = users >= 0 && flock(users, LOCK_EX | LOCK_NB) < 0;
    int recent = users >= 0 && fstat(users, &st) == 0 && now.tv_sec - st.st_mtim.tv_sec < 2 &&
                 (now.tv_sec - st.st_mtim.tv_sec) * 1000000000L + (now.tv_nsec - st.st_mtim.tv_nsec) < 1000000000L;
    if (busy || recent) {
      if (users >= 0) close(users);
      if (fd >= 0) close(fd);
      continue;
    }
    net_delete_ports();
    /* the namespace's own pasta goes with it */
    holder_pastas(getpid(), 1);
    /* the pid file names this process still (a store removed meanwhile has none) */
    if (read_small_file(pidfile, text, sizeof text) > 0 && atoi(text) == getpid()) {
      unlink(pidfile);
      unlink(pasta_file);
      char err[4300];
      snprintf(err, sizeof err, "%s/holder.pasta.err", dir);
      unlink(err);
      char path[4300];
      snprintf(path, sizeof path, "%s/holder.nat", dir);
      unlink(path);
    }
    _exit(0);
  }
}

/* Start a holder: its maps written by newuidmap as a container's, its pid file written. */
static pid_t holder_start(char *msg, size_t len) {
  holder_pastas(0, 1);
  int back[2], go[2];
  if (pipe2(back, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0) {
    snprintf(msg, len, "pipe");
    return -errno;
  }
  pid_t a = fork();
  if (a == 0) {
    /* nothing of the starter's but the two pipe ends it needs: with a copy of go[1] the holder-to-be
     * would wait for ever on a starter killed before its word (and a copy of the holder lock would
     * keep every other hull waiting on it; seen under the kill -9 test) */
    close(go[1]);
    close(back[0]);
    holder_release();
    /* its own session, and orphaned at once: it belongs to no container's supervisor */
    setsid();
    pid_t b = (pid_t)syscall(SYS_clone, (unsigned long)(CLONE_NEWUSER | CLONE_NEWNET | SIGCHLD), 0, 0, 0, 0);
    if (b == 0) {
      /* named before its pid file exists: is_holder() checks the name */
      prctl(PR_SET_NAME, "hull-netns", 0, 0, 0);
      char c;
      if (read_full(go[0], &c, 1) != 1) _exit(1);
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, NULL);
      for (int s = 1; s < 32; s++)
        if (s != SIGKILL && s != SIGSTOP) signal(s, SIG_DFL);
      if (chdir("/") < 0) _exit(1);
      char dir[4096];
      snprintf(dir, sizeof dir, "%s", cfg.holder_dir);
      syscall(SYS_close_range, 0, ~0U, 0);
      holder_loop(dir);
    }
    int32_t p = b < 0 ? -errno : b;
    write_all(back[1], &p, sizeof p);
    _exit(0);
  }
  close(back[1]);
  close(go[0]);
  int32_t b = -1;
  if (a < 0 || read_full(back[0], &b, sizeof b) != sizeof b) b = -1;
  close(back[0]);
  if (a > 0) waitpid(a, NULL, 0);
  if (b <= 0) {
    close(go[1]);
    snprintf(msg, len,
             "create user namespace for the shared network namespace (does this kernel allow unprivileged user "
             "namespaces? see hull doctor)");
    return b < 0 ? b : -EAGAIN;
  }
  int rc = write_maps_of(b, cfg.holder_uidmap, cfg.holder_gidmap, msg, len);
  if (rc) {
    kill(b, SIGKILL);
    close(go[1]);
    return rc > 0 ? -rc : -EPERM;
  }
  write_all(go[1], "g", 1);
  close(go[1]);
  /* what a holder killed outright left: its way out was in its own namespace, gone with it; read as
   * the new one's, holder.nat "ok" would skip making the new namespace's way out */
  static const char *const stale[] = {"holder.nat", "holder.pasta.pid", "holder.pasta.err"};
  for (size_t i = 0; i < sizeof stale / sizeof *stale; i++) {
    char old[4200];
    holder_file(old, sizeof old, stale[i]);
    unlink(old);
  }
  char path[4200], tmp[4300], start[32], text[64];
  proc_start(b, start, sizeof start);
  holder_file(path, sizeof path, "holder.pid");
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  int n = snprintf(text, sizeof text, "%d %s\n", b, start);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || write(fd, text, (size_t)n) != n || fsync(fd) < 0 || rename(tmp, path) < 0) {
    rc = errno;
    if (fd >= 0) close(fd);
    kill(b, SIGKILL);
    snprintf(msg, len, "write %s", path);
    return -rc;
  }
  close(fd);
  return b;
}

/* Do MAP (a message's "0 1000 1 1 100000 65536") and the text of a /proc uid_map or gid_map name the
 * same extents? Both are lists of numbers, spaced differently. */
static int same_map(const char *map, const char *proc_text) {
  const char *a = map, *b = proc_text;
  for (;;) {
    while (*a == ' ' || *a == '\n') a++;
    while (*b == ' ' || *b == '\n') b++;
    if (!*a || !*b) return !*a && !*b;
    char *ea, *eb;
    unsigned long x = strtoul(a, &ea, 10), y = strtoul(b, &eb, 10);
    if (ea == a || eb == b || x != y) return 0;
    a = ea;
    b = eb;
  }
}

/* Were the holder PID's maps the ones this message's holder maps say? A holder started while the
 * user's id ranges were others (a subordinate range added or gone since, or a run with a single-id
 * map) cannot nest this run's maps: the kernel refuses them with a bare EPERM. */
static int holder_maps_match(pid_t pid) {
  if (!cfg.holder_uidmap || !cfg.holder_gidmap) return 1;
  char path[64], text[4096];
  snprintf(path, sizeof path, "/proc/%d/uid_map", pid);
  if (read_small_file(path, text, sizeof text) <= 0 || !same_map(cfg.holder_uidmap, text)) return 0;
  snprintf(path, sizeof path, "/proc/%d/gid_map", pid);
  return read_small_file(path, text, sizeof text) > 0 && same_map(cfg.holder_gidmap, text);
}

/* With HULL_REC_HOLDER_DIR: join the live holder's user namespace as its root (the caller owns it, so
 * setns gives every capability there, over every id of its map: the store's). 1 when joined; 0 when
 * there is none to join, or its maps are not this run's (holder_maps_match), and nothing was changed. */
int join_holder_userns(void) {
  if (!cfg.holder_dir) return 0;
  pid_t pid = holder_pid();
  if (!pid || !holder_maps_match(pid)) return 0;
  char ns[64];
  snprintf(ns, sizeof ns, "/proc/%d/ns/user", pid);
  int fd = open(ns, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  /* the pid checked again with the namespace open: a holder that left meanwhile is not joined */
  if (holder_pid() != pid || setns(fd, CLONE_NEWUSER) < 0) {
    close(fd);
    return 0;
  }
  close(fd);
  if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) die(errno, "become root in the holder's user namespace");
  return 1;
}

/* Take the holder's lock, held until holder_release(), and open its user and network namespaces;
 * with CREATE a holder is started when none lives. 0, or an errno with MSG filled (ENOENT: no
 * holder, and CREATE was 0). */
int holder_open(int create, int *userfd, int *netfd, char *msg, size_t len) {
  char path[4200];
  holder_file(path, sizeof path, "holder.lock");
  lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0 || flock(lock_fd, LOCK_EX) < 0) {
    snprintf(msg, len, "lock %s", path);
    return errno;
  }
  pid_t pid = holder_pid();
  if (!pid && !create) {
    snprintf(msg, len, "no network namespace holder lives");
    return ENOENT;
  }
  if (!pid) {
    pid = holder_start(msg, len);
    if (pid < 0) return -pid;
  } else if (!holder_maps_match(pid)) {
    snprintf(msg, len,
             "the store's shared network namespace (holder %d) was made with other id maps than this run's (by a run "
             "with a single-id map, or before your subordinate ids changed): it leaves a second after the last "
             "container using it ends (hull ps)",
             pid);
    return ESTALE;
  }
  char ns[64];
  snprintf(ns, sizeof ns, "/proc/%d/ns/user", pid);
  *userfd = open(ns, O_RDONLY | O_CLOEXEC);
  snprintf(ns, sizeof ns, "/proc/%d/ns/net", pid);
  *netfd = open(ns, O_RDONLY | O_CLOEXEC);
  if (*userfd < 0 || *netfd < 0) {
    snprintf(msg, len, "open the namespaces of the holder %d", pid);
    return errno;
  }
  return 0;
}

/* A shared lock on holder.users for as long as the returned descriptor lives: this process and the
 * stages forked from it (the container's) keep the holder from exiting, network or not. -1 if none. */
int holder_use(void) {
  char path[4200];
  holder_file(path, sizeof path, "holder.users");
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd >= 0 && flock(fd, LOCK_SH) < 0) {
    close(fd);
    fd = -1;
  }
  return fd;
}

/* The end of a use (FD from holder_use): its time is what the holder's second of grace counts from. */
void holder_unuse(int fd) {
  if (fd < 0) return;
  futimens(fd, NULL);
  close(fd);
}

/* HULL_REC_NET_ATTACH_FILE: the container's links as its record has them now, one attachment a line,
 * read again before every run (a restart after network connect or disconnect); a line "outbound no"
 * says the container is on internal networks only, so no helper runs. */
void load_attach_file(void) {
  if (!cfg.net_attach_file) return;
  static char text[8192];
  ssize_t n = read_small_file(cfg.net_attach_file, text, sizeof text);
  if (n < 0) return; /* none written: the message's lines stand */
  cfg.net_attach_n = 0;
  cfg.net_no_outbound = 0;
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    if (!strcmp(line, "outbound no")) cfg.net_no_outbound = 1;
    else if (*line) push_list(&cfg.net_attach, &cfg.net_attach_n, &cfg.net_attach_cap, line);
  }
}

/* The shared namespace's way out, made once per holder (call with its lock held): its own pasta
 * (HULL_REC_HOLDER_HELPER, left to run on its own and ended by the holder when it goes) and the NAT
 * from the bridge hull0 (netlink.c). holder.nat says how it went: "ok", or why not, in which case
 * the default network's containers get a pasta of their own, as without a holder. 1 if usable. */
int holder_outbound(int userfd, int netfd) {
  char status[4200], text[300] = "";
  holder_file(status, sizeof status, "holder.nat");
  if (read_small_file(status, text, sizeof text) > 0) return !strncmp(text, "ok", 2);
  if (!cfg.holder_helper_argc) return 0;
  pid_t holder = holder_pid();
  /* one runs already (its status file went): a second would outlive the holder's count */
  if (holder_pastas(holder, 0) > 0) return 1;
  char pid_arg[16], pidfile[4200], errfile[4200], why[300] = "";
  snprintf(pid_arg, sizeof pid_arg, "%d", (int)holder);
  holder_file(pidfile, sizeof pidfile, "holder.pasta.pid");
  holder_file(errfile, sizeof errfile, "holder.pasta.err");
  unlink(pidfile);
  const char **argv = calloc((size_t)cfg.holder_helper_argc + 1, sizeof *argv);
  if (!argv) return 0;
  for (int i = 0; i < cfg.holder_helper_argc; i++)
    argv[i] = strcmp(cfg.holder_helper[i], "{pid}") ? cfg.holder_helper[i] : pid_arg;
  pid_t child = fork();
  if (child == 0) {
    /* pasta daemonizes itself once the namespace is set up; it belongs to no supervisor */
    holder_release();
    setsid();
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int sig = 1; sig < 32; sig++)
      if (sig != SIGKILL && sig != SIGSTOP) signal(sig, SIG_DFL);
    int null = open("/dev/null", O_RDWR | O_CLOEXEC), err = open(errfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (null >= 0) dup2(null, 0), dup2(null, 1);
    if (err >= 0) dup2(err, 2);
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  free(argv);
  int ws = 0, up = 0;
  if (child > 0 && waitpid(child, &ws, 0) == child && WIFEXITED(ws) && WEXITSTATUS(ws) == 0) {
    for (int i = 0; i < 5000 && !up; i++) {
      struct stat st;
      if (stat(pidfile, &st) == 0 && st.st_size > 0) up = 1;
      else {
        struct timespec t = {0, 1000000};
        nanosleep(&t, NULL);
      }
    }
  }
  if (!up) snprintf(why, sizeof why, "its pasta did not start (see networks/holder.pasta.err)");
  if (up) {
    /* the bridge and the NAT, from inside */
    int back[2];
    if (pipe2(back, O_CLOEXEC) == 0) {
      pid_t y = fork();
      if (y == 0) {
        /* only this process's parent holds the lock: a child stuck here must not hold it forever */
        holder_release();
        int32_t rc = 0;
        if (setns(userfd, CLONE_NEWUSER) < 0 || setns(netfd, CLONE_NEWNET) < 0) rc = errno;
        if (!rc) rc = net_make_bridge("hull0");
        if (!rc) rc = net_add_address("hull0", "10.88.0.1/16");
        if (!rc) rc = net_link_up("hull0");
        if (!rc) rc = net_setup_nat("hull0");
        write_all(back[1], &rc, sizeof rc);
        _exit(0);
      }
      close(back[1]);
      int32_t rc = EAGAIN;
      if (y < 0 || read_full(back[0], &rc, sizeof rc) != sizeof rc) rc = EAGAIN;
      close(back[0]);
      if (y > 0) waitpid(y, NULL, 0);
      if (rc) snprintf(why, sizeof why, "no NAT in the shared namespace (nf_tables: %s)", strerror(rc));
    }
  }
  /* no way out after all: the pasta is of no use */
  if (*why && up) holder_pastas(holder, 1);
  char tmp[4300];
  snprintf(tmp, sizeof tmp, "%s.tmp", status);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) {
    const char *word = *why ? why : "ok";
    write_all(fd, word, strlen(word));
    write_all(fd, "\n", 1);
    close(fd);
    rename(tmp, status);
  }
  return !*why;
}

/* One HULL_REC_NET_ATTACH line, "BRIDGE GATEWAY/PREFIX VETH IFNAME ADDRESS/PREFIX [ROUTE]", into F
 * (ROUTE, the gateway of the container's default route, into F[5]: "" when absent). 1 if whole. */
static int parse_attach(const char *line, char f[6][64]) {
  f[5][0] = 0;
  return sscanf(line, "%15s %31s %15s %15s %31s %31s", f[0], f[1], f[2], f[3], f[4], f[5]) >= 5;
}

/* The shared way out is not to be had: the default network's link (bridge hull0) is dropped, and
 * so is a user network's default route through its bridge; the container gets its own helper. */
void drop_shared_bridge(void) {
  static char lines[16][352];
  int kept = 0;
  for (int i = 0; i < cfg.net_attach_n; i++) {
    if (!strncmp(cfg.net_attach[i], "hull0 ", 6)) continue;
    char f[6][64];
    if (kept < 16 && parse_attach(cfg.net_attach[i], f)) {
      snprintf(lines[kept], sizeof lines[kept], "%s %s %s %s %s", f[0], f[1], f[2], f[3], f[4]);
      cfg.net_attach[kept] = lines[kept];
      kept++;
    }
  }
  cfg.net_attach_n = kept;
}

void holder_release(void) {
  if (lock_fd >= 0) close(lock_fd);
  lock_fd = -1;
}

/* Clone the user-namespace stage under the user namespace USERFD, as a child of this process still
 * (CLONE_PARENT), with a mount namespace of its own. With NETFD < 0 (a user network): in a new user
 * namespace, child of the holder's, whose maps a passing process of the holder's namespace writes
 * (in its ids: no newuidmap, no setgroups "deny"). With NETFD (--network container:NAME): in that
 * container's user namespace itself, and its network namespace (NETFD). 0 in the new stage; its
 * pid, or -1 with MSG. */
pid_t clone_under(int userfd, int netfd, char *msg, size_t len) {
  int back[2];
  if (pipe2(back, O_CLOEXEC) < 0) {
    snprintf(msg, len, "pipe");
    return -1;
  }
  pid_t x = fork();
  if (x < 0) {
    snprintf(msg, len, "fork");
    return -1;
  }
  if (x == 0) {
    close(back[0]);
    holder_release();
    char why[200] = "";
    int32_t r = -1;
    unsigned long flags = CLONE_PARENT | CLONE_NEWNS | SIGCHLD | (netfd < 0 ? CLONE_NEWUSER : 0);
    if (setns(userfd, CLONE_NEWUSER) < 0) {
      snprintf(why, sizeof why, "join the user namespace of %s: %s", netfd < 0 ? "the network holder" : "the container",
               strerror(errno));
    } else {
      pid_t c = (pid_t)syscall(SYS_clone, flags, 0, 0, 0, 0);
      if (c == 0) {
        close(back[1]);
        if (netfd >= 0 && setns(netfd, CLONE_NEWNET) < 0) die(errno, "join the container's network namespace");
        return 0;
      }
      if (c < 0) {
        snprintf(why, sizeof why, "clone in the joined user namespace: %s", strerror(errno));
      } else if (netfd >= 0) {
        r = c;
      } else {
        char path[64], line[512];
        snprintf(path, sizeof path, "/proc/%d/gid_map", c);
        snprintf(line, sizeof line, "%s\n", cfg.nest_gidmap);
        int rc = write_file_rc(path, line);
        if (!rc) {
          snprintf(path, sizeof path, "/proc/%d/uid_map", c);
          snprintf(line, sizeof line, "%s\n", cfg.nest_uidmap);
          rc = write_file_rc(path, line);
        }
        if (rc) {
          snprintf(why, sizeof why, "write %s: %s", path, strerror(rc));
          kill(c, SIGKILL);
        } else {
          r = c;
        }
      }
    }
    write_all(back[1], &r, sizeof r);
    if (r < 0) write_all(back[1], why, sizeof why);
    _exit(0);
  }
  close(back[1]);
  int32_t r = -1;
  if (read_full(back[0], &r, sizeof r) != sizeof r) r = -1;
  if (r < 0 && read_full(back[0], msg, len < 200 ? len : 200) <= 0) snprintf(msg, len, "clone in a joined namespace");
  close(back[0]);
  waitpid(x, NULL, 0);
  return r;
}

static int bad(char *msg, size_t len, int rc, const char *what, const char *name) {
  snprintf(msg, len, "%s %s: %s", what, name, strerror(rc));
  return rc;
}

/* In this process, joined to H already: make each HULL_REC_NET_ATTACH's bridge and veth pair, the
 * peer moved into CNET; delete each HULL_REC_NET_DETACH link; then in CNET address the peers and
 * bring them up. 0, or an errno with MSG. */
/* docker's hardware address for a container's ADDRESS ("10.89.0.2/24"): 02:42 and its four bytes.
 * A container that comes back with its address (a restart) then has its old one too: with a new
 * random one, its peers' ARP entries pointed elsewhere and they could not reach it for seconds. */
static const unsigned char *mac_of(const char *cidr, unsigned char mac[6]) {
  char ip[64];
  snprintf(ip, sizeof ip, "%s", cidr);
  char *slash = strchr(ip, '/');
  if (slash) *slash = 0;
  struct in_addr a;
  if (inet_pton(AF_INET, ip, &a) != 1) return NULL;
  mac[0] = 0x02;
  mac[1] = 0x42;
  memcpy(mac + 2, &a, 4);
  return mac;
}

static int attach_links(int cnet, char *msg, size_t len) {
  for (int i = 0; i < cfg.net_detach_n; i++) {
    int rc = net_delete_link(cfg.net_detach[i]);
    if (rc) return bad(msg, len, rc, "delete link", cfg.net_detach[i]);
  }
  char f[6][64];
  for (int i = 0; i < cfg.net_attach_n; i++) {
    if (!parse_attach(cfg.net_attach[i], f)) return bad(msg, len, EINVAL, "attachment", cfg.net_attach[i]);
    /* the veth first: its bridge is there but for a network's first container (made then) */
    unsigned char macbuf[6];
    const unsigned char *mac = mac_of(f[4], macbuf);
    int rc = net_make_veth(f[2], f[3], cnet, f[0], mac);
    if (rc == ENODEV) {
      rc = net_make_bridge(f[0]);
      if (rc) return bad(msg, len, rc, "bridge", f[0]);
      rc = net_make_veth(f[2], f[3], cnet, f[0], mac);
    }
    /* addressed and up every time (both are no-ops then): an earlier attach may have stopped halfway */
    int brc = net_add_address(f[0], f[1]);
    if (!brc) brc = net_link_up(f[0]);
    if (brc) return bad(msg, len, brc, "bridge", f[0]);
    if (rc == EEXIST) {
      /* one left by an earlier run whose namespace lives on (a container that joined it) */
      net_delete_link(f[2]);
      rc = net_make_veth(f[2], f[3], cnet, f[0], mac);
    }
    if (!rc) rc = net_link_up(f[2]);
    if (rc) return bad(msg, len, rc, "veth", f[2]);
  }
  if (cfg.net_attach_n == 0) return 0;
  if (setns(cnet, CLONE_NEWNET) < 0) return bad(msg, len, errno, "join", "the container's network namespace");
  for (int i = 0; i < cfg.net_attach_n; i++) {
    if (!parse_attach(cfg.net_attach[i], f)) return bad(msg, len, EINVAL, "attachment", cfg.net_attach[i]);
    int rc = net_add_address(f[3], f[4]);
    if (!rc) rc = net_link_up(f[3]);
    /* its way out, through the shared namespace */
    if (!rc && f[5][0]) rc = net_default_route(f[3], f[5]);
    if (rc) return bad(msg, len, rc, "address the container's", f[3]);
  }
  return 0;
}

/* attach_links, after joining H (USERFD, NETFD) from here */
static int attach_here(int userfd, int netfd, int cnet, char *msg, size_t len) {
  if (setns(userfd, CLONE_NEWUSER) < 0) return bad(msg, len, errno, "join", "the holder's user namespace");
  if (setns(netfd, CLONE_NEWNET) < 0) return bad(msg, len, errno, "join", "the holder's network namespace");
  return attach_links(cnet, msg, len);
}

/* The links' child, forked before the container is: it joins H (USERFD, NETFD) while the container
 * is made, then waits for the container's network namespace on a socket and makes the links there.
 * The fork and the two setns took 1-3 ms of the default network's critical path when they came
 * after the container. 0, or -1 (A's pid stays -1). */
int net_attach_begin(int userfd, int netfd, struct net_attacher *a) {
  int sv[2];
  a->pid = -1;
  a->sock = -1;
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return -1;
  pid_t y = fork();
  if (y < 0) {
    close(sv[0]);
    close(sv[1]);
    return -1;
  }
  if (y == 0) {
    holder_release();
    /* nothing else of the parent's kept: a pipe end held here would hold off an end of file the
     * parent or a stage waits for (0-2 stay: the caller's, as any stage has them) */
    int u = fcntl(userfd, F_DUPFD_CLOEXEC, 100), n = fcntl(netfd, F_DUPFD_CLOEXEC, 100);
    int s = fcntl(sv[1], F_DUPFD_CLOEXEC, 100);
    if (u < 0 || n < 0 || s < 0 || dup2(u, 3) < 0 || dup2(n, 4) < 0 || dup2(s, 5) < 0) _exit(1);
    syscall(SYS_close_range, 6, ~0U, 0);
    prctl(PR_SET_NAME, "hull-attach", 0, 0, 0);
    char why[300] = "";
    int32_t rc = 0;
    if (setns(3, CLONE_NEWUSER) < 0) rc = bad(why, sizeof why, errno, "join", "the holder's user namespace");
    else if (setns(4, CLONE_NEWNET) < 0) rc = bad(why, sizeof why, errno, "join", "the holder's network namespace");
    trace("attach: joined");
    int cnet = recv_fd(5);
    /* no container came: nothing to do */
    if (cnet < 0) _exit(0);
    if (!rc) rc = attach_links(cnet, why, sizeof why);
    write_all(5, &rc, sizeof rc);
    if (rc) write_all(5, why, sizeof why);
    _exit(0);
  }
  close(sv[1]);
  a->pid = y;
  a->sock = sv[0];
  return 0;
}

/* The links of the container CTR, by A's child; with CTR 0 (no container), only A's end. 0, or an
 * errno with MSG. */
int net_attach_end(struct net_attacher *a, pid_t ctr, char *msg, size_t len) {
  int32_t rc = 0;
  if (ctr > 0) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/ns/net", ctr);
    int cnet = open(path, O_RDONLY | O_CLOEXEC);
    if (cnet < 0) {
      rc = bad(msg, len, errno, "open", path);
    } else {
      if (send_fd_with(a->sock, cnet, "N") < 0) rc = bad(msg, len, errno, "hand over", path);
      close(cnet);
      if (!rc && read_full(a->sock, &rc, sizeof rc) != sizeof rc) {
        rc = EAGAIN;
        snprintf(msg, len, "the network attach failed");
      } else if (rc && read_full(a->sock, msg, len < 300 ? len : 300) <= 0) {
        snprintf(msg, len, "the network attach failed");
      }
    }
  }
  if (a->sock >= 0) close(a->sock);
  a->sock = -1;
  if (a->pid > 0) waitpid(a->pid, NULL, 0);
  a->pid = -1;
  return rc;
}

/* The container is gone: delete its veth ends in H (USERFD, NETFD) at once, so the holder sees no
 * attachment left within its next count. The kernel would delete them with the container's network
 * namespace, but it tears namespaces down asynchronously, seconds later (measured up to 5 s). */
/* Start deleting the container's links (a child, joined to the holder's namespaces); its pid. Deleting
 * a veth waits for the kernel's grace period (ms): started when the container's first process ends,
 * it runs while the stage unmounts and removes the container. */
pid_t net_detach_start(int userfd, int netfd, int users_fd) {
  pid_t y = fork();
  if (y == 0) {
    holder_release();
    /* It may outlive the supervisor (a container that will not restart is not waited for): nothing of
     * the supervisor's may stay open in it, such as the caller's stdout, whose reader would wait for
     * this too. Kept: the holder's namespaces, and its use of the holder (USERS_FD), which ends here. */
    int keep[3] = {userfd, netfd, users_fd};
    for (int fd = 3; fd < 1024; fd++)
      if (fd != keep[0] && fd != keep[1] && fd != keep[2]) close(fd);
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
      dup2(null, 0);
      dup2(null, 1);
      if (cfg.trace_origin <= 0) dup2(null, 2);
      close(null);
    }
    prctl(PR_SET_NAME, "hull-unlink", 0, 0, 0);
    if (setns(userfd, CLONE_NEWUSER) < 0 || setns(netfd, CLONE_NEWNET) < 0) _exit(1);
    char f[6][64];
    trace("detach: joined");
    for (int i = 0; i < cfg.net_attach_n; i++)
      if (parse_attach(cfg.net_attach[i], f)) net_delete_link(f[2]);
    trace("detach: links deleted");
    holder_unuse(users_fd);
    _exit(0);
  }
  return y;
}

/* `hull-shim net FD`: attach TARGET_PID, running, to networks or detach it (network connect and
 * disconnect). Its user namespace must be a child of the live holder's: one started on no user
 * network was not cloned under it, and cannot be reached (exit 3, said so). */
int run_net(int message_fd) {
  read_message(message_fd);
  char msg[400] = "";
  int userfd = -1, netfd = -1;
  int rc = holder_open(0, &userfd, &netfd, msg, sizeof msg);
  if (rc == ENOENT && cfg.net_attach_n == 0) return 0; /* nothing to detach from */
  if (rc == ENOENT) return 3;
  if (rc) die(rc == ESTALE ? 0 : rc, "%s", msg);
  if (cfg.net_attach_n == 0) {
    /* links (and bridges) deleted by name: the container may be gone already (hull rm) */
    rc = attach_here(userfd, netfd, -1, msg, sizeof msg);
    if (rc) die(rc, "%s", msg);
    return 0;
  }
  char path[64];
  snprintf(path, sizeof path, "/proc/%u/ns/user", cfg.target_pid);
  int cuser = open(path, O_RDONLY | O_CLOEXEC);
  if (cuser < 0) die(errno, "the container's process %u is gone (is it running?)", cfg.target_pid);
  int parent = ioctl(cuser, NS_GET_PARENT);
  struct stat a, b;
  if (parent < 0 || fstat(parent, &a) < 0 || fstat(userfd, &b) < 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev)
    return 3;
  snprintf(path, sizeof path, "/proc/%u/ns/net", cfg.target_pid);
  int cnet = open(path, O_RDONLY | O_CLOEXEC);
  if (cnet < 0) die(errno, "the container's process %u is gone (is it running?)", cfg.target_pid);
  rc = attach_here(userfd, netfd, cnet, msg, sizeof msg);
  if (rc) die(rc, "%s", msg);
  return 0;
}
