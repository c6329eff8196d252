/* hull-shim's shared declarations: the kernel ABI it spells out itself (musl's toolchain ships no
 * kernel headers), the setup message as parsed, and what one part of the shim calls in another.
 * The parts: shim.c (the stages and main), message.c, util.c, idmap.c, rootfs.c, security.c, log.c. */
#ifndef HULL_SHIM_H
#define HULL_SHIM_H
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "abi.h"

/* Kernel ABI this file needs from linux/capability.h and linux/openat2.h, spelled out so that the
 * shim builds against any libc (musl's toolchain ships no kernel headers). */
#define LINUX_CAPABILITY_VERSION_3 0x20080522
struct cap_header { uint32_t version; int pid; };
struct cap_data { uint32_t effective, permitted, inheritable; };
enum {
  CAP_CHOWN = 0, CAP_DAC_OVERRIDE = 1, CAP_FOWNER = 3, CAP_FSETID = 4, CAP_KILL = 5, CAP_SETGID = 6,
  CAP_SETUID = 7, CAP_SETPCAP = 8, CAP_NET_BIND_SERVICE = 10, CAP_NET_RAW = 13, CAP_SYS_CHROOT = 18,
  CAP_MKNOD = 27, CAP_AUDIT_WRITE = 29, CAP_SETFCAP = 31,
};
struct open_how { uint64_t flags, mode, resolve; };
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_IN_ROOT 0x10
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
/* linux/mount.h: mount_setattr(2), for read-only that reaches every submount (Linux >= 5.12) */
struct mount_attr { uint64_t attr_set, attr_clr, propagation, userns_fd; };
#define MOUNT_ATTR_RDONLY 0x1
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#define KEYCTL_JOIN_SESSION_KEYRING 1
/* linux/filter.h and linux/seccomp.h */
struct sock_filter { uint16_t code; uint8_t jt, jf; uint32_t k; };
struct sock_fprog { unsigned short len; struct sock_filter *filter; };
#ifndef SECCOMP_MODE_FILTER
#define SECCOMP_MODE_FILTER 2
#endif

struct hull_error {
  uint32_t stage;
  int32_t err;
  uint32_t exit_code;
  char msg[500];
};

#define MAX_STEPS 256

struct step {
  uint32_t op, flags;
  const char *src, *dst, *fstype, *data;
};

struct hook {
  uint32_t kind, timeout;
  const char *path;
  const char **argv, **envp;
};

struct config {
  /* NULL-terminated, grown as the message holds more: the kernel, not the shim, sets the limit
   * (execve's E2BIG, reported as any failure to run the command) */
  const char **argv;
  int argc, argcap;
  const char **envp;
  int envc, envcap;
  const char *cwd, *hostname, *domainname, *rootfs, *overlay, *fuse_prog, *state_file, *run_dir, *id;
  /* removed, in this order, once the container is gone (--rm): its name link, then its directory */
  const char *cleanup[8];
  int ncleanup;
  const char *uidmap, *gidmap, *uidmap_prog, *gidmap_prog;
  uint32_t uid, gid, nsflags, flags, overlay_mode, target_pid, restart, restart_max;
  uint64_t caps;
  int have_caps;
  /* HULL_REC_CAP_SETS: effective, permitted, inheritable, ambient (the bounding set is caps) */
  uint64_t cap_sets[4];
  int have_cap_sets;
  const char *start_fifo, *console_socket;
  int have_umask;
  const char *pid_file;
  struct hook *hooks;
  int nhooks;
  const char *hook_state;
  const char *error_log;
  uint32_t error_log_json;
  uint32_t rootfs_propagation;
  const char **join_ns;
  int join_ns_n, join_ns_cap;
  uint32_t umask;
  uint32_t die_with;
  const char *cgroup;
  const char **net_helper;
  int net_helper_argc, net_helper_cap;
  const char *net_pidfile, *net_api;
  uint32_t net_ready_fd;
  const char **net_api_req;
  int net_api_req_n, net_api_req_cap;
  /* user-defined networks (netns.c): the store's networks directory, the holder's maps (host ids,
   * through the map programs), the container's maps in the holder's ids, and the links to make or
   * delete */
  const char *holder_dir, *holder_uidmap, *holder_gidmap, *nest_uidmap, *nest_gidmap;
  const char **net_attach, **net_detach;
  uint32_t join_pid; /* --network container:NAME: that container's pid 1, and its start time */
  const char *join_start, *net_attach_file;
  /* the shared namespace's own helper (pasta), for the default network through it */
  const char **holder_helper;
  int holder_helper_argc, holder_helper_cap;
  int net_no_outbound;
  /* the health check's prober and its period (HULL_REC_HEALTH_ARGV, _INTERVAL) */
  const char **health_argv;
  int health_argc, health_cap;
  uint32_t health_interval;
  /* what brings the container's peers' /etc/hosts up to date (HULL_REC_PEERS_ARGV) */
  const char **peers_argv;
  int peers_argc, peers_cap;
  /* `hull attach`: the bytes that detach (HULL_REC_DETACH_KEYS) */
  const char *detach_keys;
  /* the event journal and what an event of this container says (ffi/events.c) */
  const char *events_file, *event_from, *event_attrs;
  /* --log-opt max-size (bytes) and max-file; 0: the defaults */
  unsigned long long log_max;
  uint32_t log_files;
  /* HULL_TRACE=timing: the caller's start (ms since the epoch), else 0 */
  double trace_origin;
  int net_attach_n, net_attach_cap, net_detach_n, net_detach_cap;
  struct { uint32_t resource; uint64_t soft, hard; } rlimits[16];
  int nrlimits;
  int have_oom_score_adj;
  int32_t oom_score_adj;
  struct sock_filter *seccomp;
  unsigned short seccomp_len;
  gid_t groups[64];
  int ngroups;
  struct step steps[MAX_STEPS];
  int nsteps;
};
extern struct config cfg;

extern int err_fd;         /* write end of the error pipe */
extern uint32_t stage;     /* named in error reports */
extern int overlay_mounted;
extern int log_fd;
extern int log_pipes[2][2];

/* util.c */
void report(int err, uint32_t code, const char *fmt, ...);
void __attribute__((noreturn)) die(int err, const char *fmt, ...);
void write_all(int fd, const void *buf, size_t len);
void write_to_stage(int fd, const void *buf, size_t len);
/* "hull: MSG: strerror(ERR)" on stderr, with the fix where AppArmor is why */
void print_error(const char *msg, int err);
void trace(const char *label);
int read_full(int fd, void *buf, size_t len);
ssize_t read_small_file(const char *path, char *buf, size_t size);
void print_line(const char *prefix, const char *msg);
/* FD over the unix socket SOCK (SCM_RIGHTS), with DATA as the message's bytes; sendmsg's result */
ssize_t send_fd_with(int sock, int fd, const char *data);
int recv_fd(int sock);

/* oci.c: hull oci's --console-socket, --pid-file and namespaces joined by path */
int send_console(int master, char *why, size_t len);
void oci_console_connect_now(void);
void open_pid_dir(void);
void write_plain_pidfile(pid_t pid);
void join_paths(void);
int fd_is(int fd, const char *path);
pid_t spawn(const char *const argv[]);
pid_t spawn_quiet(const char *const argv[]);
void publish_pidfile(const char *from, const char *to);
void spawn_detached(const char *const argv[]);
void quiet_child(int errfd);
int wait_status(pid_t pid);
void remove_tree(const char *path);
void remove_cleanup(void);
/* message.c */
void read_message(int fd);
/* idmap.c */
int write_maps(pid_t pid, char *msg, size_t msglen);
/* hooks.c */
int have_hooks(uint32_t kind);
int run_hooks(uint32_t kind, const char *status, pid_t pid, char *msg, size_t len);
int run_hooks_mode(char **argv);
int write_maps_of(pid_t pid, const char *uidmap, const char *gidmap, char *msg, size_t msglen);
int write_file_rc(const char *path, const char *text);
/* netlink.c */
int net_link_up(const char *name);
int net_make_bridge(const char *name);
int net_make_veth(const char *host, const char *peer, int netns_fd, const char *master, const unsigned char *peer_mac);
int net_add_address(const char *name, const char *cidr);
int net_delete_link(const char *name);
void net_delete_ports(void);
int net_default_route(const char *name, const char *gateway);
int net_setup_nat(const char *bridge);
/* netns.c */
int holder_open(int create, int *userfd, int *netfd, char *msg, size_t len);
void holder_release(void);
void holder_unuse(int fd);
int attach_listen(void);
void attach_accept(int lfd);
void attach_broadcast(int stream, const char *buf, size_t n);
int attach_pollfds(struct pollfd *p);
void attach_serve(struct pollfd *p, int count, int to, int master, int target_fd);
void attach_finish(int lfd, int code);
int run_attach(int message_fd);
void event_emit(const char *action, int exit_code);
/* a copy of what log_drain reads, for attached clients (NULL: none) */
extern void (*log_tap)(int stream, const char *buf, size_t n);
int holder_use(void);
void load_attach_file(void);
int holder_outbound(int userfd, int netfd);
void drop_shared_bridge(void);
void push_list(const char ***list, int *n, int *cap, const char *item);
pid_t clone_under(int userfd, int netfd, char *msg, size_t len);
struct net_attacher {
  pid_t pid;
  int sock;
};
int net_attach_begin(int userfd, int netfd, struct net_attacher *a);
int net_attach_end(struct net_attacher *a, pid_t ctr, char *msg, size_t len);
int run_net(int message_fd);
int join_holder_userns(void);
/* delete the container's links in a child that ends its use of the holder (USERS_FD) when done */
pid_t net_detach_start(int userfd, int netfd, int users_fd);
/* rootfs.c */
int open_in_root(int rootfd, const char *path, int flags);
int ensure_in_root(int rootfd, const char *path, int want_file);
void remount_ro(const char *path, const char *what);
void run_step(int rootfd, const struct step *s);
int mount_kernel_overlay(void);
void mount_fuse_overlay(int kernel_err);
/* security.c */
void drop_capabilities(void);
void set_capabilities(int is_root);
void install_seccomp(void);
/* log.c */
void proc_start(pid_t pid, char *out, size_t len);
void write_pidfile(const char *name, pid_t pid);
void log_open(void);
void log_feed(int stream, const char *data, size_t len);
void log_drain(int stream, int fd, int *open_flag, int to_caller);

#endif

