/* hull oci's own parts of the parent: the --console-socket (a pty's master sent as runc sends it),
 * the --pid-file (written whole, in a directory opened before exec enters the container), and the
 * namespaces a bundle names by path. The rest of the OCI path is the same core as hull run's. */
#include "shim.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* the --console-socket, connected (exec connects before it enters the container's root) */
static int console_fd = -1;

static int connect_console(char *why, size_t len) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(cfg.console_socket) >= sizeof addr.sun_path) {
    errno = ENAMETOOLONG;
    snprintf(why, len, "--console-socket %s", cfg.console_socket);
    return -1;
  }
  strcpy(addr.sun_path, cfg.console_socket);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0 || connect(s, (struct sockaddr *)&addr, sizeof addr) < 0) {
    int e = errno;
    if (s >= 0) close(s);
    errno = e;
    snprintf(why, len, "connect to --console-socket %s", cfg.console_socket);
    return -1;
  }
  return s;
}

/* the pty's master to the --console-socket, as runc sends it: SCM_RIGHTS, the pty's name as data */
int send_console(int master, char *why, size_t len) {
  int s = console_fd >= 0 ? console_fd : connect_console(why, len);
  console_fd = -1;
  if (s < 0) return -1;
  int rc = send_fd_with(s, master, "/dev/ptmx") < 0 ? -1 : 0;
  int e = errno;
  close(s);
  errno = e;
  if (rc < 0) snprintf(why, len, "send the pty to --console-socket %s", cfg.console_socket);
  return rc;
}

/* exec: the --console-socket connected before the container's root is entered, where its path
 * would not be reached */
void oci_console_connect_now(void) {
  char why[300];
  if ((console_fd = connect_console(why, sizeof why)) < 0) die(errno, "%s", why);
}

/* the directory of --pid-file, opened before exec's chroot into the container */
static int pid_dir_fd = AT_FDCWD;
static const char *pid_name;

void open_pid_dir(void) {
  if (!cfg.pid_file || pid_name) return;
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", cfg.pid_file);
  char *slash = strrchr(dir, '/');
  pid_name = slash ? cfg.pid_file + (slash - dir) + 1 : cfg.pid_file;
  if (!slash) return;
  *(slash == dir ? slash + 1 : slash) = 0;
  pid_dir_fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (pid_dir_fd < 0) die(errno, "--pid-file %s", cfg.pid_file);
}

/* hull oci --pid-file: the number alone, written whole (a temporary name, then renamed). When it
 * cannot be written, PID (a container or an exec'd process nothing of hull's would keep track of)
 * is killed first, then the error said. */
void write_plain_pidfile(pid_t pid) {
  if (!cfg.pid_file) return;
  open_pid_dir();
  char tmp[4200], text[16];
  snprintf(tmp, sizeof tmp, "%s.tmp", pid_name);
  int n = snprintf(text, sizeof text, "%d", (int)pid);
  int fd = openat(pid_dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) {
    write_all(fd, text, (size_t)n);
    close(fd);
  }
  if (fd < 0 || renameat(pid_dir_fd, tmp, pid_dir_fd, pid_name) < 0) {
    int e = errno;
    kill(pid, SIGKILL);
    die(e, "--pid-file %s", cfg.pid_file);
  }
}

/* hull oci: the namespaces a bundle names by path (podman's network namespace), joined by this
 * process before the container's are made, so that its stages are cloned into them */
void join_paths(void) {
  static const struct { const char *name; int type; } kinds[] = {
      {"net", CLONE_NEWNET}, {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS}};
  for (int i = 0; i < cfg.join_ns_n; i++) {
    const char *e = cfg.join_ns[i], *path = strchr(e, ' ');
    int type = 0;
    for (size_t k = 0; path && k < sizeof kinds / sizeof *kinds; k++)
      if ((size_t)(path - e) == strlen(kinds[k].name) && !strncmp(e, kinds[k].name, (size_t)(path - e))) type = kinds[k].type;
    if (!type) die(EINVAL, "setup message: bad namespace to join: %s", e);
    /* non-blocking: a FIFO named as a namespace must not hold this process (and its signals) */
    int fd = open(path + 1, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0 || setns(fd, type) < 0) {
      int e = errno;
      remove_cleanup();
      die(e, "join the namespace %s", path + 1);
    }
    close(fd);
  }
}
