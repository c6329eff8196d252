/* hull-shim: pid files, and the json-file log of a container's output. */
#include "shim.h"

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

int log_fd = -1;
size_t log_size;
char log_path[4200];
struct {
  char buf[LOG_LINE];
  size_t len;
} pending[2];

void proc_start(pid_t pid, char *out, size_t len) {
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

void write_pidfile(const char *name, pid_t pid) {
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

/* RUN_DIR/FROM renamed to RUN_DIR/TO: nothing when FROM is gone (a removal under way) */
void publish_pidfile(const char *from, const char *to) {
  if (!cfg.run_dir) return;
  char a[4200], b[4200];
  snprintf(a, sizeof a, "%s/%s", cfg.run_dir, from);
  snprintf(b, sizeof b, "%s/%s", cfg.run_dir, to);
  rename(a, b);
}

void log_open(void) {
  snprintf(log_path, sizeof log_path, "%s/container.log", cfg.run_dir);
  log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  struct stat st;
  log_size = log_fd >= 0 && fstat(log_fd, &st) == 0 ? (size_t)st.st_size : 0;
}

/* Entries are gathered here and written in one go per chunk read, not one write(2) per line: a
 * container that prints 200,000 short lines would otherwise cost 200,000 system calls. */
char log_buf[65536];
size_t log_buf_len;
char log_stamp[96]; /* the time of the chunk being logged, "2026-11-30T01:02:03.123456789Z" */

void log_flush(void) {
  if (log_fd >= 0 && log_buf_len) write_all(log_fd, log_buf, log_buf_len);
  log_size += log_buf_len;
  log_buf_len = 0;
}

void log_entry(int stream, const char *data, size_t len) {
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
  size_t max = cfg.log_max ? (size_t)cfg.log_max : LOG_MAX;
  if (log_size + log_buf_len + o > max && log_size + log_buf_len > 0) {
    /* max-file files in all: container.log.N-1 goes, each older one moves up, the current one to .1
     * (max-file 1: the log starts again) */
    log_flush();
    uint32_t files = cfg.log_files ? cfg.log_files : 2;
    char from[4300], to[4300];
    close(log_fd);
    if (files <= 1) {
      unlink(log_path);
    } else {
      for (uint32_t k = files - 1; k >= 1; k--) {
        if (k == 1) snprintf(from, sizeof from, "%s", log_path);
        else snprintf(from, sizeof from, "%s.%u", log_path, k - 1);
        snprintf(to, sizeof to, "%s.%u", log_path, k);
        rename(from, to);
      }
    }
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
void log_stamp_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  char day[32];
  strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(log_stamp, sizeof log_stamp, "%s.%09ldZ", day, ts.tv_nsec);
}

/* Lines go out whole; a line longer than LOG_LINE is cut into several entries, as Docker does. */
void log_feed(int stream, const char *data, size_t len) {
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
void (*log_tap)(int stream, const char *buf, size_t n);

void log_drain(int stream, int fd, int *open_flag, int to_caller) {
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
  if (log_tap) log_tap(stream, buf, (size_t)n);
  if (log_fd >= 0) log_feed(stream, buf, (size_t)n);
}
