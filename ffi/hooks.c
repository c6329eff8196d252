/* hull-shim: an OCI bundle's hooks (runtime-spec's POSIX hooks). Each runs with the container's
 * state on its stdin, in the order the bundle gives, killed past its timeout. Before the command,
 * the first that fails stops the rest (and the container); poststart and poststop go on after one
 * fails, as runtime-spec says, and the first failure is told. */
#include "shim.h"

/* The state a hook reads: the template hull wrote, its first "{status}" and "{pid}" filled in (they
 * come first, before any string of the bundle's that could hold the same words). */
static void state_json(char *out, size_t len, const char *status, pid_t pid) {
  const char *t = cfg.hook_state ? cfg.hook_state : "{}";
  size_t o = 0;
  int put_status = 0, put_pid = 0;
  while (*t && o + 1 < len) {
    if (!put_status && !strncmp(t, "{status}", 8)) {
      put_status = 1;
      o += (size_t)snprintf(out + o, len - o, "%s", status);
      t += 8;
    } else if (!put_pid && !strncmp(t, "{pid}", 5)) {
      put_pid = 1;
      o += (size_t)snprintf(out + o, len - o, "%d", (int)pid);
      t += 5;
    } else {
      out[o++] = *t++;
    }
    if (o >= len) o = len - 1;
  }
  out[o] = 0;
}

/* One hook: 0, or -1 with MSG filled. */
static int run_hook(const struct hook *h, const char *state, char *msg, size_t len) {
  int in[2];
  if (pipe2(in, O_CLOEXEC) < 0) {
    snprintf(msg, len, "hook %s: pipe: %s", h->path, strerror(errno));
    return -1;
  }
  pid_t pid = fork();
  if (pid < 0) {
    snprintf(msg, len, "hook %s: fork: %s", h->path, strerror(errno));
    return -1;
  }
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);
    if (dup2(in[0], 0) < 0) _exit(127);
    execve(h->path, (char *const *)h->argv, (char *const *)h->envp);
    _exit(127);
  }
  close(in[0]);
  /* a hook that does not read its state must not take this process down with SIGPIPE */
  void (*old)(int) = signal(SIGPIPE, SIG_IGN);
  const char *p = state;
  size_t left = strlen(state);
  while (left > 0) {
    ssize_t n = write(in[1], p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    p += n;
    left -= (size_t)n;
  }
  close(in[1]);
  signal(SIGPIPE, old);
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (h->timeout > 0 && pidfd >= 0) {
    struct pollfd w = {.fd = pidfd, .events = POLLIN};
    int r;
    while ((r = poll(&w, 1, (int)h->timeout * 1000)) < 0 && errno == EINTR) {
    }
    if (r == 0) {
      kill(pid, SIGKILL);
      waitpid(pid, NULL, 0);
      close(pidfd);
      snprintf(msg, len, "hook %s did not end within its timeout of %u s", h->path, h->timeout);
      return -1;
    }
  }
  if (pidfd >= 0) close(pidfd);
  int status = wait_status(pid);
  if (status == 0) return 0;
  snprintf(msg, len, "hook %s failed (%s %d)", h->path, status > 128 ? "signal" : "exit",
           status > 128 ? status - 128 : status);
  return -1;
}

int have_hooks(uint32_t kind) {
  for (int i = 0; i < cfg.nhooks; i++)
    if (cfg.hooks[i].kind == kind) return 1;
  return 0;
}

int run_hooks(uint32_t kind, const char *status, pid_t pid, char *msg, size_t len) {
  if (!have_hooks(kind)) return 0;
  size_t size = strlen(cfg.hook_state ? cfg.hook_state : "{}") + 64;
  char *state = malloc(size);
  if (!state) die(ENOMEM, "hook state");
  state_json(state, size, status, pid);
  int rc = 0, go_on = kind == HULL_HOOK_POSTSTART || kind == HULL_HOOK_POSTSTOP;
  char other[600];
  for (int i = 0; i < cfg.nhooks && (!rc || go_on); i++)
    if (cfg.hooks[i].kind == kind && run_hook(&cfg.hooks[i], state, rc ? other : msg, rc ? sizeof other : len)) rc = -1;
  free(state);
  return rc;
}

/* `hull-shim hooks KIND STATUS PID FD`: hull oci start's poststart and delete's poststop; 0, or 1
 * with the failure on stderr (a warning there: the container is already running, or gone) */
int run_hooks_mode(char **argv) {
  read_message(atoi(argv[3]));
  char msg[600];
  if (run_hooks((uint32_t)atoi(argv[0]), argv[1], (pid_t)atoi(argv[2]), msg, sizeof msg) == 0) return 0;
  print_line("hull: warning: ", msg);
  return 1;
}
