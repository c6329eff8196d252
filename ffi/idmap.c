/* hull-shim: the id maps of a new user namespace, through newuidmap/newgidmap or written directly. */
#include "shim.h"

/* ---- id maps (parent, on the host) ----------------------------------------------------------- */

int write_file_rc(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  int rc = write(fd, text, strlen(text)) < 0 ? errno : 0;
  close(fd);
  return rc;
}

/* room for hull's most extents (20, checked by hull) of the largest numbers */
struct map_helper {
  const char *argv[64];
  char buf[4096], pid[16];
};

void helper_argv(struct map_helper *h, const char *prog, pid_t pid, const char *map) {
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

/* "0 1000 1 1 100000 65536" as the kernel takes it: an extent (three numbers) a line */
static void map_lines(char *out, size_t len, const char *map) {
  size_t o = 0;
  int words = 0;
  for (const char *p = map; *p && o + 2 < len; p++) {
    if (*p == ' ' && ++words % 3 == 0) {
      out[o++] = '\n';
      continue;
    }
    out[o++] = *p;
  }
  out[o++] = '\n';
  out[o] = 0;
}

/* Write PID's uid and gid maps: through newuidmap and newgidmap, run side by side (each is a
 * setuid program that takes about a millisecond), or directly for a single-id map.
 * Returns 0, or fills MSG and returns an errno (or -1 when a helper program failed). */
int write_maps(pid_t pid, char *msg, size_t msglen) {
  return write_maps_of(pid, cfg.uidmap, cfg.gidmap, msg, msglen);
}

/* The same with other maps (in the same programs): the network namespace holder's. */
int write_maps_of(pid_t pid, const char *uidmap, const char *gidmap, char *msg, size_t msglen) {
  if (cfg.uidmap_prog && *cfg.uidmap_prog && cfg.gidmap_prog && *cfg.gidmap_prog) {
    struct map_helper u, g;
    helper_argv(&u, cfg.uidmap_prog, pid, uidmap);
    helper_argv(&g, cfg.gidmap_prog, pid, gidmap);
    pid_t up = spawn(u.argv), gp = spawn(g.argv);
    int urc = up < 0 ? -1 : wait_status(up), grc = gp < 0 ? -1 : wait_status(gp);
    if (urc == 0 && grc == 0) return 0;
    int uid_failed = urc != 0;
    snprintf(msg, msglen, "%s %s %s failed (exit %d): check /etc/sub%cid for this user (hull doctor)",
             uid_failed ? cfg.uidmap_prog : cfg.gidmap_prog, u.pid, uid_failed ? uidmap : gidmap,
             uid_failed ? urc : grc, uid_failed ? 'u' : 'g');
    return -1;
  }
  char path[64], line[4096];
  int privileged = (cfg.flags & HULL_FLAG_MAPS_PRIVILEGED) != 0;
  snprintf(path, sizeof path, "/proc/%d/setgroups", pid);
  /* an unprivileged writer of a gid map must give up setgroups first (the kernel's rule) */
  int rc = privileged ? 0 : write_file_rc(path, "deny");
  if (!rc) {
    snprintf(path, sizeof path, "/proc/%d/gid_map", pid);
    map_lines(line, sizeof line, gidmap);
    rc = write_file_rc(path, line);
  }
  if (!rc) {
    snprintf(path, sizeof path, "/proc/%d/uid_map", pid);
    map_lines(line, sizeof line, uidmap);
    rc = write_file_rc(path, line);
  }
  if (rc) snprintf(msg, msglen, "write %s", path);
  return rc;
}
