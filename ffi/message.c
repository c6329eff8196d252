/* hull-shim: the setup message (ffi/abi.h), read once into cfg. */
#include "shim.h"

/* ---- the setup message ---------------------------------------------------------------------- */

char *message;

/* Appends ITEM to the NULL-terminated LIST of *N items, growing it by doubling. */
void push_list(const char ***list, int *n, int *cap, const char *item) {
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
void read_message(int fd) {
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
    case HULL_REC_DOMAINNAME: cfg.domainname = data; break;
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
      if (cfg.ncleanup < 8) cfg.cleanup[cfg.ncleanup++] = data;
      break;
    case HULL_REC_STATE_FILE: cfg.state_file = data; break;
    case HULL_REC_RUN_DIR: cfg.run_dir = data; break;
    case HULL_REC_ID: cfg.id = data; break;
    case HULL_REC_TARGET_PID: cfg.target_pid = u; break;
    case HULL_REC_RESTART: cfg.restart = u; break;
    case HULL_REC_RESTART_MAX: cfg.restart_max = u; break;
    case HULL_REC_FLAGS: cfg.flags = u; break;
    case HULL_REC_DIE_WITH: cfg.die_with = u; break;
    case HULL_REC_CGROUP: cfg.cgroup = data; break;
    case HULL_REC_NET_HELPER:
      push_list(&cfg.net_helper, &cfg.net_helper_argc, &cfg.net_helper_cap, data);
      break;
    case HULL_REC_NET_PIDFILE: cfg.net_pidfile = data; break;
    case HULL_REC_JOIN_PID: cfg.join_pid = u; break;
    case HULL_REC_NET_READY_FD: cfg.net_ready_fd = u; break;
    case HULL_REC_JOIN_START: cfg.join_start = data; break;
    case HULL_REC_NET_ATTACH_FILE: cfg.net_attach_file = data; break;
    case HULL_REC_HOLDER_HELPER:
      push_list(&cfg.holder_helper, &cfg.holder_helper_argc, &cfg.holder_helper_cap, data);
      break;
    case HULL_REC_NET_API: cfg.net_api = data; break;
    case HULL_REC_TRACE_ORIGIN: cfg.trace_origin = strtod(data, NULL); break;
    case HULL_REC_HEALTH_ARGV:
      push_list(&cfg.health_argv, &cfg.health_argc, &cfg.health_cap, data);
      break;
    case HULL_REC_HEALTH_INTERVAL: cfg.health_interval = u; break;
    case HULL_REC_PEERS_ARGV: push_list(&cfg.peers_argv, &cfg.peers_argc, &cfg.peers_cap, data); break;
    case HULL_REC_DETACH_KEYS: cfg.detach_keys = data; break;
    case HULL_REC_EVENTS_FILE: cfg.events_file = data; break;
    case HULL_REC_EVENT_FROM: cfg.event_from = data; break;
    case HULL_REC_EVENT_ATTRS: cfg.event_attrs = data; break;
    case HULL_REC_LOG_MAX: cfg.log_max = strtoull(data, NULL, 10); break;
    case HULL_REC_LOG_FILES: cfg.log_files = u; break;
    case HULL_REC_NET_API_REQ: push_list(&cfg.net_api_req, &cfg.net_api_req_n, &cfg.net_api_req_cap, data); break;
    case HULL_REC_HOLDER_DIR: cfg.holder_dir = data; break;
    case HULL_REC_HOLDER_UIDMAP: cfg.holder_uidmap = data; break;
    case HULL_REC_HOLDER_GIDMAP: cfg.holder_gidmap = data; break;
    case HULL_REC_NEST_UIDMAP: cfg.nest_uidmap = data; break;
    case HULL_REC_NEST_GIDMAP: cfg.nest_gidmap = data; break;
    case HULL_REC_NET_ATTACH: push_list(&cfg.net_attach, &cfg.net_attach_n, &cfg.net_attach_cap, data); break;
    case HULL_REC_NET_DETACH: push_list(&cfg.net_detach, &cfg.net_detach_n, &cfg.net_detach_cap, data); break;
    case HULL_REC_RLIMIT:
      if (len != 20 || cfg.nrlimits >= 16) die(EINVAL, "setup message: bad rlimit");
      memcpy(&cfg.rlimits[cfg.nrlimits].resource, data, 4);
      memcpy(&cfg.rlimits[cfg.nrlimits].soft, data + 4, 8);
      memcpy(&cfg.rlimits[cfg.nrlimits].hard, data + 12, 8);
      cfg.nrlimits++;
      break;
    case HULL_REC_OOM_SCORE_ADJ:
      cfg.oom_score_adj = (int32_t)u;
      cfg.have_oom_score_adj = 1;
      break;
    case HULL_REC_CAPS:
      if (len != 8) die(EINVAL, "setup message: bad capability set");
      memcpy(&cfg.caps, data, 8);
      cfg.have_caps = 1;
      break;
    case HULL_REC_CAP_SETS:
      if (len != 40) die(EINVAL, "setup message: bad capability sets");
      memcpy(&cfg.caps, data, 8);
      memcpy(cfg.cap_sets, data + 8, 32);
      cfg.have_caps = cfg.have_cap_sets = 1;
      break;
    case HULL_REC_START_FIFO: cfg.start_fifo = data; break;
    case HULL_REC_PID_FILE: cfg.pid_file = data; break;
    case HULL_REC_HOOK_STATE: cfg.hook_state = data; break;
    case HULL_REC_ERROR_LOG: cfg.error_log = data; break;
    case HULL_REC_ERROR_LOG_JSON: cfg.error_log_json = u; break;
    case HULL_REC_HOOK: {
      uint32_t head[4];
      if (len < 17) die(EINVAL, "setup message: bad hook");
      memcpy(head, data, 16);
      if (head[2] > 4096 || head[3] > 4096) die(EINVAL, "setup message: bad hook");
      struct hook *grown = realloc(cfg.hooks, (size_t)(cfg.nhooks + 1) * sizeof *grown);
      const char **strs = calloc((size_t)head[2] + head[3] + 3, sizeof *strs);
      if (!grown || !strs) die(ENOMEM, "setup message");
      cfg.hooks = grown;
      char *p = data + 16, *end = data + len;
      size_t n = 1 + head[2] + head[3];
      for (size_t k = 0; k < n; k++) {
        char *nul = memchr(p, 0, (size_t)(end - p));
        if (!nul) die(EINVAL, "setup message: unterminated hook field");
        strs[k + (k > head[2] ? 1 : 0)] = p;
        p = nul + 1;
      }
      /* path, args..., NULL, env..., NULL */
      struct hook *h = &cfg.hooks[cfg.nhooks++];
      h->kind = head[0];
      h->timeout = head[1];
      h->path = strs[0];
      h->argv = strs + 1;
      h->envp = strs + 2 + head[2];
      break;
    }
    case HULL_REC_ROOTFS_PROPAGATION: cfg.rootfs_propagation = u; break;
    case HULL_REC_JOIN_NS: push_list(&cfg.join_ns, &cfg.join_ns_n, &cfg.join_ns_cap, data); break;
    case HULL_REC_UMASK:
      cfg.umask = u & 0777;
      cfg.have_umask = 1;
      break;
    case HULL_REC_CONSOLE_SOCKET: cfg.console_socket = data; break;
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
  /* every message but `net`'s (links of a running container) runs a command */
  if (cfg.argc == 0 && !cfg.target_pid && !cfg.holder_dir && !cfg.nhooks) die(EINVAL, "setup message: no command");
  if (!cfg.envp && !(cfg.envp = calloc(1, sizeof *cfg.envp))) die(ENOMEM, "setup message"); /* an empty environment */
  /* The hull that started us (a build, a helper's caller) may be killed outright; we go with it,
   * and the user-namespace stage, told by its own parent-death signal, takes the container down
   * and cleans up. A parent already gone before the prctl shows as another parent pid. */
  if (cfg.die_with) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0) die(errno, "pdeathsig");
    if ((uint32_t)getppid() != cfg.die_with) _exit(HULL_EXIT_SETUP);
  }
}
