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
#include "shim.h"

/* ---- the container stage ---------------------------------------------------------------------- */

static int tty_sock = -1;          /* container stage -> parent: the pty master */
int log_pipes[2][2] = {{-1, -1}, {-1, -1}}; /* detached: container stdout, stderr -> supervisor */
/* -i without -t from a terminal: the caller's input reaches the container through this pipe, never
 * as the terminal itself (which it could read from at any time, or change with stty) */
static int stdin_pipe[2] = {-1, -1};
static int ready_fd = -1; /* detached: supervisor -> the first process, one struct hull_error */
/* the parent -> the container stage: one byte once the network helper has the network up; an end
 * without it means the helper failed, and the parent reports why */
static int net_pipe[2] = {-1, -1};
/* the container stage -> the user-namespace stage: lo is up in the new network namespace. pasta binds
 * its sockets for loopback traffic (udp to 127.0.0.1) there as it starts, and needs lo up for it. */
static int lo_pipe[2] = {-1, -1};
/* this container's network has a helper of its own (pasta, slirp4netns) to start on its pid: not one
 * through the shared namespace, whose pasta runs already */
static int own_helper;
static struct winsize host_winsize; /* read before clone; applied to the new pty */
static int have_winsize;
/* hull oci create: the start FIFO, opened by the parent (the container's root may not reach the
 * state directory) for reading and writing, so the open never blocks */
static int gate = -1;
/* hull oci: the parent -> the container, once the runtime's hooks (prestart, createRuntime) ran:
 * the container's pid as the runtime sees it */
static int hooks_pipe[2] = {-1, -1};
/* the container's pid as the runtime sees it, for the state its own hooks read */
static pid_t host_pid;

static void send_fd(int sock, int fd) {
  if (send_fd_with(sock, fd, "T") < 0) die(errno, "send pty to hull");
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
  trace("container: exec");
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
  /* --ulimit and --oom-score-adj while the capabilities of the namespace are still held; what the
   * kernel refuses (a hard limit above the caller's, a lower OOM score) is an error, never ignored */
  for (int i = 0; i < cfg.nrlimits; i++) {
    struct rlimit rl = {.rlim_cur = cfg.rlimits[i].soft, .rlim_max = cfg.rlimits[i].hard};
    if (setrlimit((int)cfg.rlimits[i].resource, &rl) < 0)
      die(errno, "--ulimit: resource %u to %llu:%llu (above your own hard limit? see ulimit -H)", cfg.rlimits[i].resource,
          (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
  }
  if (cfg.have_oom_score_adj) {
    char v[16];
    int n = snprintf(v, sizeof v, "%d", cfg.oom_score_adj);
    int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, v, (size_t)n) != n)
      die(errno, "--oom-score-adj %d (below your own score needs privilege)", cfg.oom_score_adj);
    close(fd);
  }
  /* a session keyring of its own, as runc gives each container: the caller's holds its keys */
  if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, 0, 0, 0, 0) < 0 && errno != ENOSYS && errno != EDQUOT)
    die(errno, "new session keyring");
  drop_capabilities();
  install_seccomp();
  if ((cfg.flags & HULL_FLAG_SETGROUPS) && setgroups((size_t)cfg.ngroups, cfg.groups) < 0)
    die(errno, "setgroups");
  if (setresgid(cfg.gid, cfg.gid, cfg.gid) < 0)
    die(errno, "setresgid %u (is the group mapped? see hull doctor)", cfg.gid);
  /* OCI's sets may give a process of another uid than 0 capabilities: they must outlive the change */
  if (cfg.have_cap_sets && cfg.uid != 0 && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) die(errno, "keepcaps");
  if (setresuid(cfg.uid, cfg.uid, cfg.uid) < 0)
    die(errno, "setresuid %u (is the user mapped? see hull doctor)", cfg.uid);
  set_capabilities(cfg.uid == 0 || cfg.have_cap_sets);
  /* a change of ids clears the parent-death signal: set it again, or a container whose stage above
   * was killed with SIGKILL would run on, unseen and never cleaned up (an orphan's stage above is
   * gone by design) */
  if (!(cfg.flags & HULL_FLAG_ORPHAN) && prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) die(errno, "pdeathsig");
  if ((cfg.flags & HULL_FLAG_NO_NEW_PRIVS) && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) die(errno, "no_new_privs");
  if (cfg.cwd && chdir(cfg.cwd) < 0) die(errno, "working directory %s", cfg.cwd);
  if (cfg.have_umask) umask((mode_t)cfg.umask);
  syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
}

static const int gate_signals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

static void gate_signal(int sig) { _exit(128 + sig); }

static void __attribute__((noreturn)) container_stage(void) {
  stage = HULL_STAGE_CONTAINER;
  prctl(PR_SET_NAME, "hull-container", 0, 0, 0);
  if (!(cfg.flags & HULL_FLAG_ORPHAN) && prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) die(errno, "pdeathsig");
  if (lo_pipe[1] >= 0) {
    close(lo_pipe[0]);
    loopback_up();
    write_all(lo_pipe[1], "1", 1);
    close(lo_pipe[1]);
  } else if (cfg.net_helper) {
    loopback_up();
  }
  /* Into the limits before anything else runs, so every process of the container is in them;
   * the host's /sys/fs/cgroup is still there (no pivot yet). Only the container: hull's own
   * stages and fuse-overlayfs stay outside, as in docker. */
  if (cfg.cgroup) {
    char procs[4096];
    snprintf(procs, sizeof procs, "%s/cgroup.procs", cfg.cgroup);
    int fd = open(procs, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, "0", 1) != 1) die(errno, "enter the container's cgroup %s", cfg.cgroup);
    close(fd);
  }
  /* its own cgroup namespace, rooted at its cgroup (or, an OCI bundle's without limits, at the one
   * hull runs in): /proc/self/cgroup says "0::/", and the plan mounts its cgroup at /sys/fs/cgroup,
   * as docker does on cgroup v2 */
  if ((cfg.flags & HULL_FLAG_CGROUPNS) && unshare(CLONE_NEWCGROUP) < 0) die(errno, "cgroup namespace");
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);

  if ((cfg.nsflags & CLONE_NEWUTS) && cfg.hostname && *cfg.hostname && sethostname(cfg.hostname, strlen(cfg.hostname)) < 0)
    die(errno, "sethostname");
  if ((cfg.nsflags & CLONE_NEWUTS) && cfg.domainname && setdomainname(cfg.domainname, strlen(cfg.domainname)) < 0)
    die(errno, "setdomainname");

  trace("container: mounts begin");
  if (mount(cfg.rootfs, cfg.rootfs, NULL, MS_BIND | MS_REC, NULL) < 0) die(errno, "bind rootfs %s", cfg.rootfs);
  int rootfd = open(cfg.rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) die(errno, "open rootfs %s", cfg.rootfs);
  for (int i = 0; i < cfg.nsteps; i++) run_step(rootfd, &cfg.steps[i]);
  if (cfg.nhooks > 0) {
    /* the host's /proc is still here: its self is our pid as the runtime sees it */
    char self[32] = "";
    ssize_t n = readlink("/proc/self", self, sizeof self - 1);
    host_pid = n > 0 ? (pid_t)atoi(self) : 0;
  }
  if (hooks_pipe[0] >= 0) {
    /* the runtime's hooks first (the parent runs them), then the container's own, before pivot_root */
    struct hull_error ask = {.stage = HULL_STAGE_HOOKS};
    write_all(err_fd, &ask, sizeof ask);
    int32_t go = 0;
    if (read_full(hooks_pipe[0], &go, sizeof go) != sizeof go) _exit(HULL_EXIT_SETUP);
    close(hooks_pipe[0]);
  }
  char hook_msg[600];
  if (run_hooks(HULL_HOOK_CREATE_CONTAINER, "creating", host_pid, hook_msg, sizeof hook_msg))
    die(0, "createContainer %s", hook_msg);
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
  if (cfg.rootfs_propagation && mount(NULL, "/", NULL, cfg.rootfs_propagation, NULL) < 0)
    die(errno, "rootfsPropagation of /");

  trace("container: root pivoted");
  if (net_pipe[0] >= 0) {
    /* the helper configures the network while the mounts above were made; wait for it here */
    char up = 0;
    if (read_full(net_pipe[0], &up, 1) != 1) _exit(HULL_EXIT_SETUP);
    close(net_pipe[0]);
  }
  if (cfg.flags & HULL_FLAG_NET_LO) loopback_up();

  if ((cfg.flags & HULL_FLAG_DETACH) && !(cfg.flags & HULL_FLAG_TTY)) {
    /* detached: output goes to the supervisor, which keeps the log; input only with -i, from the
     * supervisor's pipe (hull attach) */
    if (setsid() < 0) die(errno, "setsid");
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null < 0 || dup2(stdin_pipe[0] >= 0 ? stdin_pipe[0] : null, 0) < 0 || dup2(log_pipes[0][1], 1) < 0 ||
        dup2(log_pipes[1][1], 2) < 0)
      die(errno, "detached stdio");
    close(null);
  } else if (cfg.flags & HULL_FLAG_TTY) {
    /* a pty (detached too: the supervisor keeps its master, logs it and relays it to hull attach) */
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
    /* a kept foreground container, or a caller's terminal: the output goes through the parent, which
     * logs it (kept) and passes it on, so the terminal is never the container's own descriptor */
    if (log_pipes[0][1] >= 0 && (dup2(log_pipes[0][1], 1) < 0 || dup2(log_pipes[1][1], 2) < 0))
      die(errno, "piped stdio");
    if (stdin_pipe[0] >= 0 && dup2(stdin_pipe[0], 0) < 0) die(errno, "piped stdin");
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
  if (gate >= 0) {
    /* created: the parent tells `hull oci create` so, and the command waits for `hull oci start`.
     * A pid 1 gets no signal it has no handler for: `hull oci kill` (SIGTERM) of a created
     * container would do nothing, where runc's goes */
    struct sigaction ends = {.sa_handler = gate_signal};
    for (size_t i = 0; i < sizeof gate_signals / sizeof *gate_signals; i++) sigaction(gate_signals[i], &ends, NULL);
    struct hull_error created = {.stage = HULL_STAGE_CREATED};
    write_all(err_fd, &created, sizeof created);
    char go;
    ssize_t n;
    while ((n = read(gate, &go, 1)) < 0 && errno == EINTR) {
    }
    if (n != 1) die(errno, "wait for hull oci start");
    close(gate);
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    for (size_t i = 0; i < sizeof gate_signals / sizeof *gate_signals; i++) sigaction(gate_signals[i], &dfl, NULL);
    /* nobody reads the error pipe after create: a failure from here (an exec) goes to stderr, which
     * is the caller's (conmon's log of the container) */
    close(err_fd);
    err_fd = -1;
  }
  /* in the container's namespaces and root, before its command */
  if (run_hooks(HULL_HOOK_START_CONTAINER, "created", host_pid, hook_msg, sizeof hook_msg))
    die(0, "startContainer %s", hook_msg);
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
/* A kept container's exit, for `hull ps`: written to a temp name and renamed, so a reader sees the
 * whole record or none. */
/* The kernel's count of OOM kills in the container's cgroup (memory.events), or 0 without one. */
static long oom_kills(void) {
  if (!cfg.cgroup) return 0;
  char path[4200], text[512];
  snprintf(path, sizeof path, "%s/memory.events", cfg.cgroup);
  if (read_small_file(path, text, sizeof text) <= 0) return 0;
  char *at = strstr(text, "oom_kill ");
  return at ? strtol(at + 9, NULL, 10) : 0;
}

static void write_state(int code, int oom_killed) {
  char tmp[4200], stamp[40], text[200];
  time_t now = time(NULL);
  struct tm tm;
  gmtime_r(&now, &tm);
  strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
  int n = snprintf(text, sizeof text, "{\"exitCode\": %d, \"finishedAt\": \"%s\", \"oomKilled\": %s}\n", code, stamp,
                   oom_killed ? "true" : "false");
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
  pid_t parent = getppid();
  /* The parent's death (SIGTERM, below) is taken by the wait at the end, whenever it comes: before,
   * its default action would end this stage halfway, with no cleanup (a kill -9 of hull just after
   * the container's pid was sent left its directory, seen by the tests). The container stage
   * unblocks everything for itself. */
  sigset_t waited;
  sigemptyset(&waited);
  sigaddset(&waited, SIGTERM);
  sigaddset(&waited, SIGCHLD);
  sigprocmask(SIG_BLOCK, &waited, NULL);
  if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) < 0) die(errno, "pdeathsig");
  /* Nothing before the maps: the kernel refuses the overlay mount (EACCES, measured) while the
   * caller's id is not yet mapped, although the new namespace already grants every capability. */
  char b = 0;
  if (read_full(sync_rd, &b, 1) != 1 || b != HULL_SYNC_MAPS_DONE) _exit(HULL_EXIT_SETUP);
  close(sync_rd);
  if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) die(errno, "become root in the user namespace");
  /* Again: a change of the effective id clears the death signal, and under --userns=keep-id root
   * here is a subordinate id, not the caller (`hull rm -f` left keep-id containers running). A
   * parent gone meanwhile would never send it: then nothing has been made yet, so just go. */
  if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) < 0) die(errno, "pdeathsig");
  if (getppid() != parent) _exit(HULL_EXIT_SETUP);
  /* The id change made this process (and the container, cloned from it) undumpable, so the kernel
   * hid its /proc/PID/ns from the user who owns the namespace: under keep-id, root here is a
   * subordinate id, and pasta, run by the user, could not join the network namespace. The user
   * owns this namespace and may inspect what runs in it; the command's exec resets this anyway. */
  if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0) die(errno, "dumpable");
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) die(errno, "make mounts private");
  int kernel_err = mount_kernel_overlay();
  if (cfg.overlay && !overlay_mounted) mount_fuse_overlay(kernel_err);
  trace("stage: root mounted");

  int code = HULL_EXIT_SETUP;
  if (hooks_pipe[1] >= 0) close(hooks_pipe[1]);

  /* OOM kills are counted from here: a cgroup a restart reuses has the earlier runs' in it */
  long oom_before = oom_kills();
  /* The container stage gets the remaining namespaces; with NEWPID it is pid 1 there. */
  if (own_helper && pipe2(lo_pipe, O_CLOEXEC) < 0) report(errno, HULL_EXIT_SETUP, "pipe");
  pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)(cfg.nsflags | SIGCHLD), 0, 0, 0, 0);
  if (pid < 0) {
    report(errno, HULL_EXIT_SETUP, "clone container namespaces");
  } else if (pid == 0) {
    close(sync_wr);
    container_stage();
  } else {
    trace("stage: container cloned");
    if (lo_pipe[0] >= 0) {
      /* the parent starts the helper on the pid: only once lo is up (or the container is gone) */
      char up;
      close(lo_pipe[1]);
      if (read_full(lo_pipe[0], &up, 1) != 1) {}
      close(lo_pipe[0]);
      trace("stage: lo up");
    }
    int32_t p = pid;
    write_all(sync_wr, &p, sizeof p);
    close(sync_wr);
    if (hooks_pipe[0] >= 0) close(hooks_pipe[0]);
    /* an orphan is left to the caller's subreaper: nothing here waits for it or cleans up after it */
    if (cfg.flags & HULL_FLAG_ORPHAN) _exit(0);
    if (net_pipe[0] >= 0) close(net_pipe[0]);
    close(err_fd);
    if (tty_sock >= 0) close(tty_sock);
    for (int i = 0; i < 2; i++)
      for (int j = 0; j < 2; j++)
        if (log_pipes[i][j] >= 0) close(log_pipes[i][j]);
    for (int i = 0; i < 2; i++)
      if (stdin_pipe[i] >= 0) close(stdin_pipe[i]);
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
  trace("stage: container reaped");
  if (pid > 0) event_emit("die", code);
  /* Unmount before removing: the mount point could not be removed, and fuse-overlayfs's daemon
   * only stops once its mount is gone. */
  if (overlay_mounted) umount2(cfg.rootfs, MNT_DETACH);
  if (cfg.state_file && *cfg.state_file) write_state(code, oom_kills() > oom_before);
  remove_cleanup();
  if (cfg.ncleanup > 0) event_emit("destroy", -1);
  trace("stage: unmounted, --rm files removed");
  _exit(code);
}

/* ---- the parent ------------------------------------------------------------------------------- */

static struct termios saved_tio;
static int tio_saved;

static void restore_terminal(void) {
  if (tio_saved) tcsetattr(0, TCSADRAIN, &saved_tio);
  tio_saved = 0;
}


/* FROM to TO; with LOGGED (a kept container's pty), into its log as well */
static void relay(int from, int to, int *open_flag) {
  char buf[16384];
  ssize_t n = read(from, buf, sizeof buf);
  if (n <= 0) {
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    *open_flag = 0;
    return;
  }
  if (from != 0 && (cfg.flags & HULL_FLAG_DETACH)) {
    /* a detached pty: its log, and whoever is attached */
    if (log_fd >= 0) log_feed(0, buf, (size_t)n);
    attach_broadcast(0, buf, (size_t)n);
    return;
  }
  write_all(to, buf, (size_t)n);
  if (from != 0 && log_fd >= 0) log_feed(0, buf, (size_t)n);
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
    if (cfg.id) {
      printf("%s\n", cfg.id);
      fflush(stdout);
    }
    return 0;
  }
  print_error(e.msg, e.err);
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
    print_error(err->msg, err->err);
    if (status <= 0) status = (int)err->exit_code;
  }
  return status < 0 ? HULL_EXIT_SETUP : status;
}

/* Send each HULL_REC_NET_API_REQ to the helper's API socket, on a connection of its own (slirp4netns
 * answers one request per connection). 0, or -1 with MSG filled from the helper's answer. */
static int net_api_requests(char *msg, size_t len) {
  for (int i = 0; i < cfg.net_api_req_n; i++) {
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    if (strlen(cfg.net_api) >= sizeof addr.sun_path) {
      snprintf(msg, len, "the network helper's socket path is too long: %s", cfg.net_api);
      return -1;
    }
    strcpy(addr.sun_path, cfg.net_api);
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    char reply[512] = "";
    ssize_t n = -1;
    if (s >= 0 && connect(s, (struct sockaddr *)&addr, sizeof addr) == 0) {
      write_all(s, cfg.net_api_req[i], strlen(cfg.net_api_req[i]));
      shutdown(s, SHUT_WR);
      n = read_full(s, reply, sizeof reply - 1);
    }
    if (s >= 0) close(s);
    if (n < 0) {
      snprintf(msg, len, "the network helper's API (%s): %s", cfg.net_api, strerror(errno));
      return -1;
    }
    reply[n > 0 ? n : 0] = 0;
    if (n <= 0 || strstr(reply, "\"error\"")) {
      snprintf(msg, len, "the network helper refused %.200s: %.200s", cfg.net_api_req[i], n > 0 ? reply : "no answer");
      return -1;
    }
  }
  return 0;
}

/* E as a setup failure of this process's (exit 125): ERR (0 for none) and the words of FMT */
static void __attribute__((format(printf, 3, 4))) parent_error(struct hull_error *e, int err, const char *fmt, ...) {
  memset(e, 0, sizeof *e);
  e->stage = HULL_STAGE_PARENT;
  e->exit_code = HULL_EXIT_SETUP;
  e->err = (uint32_t)err;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->msg, sizeof e->msg, fmt, ap);
  va_end(ap);
}

/* The network helper (pasta or slirp4netns) for the container CTR: started in the foreground as this
 * process's child, in a session of its own (the terminal's Ctrl-C is the container's, not the
 * helper's), dying with this process; its pid once it says the network is up (its pid file, or a
 * byte on fd 3) and its API took every request. -1 with E filled when it failed or took over 5 s:
 * its stderr, kept beside the pid file (or socket), says why. */
static pid_t start_net_helper(pid_t ctr, struct hull_error *e) {
  parent_error(e, 0, "%s", "");
  char pid_arg[16], err_path[4200];
  const char *beside = cfg.net_pidfile ? cfg.net_pidfile : cfg.net_api ? cfg.net_api : cfg.run_dir;
  snprintf(pid_arg, sizeof pid_arg, "%d", (int)ctr);
  snprintf(err_path, sizeof err_path, "%s.err", beside ? beside : "/dev/null");
  const char **argv = calloc((size_t)cfg.net_helper_argc + 2, sizeof *argv);
  if (!argv) die(ENOMEM, "network helper");
  int placed = 0;
  for (int i = 0; i < cfg.net_helper_argc; i++) {
    argv[i] = strcmp(cfg.net_helper[i], "{pid}") ? cfg.net_helper[i] : pid_arg;
    if (argv[i] == pid_arg) placed = 1;
  }
  if (!placed) argv[cfg.net_helper_argc] = pid_arg;
  if (cfg.net_pidfile) unlink(cfg.net_pidfile);
  if (cfg.net_api) unlink(cfg.net_api);
  int ready[2] = {-1, -1};
  if (cfg.net_ready_fd && pipe2(ready, O_CLOEXEC) < 0) die(errno, "pipe");
  int errfd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  pid_t pid = errfd < 0 ? -1 : fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    /* a fresh process's signals: a foreground parent ignores SIGPIPE, and pasta refuses to start
     * when it cannot install its own handlers */
    reset_signals();
    quiet_child(errfd);
    if (ready[1] >= 0 && dup2(ready[1], (int)cfg.net_ready_fd) < 0) _exit(127);
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  free(argv);
  if (errfd >= 0) close(errfd);
  if (ready[1] >= 0) close(ready[1]);
  if (pid < 0) {
    snprintf(e->msg, sizeof e->msg, "cannot start the network helper %s", cfg.net_helper[0]);
    e->err = (uint32_t)errno;
    if (ready[0] >= 0) close(ready[0]);
    return -1;
  }
  int up = 0;
  for (int i = 0; i < 50000 && !up; i++) {
    struct stat st;
    if (cfg.net_pidfile && stat(cfg.net_pidfile, &st) == 0 && st.st_size > 0) up = 1;
    if (ready[0] >= 0) {
      struct pollfd p = {.fd = ready[0], .events = POLLIN};
      char c;
      if (poll(&p, 1, 0) > 0 && read(ready[0], &c, 1) == 1) up = 1;
    }
    if (up) break;
    int ws;
    if (waitpid(pid, &ws, WNOHANG) == pid) {
      char text[400] = "";
      ssize_t n = read_small_file(err_path, text, sizeof text);
      while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' ')) text[--n] = 0;
      /* its last line says why, unless a usage text follows the reason (a bad option): then its first */
      char *last = strrchr(text, '\n');
      char *why = last ? last + 1 : text;
      if (strstr(text, "Usage:") || strstr(text, "usage:")) {
        char *nl = strchr(text, '\n');
        if (nl) *nl = 0;
        why = text;
      }
      snprintf(e->msg, sizeof e->msg, "the network helper %s failed (%s%d): %s", cfg.net_helper[0],
               WIFEXITED(ws) ? "exit " : "signal ", WIFEXITED(ws) ? WEXITSTATUS(ws) : WTERMSIG(ws),
               n > 0 ? why : "it said nothing");
      if (ready[0] >= 0) close(ready[0]);
      return -1;
    }
    struct timespec t = {0, 100000};
    nanosleep(&t, NULL);
  }
  if (ready[0] >= 0) close(ready[0]);
  if (up && net_api_requests(e->msg, sizeof e->msg) == 0) return pid;
  if (!up)
    snprintf(e->msg, sizeof e->msg, "the network helper %s did not bring the network up within 5 s", cfg.net_helper[0]);
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  return -1;
}

/* The container asks for the runtime's hooks (HULL_STAGE_HOOKS): prestart, then createRuntime, in
 * this process's namespaces; then it goes on. A failure is the container's error, and it goes. */
static int runtime_hooks(pid_t ctr, struct hull_error *err) {
  char msg[sizeof err->msg];
  int rc = run_hooks(HULL_HOOK_PRESTART, "creating", ctr, msg, sizeof msg);
  if (!rc) rc = run_hooks(HULL_HOOK_CREATE_RUNTIME, "creating", ctr, msg, sizeof msg);
  if (rc) {
    parent_error(err, 0, "%s", msg);
    kill(ctr, SIGKILL);
  } else {
    memset(err, 0, sizeof *err);
    int32_t p = ctr;
    write_all(hooks_pipe[1], &p, sizeof p);
  }
  close(hooks_pipe[1]);
  hooks_pipe[1] = -1;
  return rc;
}

/* poststart and poststop: a failure is a warning (the container runs on, or is gone already) */
static void late_hooks(uint32_t kind, const char *status, pid_t ctr) {
  char msg[600];
  if (run_hooks(kind, status, ctr, msg, sizeof msg)) print_line("hull: warning: ", msg);
}

/* One run of the container: namespaces, maps, the container, until it is gone. */
static int run_once(int detach) {
  int tty_flag = (cfg.flags & HULL_FLAG_TTY) != 0;
  /* the output through pipes: to the supervisor (detached), or through this process to the caller
   * and the log (a kept container in the foreground; with a pty, the pty is relayed and logged) */
  /* without -t the caller's terminal is never the container's stdio: a process there could read what
   * is typed (a password meant for something else) or change the terminal's modes */
  int term_out = !tty_flag && (isatty(1) || isatty(2));
  int orphan = (cfg.flags & HULL_FLAG_ORPHAN) != 0;
  int piped = !orphan && (detach || (!tty_flag && (log_fd >= 0 || term_out)));
  if (piped)
    for (int i = 0; i < 2; i++)
      if (pipe2(log_pipes[i], O_CLOEXEC) < 0) die(errno, "pipe");
  if (!detach && !tty_flag && (cfg.flags & HULL_FLAG_STDIN) && isatty(0) && pipe2(stdin_pipe, O_CLOEXEC) < 0)
    die(errno, "pipe");
  /* run -di: the container's stdin is a pipe the supervisor keeps, which attached clients write to */
  if (detach && !tty_flag && (cfg.flags & HULL_FLAG_STDIN) && pipe2(stdin_pipe, O_CLOEXEC) < 0) die(errno, "pipe");
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

  if ((cfg.net_helper || cfg.holder_dir) && pipe2(net_pipe, O_CLOEXEC) < 0) die(errno, "pipe");
  /* on a user network: cloned under the holder's user namespace, whose lock is held until the
   * container's links are made (netns.c) */
  int h_user = -1, h_net = -1, users_fd = -1, shared = 0;
  char nest_msg[400] = "";
  load_attach_file();
  if (cfg.holder_dir) {
    int rc = holder_open(1, &h_user, &h_net, nest_msg, sizeof nest_msg);
    if (rc && (cfg.flags & HULL_FLAG_HOLDER_USERNS)) {
      /* only a faster way to the same namespaces: without it, the container's own user namespace */
      holder_release();
      h_user = h_net = -1;
      rc = 0;
    }
    if (rc && (cfg.flags & HULL_FLAG_NET_SHARED)) {
      /* the default network has a way without the shared namespace: its own helper */
      drop_shared_bridge();
      holder_release();
      h_user = h_net = -1;
      if (cfg.net_attach_n == 0) rc = 0;
    }
    if (rc) {
      remove_cleanup();
      /* ESTALE: a holder of other maps, which the message says in words */
      die(rc == ESTALE ? 0 : rc, "network: %s", nest_msg);
    }
    /* the default network through the shared namespace, when it has a way out; else as before */
    shared = h_user >= 0 && (cfg.flags & HULL_FLAG_NET_SHARED) && holder_outbound(h_user, h_net);
    if (h_user >= 0 && (cfg.flags & HULL_FLAG_NET_SHARED) && !shared) {
      drop_shared_bridge();
      if (cfg.net_attach_n == 0) {
        holder_release();
        close(h_user);
        close(h_net);
        h_user = h_net = -1;
      }
    }
    /* kept by this process and the container's stages (forked copies) until the container is gone */
    if (h_user >= 0) users_fd = holder_use();
  }
  int j_user = -1, j_net = -1;
  if (cfg.join_pid) {
    char ns[64];
    char start[32];
    proc_start((pid_t)cfg.join_pid, start, sizeof start);
    if (cfg.join_start && strcmp(start, cfg.join_start)) {
      remove_cleanup();
      die(ESRCH, "--network container: its process %u is gone (is it running?)", cfg.join_pid);
    }
    snprintf(ns, sizeof ns, "/proc/%u/ns/user", cfg.join_pid);
    j_user = open(ns, O_RDONLY | O_CLOEXEC);
    snprintf(ns, sizeof ns, "/proc/%u/ns/net", cfg.join_pid);
    j_net = open(ns, O_RDONLY | O_CLOEXEC);
    if (j_user < 0 || j_net < 0) {
      int e = errno;
      remove_cleanup();
      die(e, "--network container: its process %u is gone (is it running?)", cfg.join_pid);
    }
  }
  join_paths();
  if (cfg.start_fifo && (gate = open(cfg.start_fifo, O_RDWR | O_CLOEXEC)) < 0)
    die(errno, "open the start FIFO %s", cfg.start_fifo);
  if ((have_hooks(HULL_HOOK_PRESTART) || have_hooks(HULL_HOOK_CREATE_RUNTIME)) && pipe2(hooks_pipe, O_CLOEXEC) < 0)
    die(errno, "pipe");
  own_helper = cfg.net_helper && !cfg.net_no_outbound && !shared;
  /* the links' child joins the holder's namespaces now, while the container is made (netns.c) */
  struct net_attacher att = {.pid = -1, .sock = -1};
  if (net_pipe[1] >= 0 && h_user >= 0 && (cfg.net_attach_n > 0 || cfg.net_detach_n > 0))
    net_attach_begin(h_user, h_net, &att);
  unsigned long own_userns = (cfg.flags & HULL_FLAG_NO_USERNS) ? 0 : CLONE_NEWUSER;
  trace(cfg.holder_dir ? "shared namespace opened" : "clone");
  pid_t ns_pid = h_user >= 0   ? clone_under(h_user, -1, nest_msg, sizeof nest_msg)
                 : j_user >= 0 ? clone_under(j_user, j_net, nest_msg, sizeof nest_msg)
                               : (pid_t)syscall(SYS_clone, (unsigned long)(own_userns | CLONE_NEWNS | SIGCHLD), 0, 0, 0, 0);
  if (j_user >= 0 && ns_pid != 0) close(j_user), close(j_net);
  if (ns_pid < 0) {
    int e = errno;
    remove_cleanup();
    if (h_user >= 0 || j_user >= 0) die(0, "%s", nest_msg);
    die(e, "create user namespace (does this kernel allow unprivileged user namespaces? see hull doctor)");
  }
  if (ns_pid == 0) {
    if (j_user >= 0) close(j_user), close(j_net);
    if (att.sock >= 0) close(att.sock);
    /* the lock is the open file's: a copy kept here would hold it for the container's life */
    holder_release();
    if (h_user >= 0) close(h_user);
    if (h_net >= 0) close(h_net);
    close(sfd);
    if (net_pipe[1] >= 0) close(net_pipe[1]);
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
  if (gate >= 0) close(gate);
  if (hooks_pipe[0] >= 0) close(hooks_pipe[0]);
  if (sock[1] >= 0) close(sock[1]);
  if (net_pipe[0] >= 0) close(net_pipe[0]);
  net_pipe[0] = -1;

  /* Maps first, while the new stage waits: after this it is root inside and owns the rootfs. */
  err_fd = ready_fd;
  char msg[400];
  /* nested: written from the holder's namespace already */
  int rc = h_user >= 0 || cfg.join_pid || !own_userns ? 0 : write_maps(ns_pid, msg, sizeof msg);
  if (rc) {
    /* Nothing in the layer belongs to other ids yet, so the host user can remove it. */
    kill(ns_pid, SIGKILL);
    waitpid(ns_pid, NULL, 0);
    remove_cleanup();
    die(rc > 0 ? rc : 0, "%s", msg);
  }
  trace("id maps written");
  char go = HULL_SYNC_MAPS_DONE;
  write_to_stage(sync_pipe[1], &go, 1);
  close(sync_pipe[1]);

  int32_t ctr = 0;
  if (read_full(back_pipe[0], &ctr, sizeof ctr) != sizeof ctr) ctr = 0;
  close(back_pipe[0]);
  trace("container cloned");
  int ctr_fd = ctr > 0 ? (int)syscall(SYS_pidfd_open, ctr, 0) : -1;
  /* init.pid is in place once the command was exec'd (below), not now: until its pivot_root the
   * process's root is the host's, and `hull exec` or `pause` joining it then acted on the host. It is
   * written now under another name and renamed then: a rename creates nothing, so it cannot put a
   * file back into a --rm container's directory that the stage is removing as the command ends */
  if (ctr > 0) write_pidfile("init.pid.new", ctr);
  int init_written = 0;
  if (ctr > 0 && !orphan) write_plain_pidfile(ctr);
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

  /* after the pipes' write ends are closed (nothing more is held while pasta starts), before the pty:
   * the container sends its pty only once the network is up */
  struct hull_error err;
  int have_err = 0;
  pid_t helper = -1;
  if (net_pipe[1] >= 0) {
    int up = ctr > 0;
    /* --network none under the holder's user namespace has no link to make: no child to join it
     * (one that could not be forked before the container is tried again here) */
    if (att.pid < 0 && up && h_user >= 0 && (cfg.net_attach_n > 0 || cfg.net_detach_n > 0) &&
        net_attach_begin(h_user, h_net, &att) < 0) {
      parent_error(&err, errno, "user network: fork");
      have_err = 1;
      up = 0;
    }
    if (att.pid > 0) {
      /* the user networks' links first: pasta, started after, finds them there */
      char why[300] = "";
      int rc = net_attach_end(&att, up ? ctr : 0, why, sizeof why);
      if (rc) {
        parent_error(&err, rc, "user network: %s", why);
        have_err = 1;
        up = 0;
      }
    }
    holder_release();
    if (up && own_helper) {
      helper = start_net_helper(ctr, &err);
      if (helper <= 0) have_err = 1, up = 0;
      /* `hull rm -f` kills this process outright; the helper then dies by its parent-death signal,
       * a moment later, holding the published ports until it has: rm waits for it by this file */
      else write_pidfile("helper.pid", helper);
    }
    trace("network attached");
    if (up) write_to_stage(net_pipe[1], "1", 1);
    close(net_pipe[1]);
    net_pipe[1] = -1;
  }
  holder_release();
  int master = -1;
  if (tty && ctr > 0) master = recv_fd(sock[0]);
  if (sock[0] >= 0) close(sock[0]);
  if (master >= 0 && cfg.console_socket) {
    /* hull oci --console-socket: the pty is the caller's to relay, not ours */
    char why[300] = "";
    if (send_console(master, why, sizeof why) < 0) {
      parent_error(&err, errno, "%s", why);
      have_err = 1;
      kill(ctr, SIGKILL);
    }
    close(master);
    master = -1;
  }
  if (orphan) {
    /* created (it waits on its start FIFO), or its command started (the error pipe closed at the
     * exec), or it failed: this process's work is done either way */
    if (master >= 0) close(master);
    int exec_seen = 0;
    while (!have_err) {
      int n = read_full(err_pipe[0], &err, sizeof err);
      if (n == (int)sizeof err && err.stage == HULL_STAGE_CREATED) break;
      if (n == (int)sizeof err && err.stage == HULL_STAGE_HOOKS) {
        if (runtime_hooks(ctr, &err)) have_err = 1;
        continue;
      }
      if (n == (int)sizeof err) have_err = 1;
      else {
        exec_seen = 1;
        break;
      }
    }
    /* created, or its command exec'd: its root is its own now */
    if (!have_err && ctr > 0) publish_pidfile("init.pid.new", "init.pid");
    /* run -d: started as well as created (create's poststart is hull oci start's) */
    if (exec_seen && !have_err) late_hooks(HULL_HOOK_POSTSTART, "running", ctr);
    close(err_pipe[0]);
    if (ctr_fd >= 0) close(ctr_fd);
    close(sfd);
    waitpid(ns_pid, NULL, 0);
    sigprocmask(SIG_SETMASK, &old, NULL);
    if (!have_err && ctr > 0) write_plain_pidfile(ctr);
    return final_status(0, &err, have_err);
  }
  if (stdin_pipe[0] >= 0) {
    close(stdin_pipe[0]);
    stdin_pipe[0] = -1;
  }
  int stdin_to = master >= 0 ? master : stdin_pipe[1];
  /* detached, the supervisor's own stdin is /dev/null: input comes from attached clients only */
  int stdin_open = !detach && (cfg.flags & HULL_FLAG_STDIN) != 0 && stdin_to >= 0, master_open = master >= 0;
  /* run -dit / -di: hull attach connects to RUN_DIR/attach.sock (ffi/attach.c) */
  int attach_fd = detach && ctr > 0 && (tty || (cfg.flags & HULL_FLAG_STDIN)) ? attach_listen() : -1;
  if (attach_fd >= 0) {
    log_tap = attach_broadcast;
    /* a container that does not read its input must not stop its supervisor: what does not fit in
     * the pty's or the pipe's buffer is dropped, and the output keeps flowing */
    int to = master >= 0 ? master : stdin_pipe[1];
    if (to >= 0) fcntl(to, F_SETFL, fcntl(to, F_GETFL) | O_NONBLOCK);
  }
  if (master >= 0 && stdin_open && isatty(0) && tcgetattr(0, &saved_tio) == 0) {
    struct termios raw = saved_tio;
    cfmakeraw(&raw);
    tio_saved = tcsetattr(0, TCSANOW, &raw) == 0;
  }

  int err_open = 1, status = -1;
  pid_t detacher = -1;
  /* the health check: a prober every interval while the container runs, never two at once */
  int health_timer = -1;
  pid_t prober = -1;
  if (cfg.health_argc > 0 && cfg.health_interval > 0 && ctr > 0) {
    health_timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    struct itimerspec every = {
        .it_interval = {cfg.health_interval / 1000, (long)(cfg.health_interval % 1000) * 1000000L},
        .it_value = {cfg.health_interval / 1000, (long)(cfg.health_interval % 1000) * 1000000L},
    };
    if (health_timer >= 0) timerfd_settime(health_timer, 0, &every, NULL);
  }
  while (status < 0 || master_open || logs_open[0] || logs_open[1]) {
    struct pollfd p[9 + 8] = {
        {.fd = sfd, .events = POLLIN},
        {.fd = err_open ? err_pipe[0] : -1, .events = POLLIN},
        {.fd = master_open ? master : -1, .events = POLLIN},
        {.fd = stdin_open ? 0 : -1, .events = POLLIN},
        {.fd = logs_open[0] ? log_pipes[0][0] : -1, .events = POLLIN},
        {.fd = logs_open[1] ? log_pipes[1][0] : -1, .events = POLLIN},
        /* the container's first process ended: its links can go while the stage cleans up */
        {.fd = h_user >= 0 && detacher < 0 && cfg.net_attach_n > 0 ? ctr_fd : -1, .events = POLLIN},
        {.fd = status < 0 ? health_timer : -1, .events = POLLIN},
        {.fd = attach_fd, .events = POLLIN},
    };
    int nclients = attach_fd >= 0 ? attach_pollfds(p + 9) : 0;
    if (status >= 0) p[0].fd = -1;
    if (poll(p, (nfds_t)(9 + nclients), -1) < 0 && errno != EINTR) break;
    if (p[8].revents) attach_accept(attach_fd);
    if (nclients > 0) attach_serve(p + 9, nclients, master >= 0 ? master : stdin_pipe[1], master, ctr_fd);
    if (p[7].revents) {
      uint64_t ticks;
      if (read(health_timer, &ticks, sizeof ticks) < 0) ticks = 0;
      if (prober > 0 && waitpid(prober, NULL, WNOHANG) == prober) prober = -1;
      if (prober <= 0) prober = spawn_quiet(cfg.health_argv);
    }
    if (p[6].revents) detacher = net_detach_start(h_user, h_net, users_fd);
    if (p[1].revents) {
      int n = read_full(err_pipe[0], &err, sizeof err);
      int created = n == (int)sizeof err && err.stage == HULL_STAGE_CREATED;
      int hooks = n == (int)sizeof err && err.stage == HULL_STAGE_HOOKS;
      if (created) memset(&err, 0, sizeof err);
      else if (hooks) have_err = runtime_hooks(ctr, &err) != 0;
      else if (n == (int)sizeof err) have_err = 1;
      else err_open = 0;
      if (n == 0) err_open = 0;
      if (ctr > 0 && !have_err && (n == 0 || created) && !init_written) {
        publish_pidfile("init.pid.new", "init.pid");
        init_written = 1;
      }
      if (n == 0 && !have_err) late_hooks(HULL_HOOK_POSTSTART, "running", ctr);
      if (ready_fd >= 0 && !have_err && (n == 0 || created)) {
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
    if (p[3].revents) relay(0, stdin_to, &stdin_open);
    if (!detach && !stdin_open && stdin_pipe[1] >= 0) {
      /* the caller's input ended: so does the container's */
      close(stdin_pipe[1]);
      stdin_pipe[1] = -1;
    }
    if (p[0].revents) take_signals(sfd, ns_pid, ctr, ctr_fd, master, &status);
    if (status >= 0 && master_open) drain_pty(master, &master_open);
  }
  trace("container ended");
  if (ctr > 0 && cfg.nhooks > 0) late_hooks(HULL_HOOK_POSTSTOP, "stopped", ctr);
  if (health_timer >= 0) close(health_timer);
  if (prober > 0) {
    /* its container is gone: what it would say no longer matters */
    kill(prober, SIGKILL);
    waitpid(prober, NULL, 0);
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
  if (stdin_pipe[1] >= 0) {
    close(stdin_pipe[1]);
    stdin_pipe[1] = -1;
  }
  if (master >= 0) close(master);
  if (h_user >= 0) {
    if (detacher < 0 && cfg.net_attach_n > 0) detacher = net_detach_start(h_user, h_net, users_fd);
    /* Deleting a veth waits for the kernel's grace period, ~10 ms: only a container that may run
     * again, with links of the same names, waits for it; else the deleter finishes on its own (the
     * container's name and address are free already, its links' names are its own). */
    int may_restart = detach && cfg.restart != HULL_RESTART_NO;
    if (detacher > 0 && may_restart) waitpid(detacher, NULL, 0);
    close(h_user);
    close(h_net);
  }
  holder_unuse(users_fd);
  trace("holder released");
  if (helper > 0) {
    /* the container is gone: so is what its network needed */
    kill(helper, SIGTERM);
    waitpid(helper, NULL, 0);
  }
  for (int i = 0; i < 2; i++)
    if (piped && log_pipes[i][0] >= 0) {
      close(log_pipes[i][0]);
      log_pipes[i][0] = log_pipes[i][1] = -1;
    }
  int code = final_status(status, &err, have_err);
  if (attach_fd >= 0) {
    log_tap = NULL;
    attach_finish(attach_fd, code);
  }
  return code;
}


/* its peers on user networks to be told it ended or runs again: it is on one (HULL_FLAG_PEERS), or a
 * `network connect` put it on one while it ran (RUN_DIR/peers) */
static void tell_peers(void) {
  char path[4200];
  if (cfg.peers_argc == 0) return;
  if (!(cfg.flags & HULL_FLAG_PEERS)) {
    if (!cfg.run_dir) return;
    snprintf(path, sizeof path, "%s/peers", cfg.run_dir);
    if (access(path, F_OK) != 0) return;
  }
  spawn_detached(cfg.peers_argv);
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
  trace("message read");

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
    /* its peers on user networks stop naming it (hull stop, an exit, --rm): within a second, as a
     * removal's; a restart below names it again */
    tell_peers();
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
    tell_peers();
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
/* `hull-shim remove`: the message's arguments are trees to delete, files of any mapped id */
static void __attribute__((noreturn)) remove_trees(void) {
  for (int i = 0; i < cfg.argc; i++) remove_tree(cfg.argv[i]);
  for (int i = 0; i < cfg.argc; i++)
    if (access(cfg.argv[i], F_OK) == 0) die(ENOTEMPTY, "could not remove %s", cfg.argv[i]);
  _exit(0);
}

static int run_exec(int remove) {
  reset_signals();
  read_message(0);
  /* a live holder's user namespace has every id of the store: joined, it needs no newuidmap */
  if (remove && join_holder_userns()) remove_trees();
  if (cfg.target_pid) {
    /* the user namespace of a running container (TARGET_PID), not a new one: only there may its
     * /proc/PID/root be read (hull cp) */
    char path[64];
    snprintf(path, sizeof path, "/proc/%u/ns/user", cfg.target_pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWUSER) < 0) die(errno, "join the container's user namespace");
    pid_t parent = getppid();
    if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) die(errno, "become root in the user namespace");
    /* after the id change, which clears it (root of a keep-id container is not the caller) */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) die(errno, "pdeathsig");
    if (getppid() != parent) _exit(HULL_EXIT_SETUP);
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
    if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0) die(errno, "become root in the user namespace");
    /* after the id change, which clears it; the parent is the exec stage, alive until we exit */
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) die(errno, "pdeathsig");
    if (mount_ns) {
      if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) die(errno, "make mounts private");
      int kernel_err = mount_kernel_overlay();
      if (!overlay_mounted) {
        mount_fuse_overlay(kernel_err);
        /* fuse-overlayfs's daemon lives on in this namespace until the mount goes: so the command
         * runs as a child, and the mount is taken away when it is done */
        pid_t c = fork();
        if (c < 0) die(errno, "fork");
        if (c > 0) {
          int st = 0;
          while (waitpid(c, &st, 0) < 0)
            if (errno != EINTR) break;
          umount2(cfg.rootfs, MNT_DETACH);
          _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
        }
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) die(errno, "pdeathsig");
      }
    }
    if (remove) remove_trees();
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
    if (fd_is(fds[i], own)) {
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

/* The state letter of process PID of the container's /proc (we are chrooted in its root), or 0. */
static char proc_state(const char *pid) {
  char path[64], stat[512];
  snprintf(path, sizeof path, "/proc/%s/stat", pid);
  if (read_small_file(path, stat, sizeof stat) <= 0) return 0;
  char *p = strrchr(stat, ')');
  return p && p[1] == ' ' ? p[2] : 0;
}

/* Every process of the container but SELF is stopped (or gone). */
static int all_stopped(pid_t self) {
  DIR *d = opendir("/proc");
  if (!d) return 0;
  int all = 1;
  struct dirent *e;
  while (all && (e = readdir(d))) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9' || atoi(e->d_name) == self) continue;
    char st = proc_state(e->d_name);
    if (st && st != 'T' && st != 't' && st != 'Z' && st != 'X') all = 0;
  }
  closedir(d);
  return all;
}

/* `hull-shim signal-all SIG` (message: TARGET_PID): SIG to every process of the container. Its
 * processes run as ids the host user cannot signal, so a child in the container's pid namespace,
 * root there, signals all of them but pid 1 (kill(-1) spares init and the caller), and pid 1 is
 * signalled from outside, where SIGSTOP reaches an init. `hull pause` without a cgroup freezer.
 *
 * SIGSTOP must be a freeze that nothing slips through (hull cp and commit rely on it: a process left
 * running could swap a path for a symlink meanwhile, CVE-2018-15664): pid 1 is stopped first and
 * seen stopped, so that it forks nothing more; then kill(-1) goes round until two scans of /proc in
 * a row find every process stopped, catching the children forked while the signal was on its way. */
static int run_signal_all(int sig) {
  reset_signals();
  read_message(0);
  join_container();
  if (sig == SIGSTOP) {
    if (kill((pid_t)cfg.target_pid, sig) < 0) die(errno, "signal the container's pid 1");
    for (int i = 0; i < 2000 && proc_state("1") != 'T' && proc_state("1") != 't'; i++) {
      struct timespec ms = {0, 1000000};
      nanosleep(&ms, NULL);
    }
  }
  pid_t child = fork();
  if (child < 0) die(errno, "fork");
  if (child == 0) {
    if (sig != SIGSTOP) _exit(kill(-1, sig) < 0 && errno != ESRCH ? 1 : 0);
    pid_t self = getpid();
    int stable = 0;
    for (int round = 0; round < 2000 && stable < 2; round++) {
      if (kill(-1, sig) < 0 && errno != ESRCH) _exit(1);
      stable = all_stopped(self) ? stable + 1 : 0;
      if (stable < 2) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
      }
    }
    _exit(stable >= 2 ? 0 : 2);
  }
  int status;
  waitpid(child, &status, 0);
  if (sig != SIGSTOP && kill((pid_t)cfg.target_pid, sig) < 0) die(errno, "signal the container's pid 1");
  if (WIFEXITED(status) && WEXITSTATUS(status) == 2) die(0, "the container's processes kept forking: not every one could be stopped");
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

static int run_enter(int message_fd) {
  reset_signals();
  read_message(message_fd);
  open_pid_dir();
  if (cfg.console_socket && (cfg.flags & HULL_FLAG_TTY)) oci_console_connect_now();
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
  /* relayed through this process when it stays (an orphan's parent is gone at once) */
  int stays = !(cfg.flags & HULL_FLAG_ORPHAN);
  if (stays && !tty && (isatty(1) || isatty(2)))
    for (int i = 0; i < 2; i++)
      if (pipe2(log_pipes[i], O_CLOEXEC) < 0) die(errno, "pipe");
  if (stays && !tty && (cfg.flags & HULL_FLAG_STDIN) && isatty(0) && pipe2(stdin_pipe, O_CLOEXEC) < 0)
    die(errno, "pipe");
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
    /* as for run: the caller's terminal is never the command's own descriptor */
    if (log_pipes[0][1] >= 0 && (dup2(log_pipes[0][1], 1) < 0 || dup2(log_pipes[1][1], 2) < 0))
      die(errno, "piped stdio");
    if (stdin_pipe[0] >= 0 && dup2(stdin_pipe[0], 0) < 0) die(errno, "piped stdin");
    become_command();
    exec_command();
  }
  close(errp[1]);
  if (slave >= 0) close(slave);
  if (master >= 0 && cfg.console_socket) {
    char why[300] = "";
    if (send_console(master, why, sizeof why) < 0) {
      kill(child, SIGKILL);
      die(errno, "%s", why);
    }
    close(master);
    master = -1;
  }
  if (stays) {
    write_plain_pidfile(child);
  } else {
    /* hull oci exec --detach: done once the command started (the pipe closed at its exec) */
    struct hull_error e;
    int failed = read_full(errp[0], &e, sizeof e) == (int)sizeof e;
    if (failed) {
      waitpid(child, NULL, 0);
      return final_status(0, &e, 1);
    }
    write_plain_pidfile(child);
    return 0;
  }
  int outs_open[2] = {0, 0};
  for (int i = 0; i < 2; i++) {
    if (log_pipes[i][1] < 0) continue;
    close(log_pipes[i][1]);
    log_pipes[i][1] = -1;
    outs_open[i] = 1;
  }
  if (outs_open[0]) signal(SIGPIPE, SIG_IGN);
  if (stdin_pipe[0] >= 0) {
    close(stdin_pipe[0]);
    stdin_pipe[0] = -1;
  }
  int stdin_to = tty ? master : stdin_pipe[1];
  int stdin_open = (cfg.flags & HULL_FLAG_STDIN) && stdin_to >= 0, master_open = master >= 0;
  if (stdin_open && isatty(0) && tcgetattr(0, &saved_tio) == 0) {
    struct termios raw = saved_tio;
    cfmakeraw(&raw);
    tio_saved = tcsetattr(0, TCSANOW, &raw) == 0;
  }
  struct hull_error err;
  int have_err = 0, err_open = 1, status = -1;
  while (status < 0 || master_open || outs_open[0] || outs_open[1]) {
    struct pollfd p[6] = {
        {.fd = status < 0 ? sfd : -1, .events = POLLIN},
        {.fd = err_open ? errp[0] : -1, .events = POLLIN},
        {.fd = master_open ? master : -1, .events = POLLIN},
        {.fd = stdin_open ? 0 : -1, .events = POLLIN},
        {.fd = outs_open[0] ? log_pipes[0][0] : -1, .events = POLLIN},
        {.fd = outs_open[1] ? log_pipes[1][0] : -1, .events = POLLIN},
    };
    if (poll(p, 6, -1) < 0 && errno != EINTR) break;
    if (p[4].revents) log_drain(0, log_pipes[0][0], &outs_open[0], 1);
    if (p[5].revents) log_drain(1, log_pipes[1][0], &outs_open[1], 1);
    if (p[1].revents) {
      int n = read_full(errp[0], &err, sizeof err);
      if (n == (int)sizeof err) have_err = 1;
      else err_open = 0;
    }
    if (p[2].revents) relay(master, 1, &master_open);
    if (p[3].revents) relay(0, stdin_to, &stdin_open);
    if (!stdin_open && stdin_pipe[1] >= 0) {
      close(stdin_pipe[1]);
      stdin_pipe[1] = -1;
    }
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
    int rc = run_parent(fd);
    trace("exit");
    return rc;
  }
  if (argc == 3 && !strcmp(argv[1], "net")) return run_net(atoi(argv[2]));
  if (argc == 6 && !strcmp(argv[1], "hooks")) return run_hooks_mode(argv + 2);
  if (argc == 3 && !strcmp(argv[1], "attach")) return run_attach(atoi(argv[2]));
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
