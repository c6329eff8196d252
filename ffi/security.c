/* hull-shim: what the command may do: capabilities and the seccomp filter. */
#include "shim.h"

/* ---- capabilities ----------------------------------------------------------------------------- */

/* Docker's default set (moby oci/caps/defaults.go). */
static const int default_caps[] = {
    CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FSETID, CAP_FOWNER, CAP_MKNOD, CAP_NET_RAW, CAP_SETGID,
    CAP_SETUID, CAP_SETFCAP, CAP_SETPCAP, CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT, CAP_KILL, CAP_AUDIT_WRITE,
};

/* The bounding set: the message's, or Docker's default set. */
uint64_t bounding_set(void) {
  if (cfg.have_caps) return cfg.caps;
  uint64_t keep = 0;
  for (size_t i = 0; i < sizeof default_caps / sizeof *default_caps; i++) keep |= 1ULL << default_caps[i];
  return keep;
}

void drop_capabilities(void) {
  uint64_t keep = bounding_set();
  int last = 40;
  FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
  if (f) {
    if (fscanf(f, "%d", &last) != 1) last = 40;
    fclose(f);
  }
  for (int c = 0; c <= last; c++)
    if (!(keep & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
      die(errno, "drop capability %d", c);
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
}

void set_capabilities(int is_root) {
  uint64_t keep = is_root ? bounding_set() : 0;
  uint64_t eff = keep, perm = keep, inh = keep;
  if (cfg.have_cap_sets) eff = cfg.cap_sets[0], perm = cfg.cap_sets[1], inh = cfg.cap_sets[2];
  struct cap_header h = {.version = LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct cap_data d[2];
  memset(d, 0, sizeof d);
  d[0].effective = (uint32_t)eff, d[0].permitted = (uint32_t)perm, d[0].inheritable = (uint32_t)inh;
  d[1].effective = (uint32_t)(eff >> 32), d[1].permitted = (uint32_t)(perm >> 32), d[1].inheritable = (uint32_t)(inh >> 32);
  if (syscall(SYS_capset, &h, d) < 0) die(errno, "capset");
  /* ambient: what a process of another uid than 0 keeps across its exec. The kernel takes only one
   * that is permitted and inheritable too; runc and crun pass over the others (`crun spec --rootless`
   * lists ambient capabilities with no inheritable ones), and so does hull. */
  for (int c = 0; cfg.have_cap_sets && c < 64; c++)
    if ((cfg.cap_sets[3] >> c) & 1 && (inh >> c) & 1 && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
      die(errno, "raise ambient capability %d", c);
}

/* The seccomp filter goes on while this process still holds CAP_SYS_ADMIN in its user namespace,
 * which the kernel asks for when no_new_privs is off (Docker's default); the calls left before the
 * exec (setgroups, setres[ug]id, capset, prctl, chdir, close_range, execve) are ones Docker's
 * profile allows, as runc relies on too. */
void install_seccomp(void) {
  if (!cfg.seccomp) return;
  struct sock_fprog prog = {.len = cfg.seccomp_len, .filter = cfg.seccomp};
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0) die(errno, "install the seccomp filter");
}
