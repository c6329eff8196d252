/* Attaching to a detached container (`run -dit`, then `hull attach`): its parent, the supervisor,
 * owns the container's pty or stdin pipe and listens on RUN_DIR/attach.sock (mode 0600: only the
 * user). A client's frames carry input and the terminal's size; the supervisor sends the output to
 * every client as it logs it, then the exit code. The client (`hull-shim attach`) puts the terminal in
 * raw mode and leaves on the detach keys (ctrl-p ctrl-q), the container running.
 *
 * Frames, both ways: u8 type, u32 length (little-endian), data.
 *   client -> supervisor: 'i' input bytes; 'w' rows u16, cols u16; 's' a signal (i32) for the
 *                         container (what the client got: docker's --sig-proxy)
 *   supervisor -> client: 1 stdout, 2 stderr, 'x' the exit code (i32)
 * The socket's path goes through /proc/self/fd/DIRFD: a store's path can be longer than a socket
 * address takes (108 bytes). */
#include "shim.h"

#define ATTACH_MAX 8

static int clients[ATTACH_MAX];
static int nclients;

/* the socket address of DIRFD/attach.sock */
static void attach_addr(int dirfd, struct sockaddr_un *a) {
  memset(a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  snprintf(a->sun_path, sizeof a->sun_path, "/proc/self/fd/%d/attach.sock", dirfd);
}

int attach_listen(void) {
  if (!cfg.run_dir) return -1;
  int dirfd = open(cfg.run_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0) return -1;
  unlinkat(dirfd, "attach.sock", 0);
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  struct sockaddr_un a;
  attach_addr(dirfd, &a);
  mode_t old = umask(0077);
  int ok = s >= 0 && bind(s, (struct sockaddr *)&a, sizeof a) == 0 && listen(s, ATTACH_MAX) == 0;
  umask(old);
  close(dirfd);
  if (!ok) {
    if (s >= 0) close(s);
    return -1;
  }
  nclients = 0;
  return s;
}

void attach_accept(int lfd) {
  int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (c < 0) return;
  /* the same user only (the socket's mode says so already; a second look costs nothing) */
  struct ucred cred;
  socklen_t len = sizeof cred;
  if (nclients >= ATTACH_MAX || getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != getuid()) {
    close(c);
    return;
  }
  clients[nclients++] = c;
}

static void drop_client(int i) {
  close(clients[i]);
  clients[i] = clients[--nclients];
}

/* Whole frames, or the client is dropped: a client that does not read its output must not stall
 * the container (its output still goes to the log). */
static int send_frame(int fd, uint8_t type, const void *data, uint32_t len) {
  uint8_t head[5] = {type, (uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16), (uint8_t)(len >> 24)};
  struct iovec iov[2] = {{head, 5}, {(void *)data, len}};
  struct msghdr m = {.msg_iov = iov, .msg_iovlen = 2};
  size_t want = 5 + (size_t)len, sent = 0;
  for (int tries = 0; sent < want && tries < 200; tries++) {
    ssize_t n = sendmsg(fd, &m, MSG_NOSIGNAL);
    if (n < 0 && errno == EAGAIN) {
      struct pollfd p = {.fd = fd, .events = POLLOUT};
      poll(&p, 1, 10);
      continue;
    }
    if (n <= 0) return -1;
    sent += (size_t)n;
    /* what is left of the two pieces */
    size_t skip = (size_t)n;
    while (m.msg_iovlen > 0 && skip >= m.msg_iov[0].iov_len) {
      skip -= m.msg_iov[0].iov_len;
      m.msg_iov++;
      m.msg_iovlen--;
    }
    if (m.msg_iovlen > 0) {
      m.msg_iov[0].iov_base = (char *)m.msg_iov[0].iov_base + skip;
      m.msg_iov[0].iov_len -= skip;
    }
  }
  return sent == want ? 0 : -1;
}

void attach_broadcast(int stream, const char *buf, size_t n) {
  for (int i = 0; i < nclients;)
    if (send_frame(clients[i], (uint8_t)(stream + 1), buf, (uint32_t)n) < 0) drop_client(i);
    else i++;
}

int attach_pollfds(struct pollfd *p) {
  for (int i = 0; i < nclients; i++) p[i] = (struct pollfd){.fd = clients[i], .events = POLLIN};
  return nclients;
}

/* A frame from client I (its fd at P): input to TO (the pty master or the stdin pipe), a size to
 * MASTER. A client that sends half a frame, or goes, is dropped. */
void attach_serve(struct pollfd *p, int count, int to, int master, int target_fd) {
  for (int k = count - 1; k >= 0; k--) {
    if (!p[k].revents) continue;
    int i = -1;
    for (int j = 0; j < nclients; j++)
      if (clients[j] == p[k].fd) i = j;
    if (i < 0) continue;
    uint8_t head[5];
    char buf[65536];
    /* a frame is written whole by the client: read it whole, without blocking for long */
    int fl = fcntl(clients[i], F_GETFL);
    fcntl(clients[i], F_SETFL, fl & ~O_NONBLOCK);
    struct timeval tv = {1, 0};
    setsockopt(clients[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int ok = read_full(clients[i], head, 5) == 5;
    uint32_t len = ok ? (uint32_t)head[1] | (uint32_t)head[2] << 8 | (uint32_t)head[3] << 16 | (uint32_t)head[4] << 24 : 0;
    ok = ok && len <= sizeof buf && read_full(clients[i], buf, len) == (int)len;
    fcntl(clients[i], F_SETFL, fl);
    if (!ok) {
      drop_client(i);
      continue;
    }
    if (head[0] == 'i' && to >= 0) write_all(to, buf, len);
    if (head[0] == 's' && len == 4 && target_fd >= 0) {
      int32_t sig;
      memcpy(&sig, buf, 4);
      if (sig > 0 && sig < 65 && sig != SIGKILL && sig != SIGSTOP)
        syscall(SYS_pidfd_send_signal, target_fd, (int)sig, NULL, 0);
    }
    if (head[0] == 'w' && master >= 0 && len == 4) {
      struct winsize ws = {.ws_row = (unsigned short)((uint8_t)buf[0] | (uint8_t)buf[1] << 8),
                           .ws_col = (unsigned short)((uint8_t)buf[2] | (uint8_t)buf[3] << 8)};
      ioctl(master, TIOCSWINSZ, &ws);
    }
  }
}

/* The container is gone: each client gets its exit code, and the socket goes. */
void attach_finish(int lfd, int code) {
  int32_t c = code;
  for (int i = 0; i < nclients; i++) {
    send_frame(clients[i], 'x', &c, sizeof c);
    close(clients[i]);
  }
  nclients = 0;
  if (lfd < 0) return;
  close(lfd);
  int dirfd = open(cfg.run_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dirfd >= 0) {
    unlinkat(dirfd, "attach.sock", 0);
    close(dirfd);
  }
}

/* ---- the client: `hull-shim attach FD` ------------------------------------------------------- */

static struct termios saved;
static int raw_set;

static void restore(void) {
  if (raw_set) tcsetattr(0, TCSANOW, &saved);
  raw_set = 0;
}

static void send_size(int s) {
  struct winsize ws;
  if (ioctl(0, TIOCGWINSZ, &ws) < 0 && ioctl(1, TIOCGWINSZ, &ws) < 0) return;
  uint8_t b[4] = {(uint8_t)ws.ws_row, (uint8_t)(ws.ws_row >> 8), (uint8_t)ws.ws_col, (uint8_t)(ws.ws_col >> 8)};
  send_frame(s, 'w', b, 4);
}

int run_attach(int message_fd) {
  read_message(message_fd);
  int dirfd = cfg.run_dir ? open(cfg.run_dir, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un a;
  attach_addr(dirfd, &a);
  if (dirfd < 0 || s < 0 || connect(s, (struct sockaddr *)&a, sizeof a) < 0)
    die(errno, "attach: the container is not running (or was not started with -i or -t)");
  close(dirfd);
  int tty = (cfg.flags & HULL_FLAG_TTY) != 0, input = (cfg.flags & HULL_FLAG_STDIN) != 0;
  if (tty && input && isatty(0) && tcgetattr(0, &saved) == 0) {
    struct termios raw = saved;
    cfmakeraw(&raw);
    raw_set = tcsetattr(0, TCSANOW, &raw) == 0;
  }
  if (tty) send_size(s);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGWINCH);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  if (!raw_set) sigaddset(&set, SIGINT);
  sigprocmask(SIG_BLOCK, &set, NULL);
  int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  const char *keys = cfg.detach_keys ? cfg.detach_keys : "\x10\x11";
  size_t nkeys = strlen(keys), matched = 0;
  int code = -1, in_open = input;
  for (;;) {
    struct pollfd p[3] = {{.fd = s, .events = POLLIN}, {.fd = in_open ? 0 : -1, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
    if (poll(p, 3, -1) < 0 && errno != EINTR) break;
    if (p[2].revents) {
      struct signalfd_siginfo si;
      int leave = 0;
      while (read(sfd, &si, sizeof si) == sizeof si) {
        if (si.ssi_signo == SIGWINCH) {
          send_size(s);
        } else if (cfg.flags & HULL_FLAG_NO_SIG_PROXY) {
          leave = 1;
        } else {
          /* docker's --sig-proxy: the container gets it, and its end ends the attachment */
          int32_t sig = (int32_t)si.ssi_signo;
          send_frame(s, 's', &sig, sizeof sig);
        }
      }
      /* --sig-proxy=false: a signal to the client ends the attachment, not the container */
      if (leave) break;
    }
    if (p[1].revents) {
      char buf[4096], out[4096 + 8];
      ssize_t n = read(0, buf, sizeof buf);
      if (n <= 0) {
        in_open = 0;
      } else {
        /* the detach keys: held back while they match, passed on when they stop matching */
        size_t o = 0;
        int detach = 0;
        for (ssize_t i = 0; i < n && !detach; i++) {
          if (nkeys > 0 && buf[i] == keys[matched]) {
            if (++matched == nkeys) detach = 1;
            continue;
          }
          if (matched) {
            memcpy(out + o, keys, matched);
            o += matched;
            matched = 0;
          }
          if (nkeys > 0 && buf[i] == keys[0]) {
            matched = 1;
            if (nkeys == 1) detach = 1;
            continue;
          }
          out[o++] = buf[i];
        }
        if (o > 0 && send_frame(s, 'i', out, (uint32_t)o) < 0) break;
        if (detach) {
          restore();
          fprintf(stderr, "\r\nhull: detached; the container goes on (hull attach to come back)\r\n");
          return 0;
        }
      }
    }
    if (p[0].revents) {
      uint8_t head[5];
      char buf[65536];
      if (read_full(s, head, 5) != 5) break;
      uint32_t len = (uint32_t)head[1] | (uint32_t)head[2] << 8 | (uint32_t)head[3] << 16 | (uint32_t)head[4] << 24;
      if (len > sizeof buf || read_full(s, buf, len) != (int)len) break;
      if (head[0] == 1 || head[0] == 2) write_all(head[0] == 1 ? 1 : 2, buf, len);
      if (head[0] == 'x' && len == 4) {
        int32_t c;
        memcpy(&c, buf, 4);
        code = c;
        break;
      }
    }
  }
  restore();
  return code >= 0 ? code : 0;
}
