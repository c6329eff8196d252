/* hull-shim: the few rtnetlink requests user-defined networks need: a bridge per network in the
 * shared network namespace, a veth pair per attachment (one end on the bridge, the other moved into
 * the container's namespace), an IPv4 address, a link up, a link deleted. The kernel ABI of
 * linux/netlink.h and linux/rtnetlink.h is spelled out: musl's toolchain ships no kernel headers. */
#include "shim.h"

struct nlmsghdr {
  uint32_t nlmsg_len;
  uint16_t nlmsg_type, nlmsg_flags;
  uint32_t nlmsg_seq, nlmsg_pid;
};
struct ifinfomsg {
  unsigned char ifi_family, pad;
  unsigned short ifi_type;
  int ifi_index;
  unsigned ifi_flags, ifi_change;
};
struct ifaddrmsg {
  uint8_t ifa_family, ifa_prefixlen, ifa_flags, ifa_scope;
  uint32_t ifa_index;
};
struct rtattr {
  unsigned short rta_len, rta_type;
};
struct nlmsgerr {
  int error;
  struct nlmsghdr msg;
};
struct sockaddr_nl {
  unsigned short nl_family, nl_pad;
  uint32_t nl_pid, nl_groups;
};
enum {
  NETLINK_ROUTE = 0, NLMSG_ERROR = 2, RTM_NEWLINK = 16, RTM_DELLINK = 17, RTM_NEWADDR = 20,
  NLM_F_REQUEST = 1, NLM_F_ACK = 4, NLM_F_EXCL = 0x200, NLM_F_CREATE = 0x400,
  IFLA_IFNAME = 3, IFLA_MASTER = 10, IFLA_LINKINFO = 18, IFLA_NET_NS_FD = 28,
  IFLA_INFO_KIND = 1, IFLA_INFO_DATA = 2, VETH_INFO_PEER = 1,
  IFA_ADDRESS = 1, IFA_LOCAL = 2, IFA_BROADCAST = 4,
};
#define NLA_ALIGN(n) (((n) + 3) & ~3U)

struct nlreq {
  char buf[1024];
  size_t len;
};

static struct rtattr *nl_attr(struct nlreq *r, unsigned short type, const void *data, size_t len) {
  struct rtattr *a = (struct rtattr *)(r->buf + NLA_ALIGN(r->len));
  r->len = NLA_ALIGN(r->len);
  a->rta_type = type;
  a->rta_len = (unsigned short)(sizeof *a + len);
  if (len) memcpy(a + 1, data, len);
  r->len += NLA_ALIGN(a->rta_len);
  return a;
}

static void nl_end(struct nlreq *r, struct rtattr *nest) {
  nest->rta_len = (unsigned short)(r->buf + r->len - (char *)nest);
}

static struct nlreq *nl_start(struct nlreq *r, uint16_t type, uint16_t flags, const void *body, size_t len) {
  memset(r, 0, sizeof *r);
  struct nlmsghdr *h = (struct nlmsghdr *)r->buf;
  h->nlmsg_type = type;
  h->nlmsg_flags = (uint16_t)(NLM_F_REQUEST | NLM_F_ACK | flags);
  h->nlmsg_seq = 1;
  memcpy(r->buf + sizeof *h, body, len);
  r->len = sizeof *h + NLA_ALIGN(len);
  return r;
}

/* Send R on a fresh socket of this process's network namespace; 0 or the kernel's errno. */
static int nl_send(struct nlreq *r) {
  ((struct nlmsghdr *)r->buf)->nlmsg_len = (uint32_t)r->len;
  int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (s < 0) return errno;
  struct sockaddr_nl to = {.nl_family = AF_NETLINK};
  int rc = 0;
  if (sendto(s, r->buf, r->len, 0, (struct sockaddr *)&to, sizeof to) < 0) rc = errno;
  char reply[4096];
  ssize_t n = rc ? 0 : recv(s, reply, sizeof reply, 0);
  if (!rc && n < (ssize_t)(sizeof(struct nlmsghdr) + sizeof(int))) rc = n < 0 ? errno : EPROTO;
  if (!rc && ((struct nlmsghdr *)reply)->nlmsg_type == NLMSG_ERROR)
    rc = -((struct nlmsgerr *)(reply + sizeof(struct nlmsghdr)))->error;
  close(s);
  return rc;
}

int net_link_up(const char *name) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return errno;
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
  int rc = 0;
  if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) rc = errno;
  ifr.ifr_flags |= IFF_UP;
  if (!rc && ioctl(s, SIOCSIFFLAGS, &ifr) < 0) rc = errno;
  close(s);
  return rc;
}

/* A bridge NAME, unless one is there already (then 0 too). */
int net_make_bridge(const char *name) {
  struct nlreq r;
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
  nl_start(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof ifi);
  nl_attr(&r, IFLA_IFNAME, name, strlen(name) + 1);
  struct rtattr *info = nl_attr(&r, IFLA_LINKINFO, NULL, 0);
  nl_attr(&r, IFLA_INFO_KIND, "bridge", 6);
  nl_end(&r, info);
  int rc = nl_send(&r);
  return rc == EEXIST ? 0 : rc;
}

/* A veth pair: HOST here, enslaved to the bridge MASTER, and PEER moved into the namespace NETNS_FD. */
int net_make_veth(const char *host, const char *peer, int netns_fd, const char *master) {
  unsigned idx = if_nametoindex(master);
  if (!idx) return errno ? errno : ENODEV;
  struct nlreq r;
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
  nl_start(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifi, sizeof ifi);
  nl_attr(&r, IFLA_IFNAME, host, strlen(host) + 1);
  nl_attr(&r, IFLA_MASTER, &idx, sizeof idx);
  struct rtattr *info = nl_attr(&r, IFLA_LINKINFO, NULL, 0);
  nl_attr(&r, IFLA_INFO_KIND, "veth", 4);
  struct rtattr *data = nl_attr(&r, IFLA_INFO_DATA, NULL, 0);
  struct rtattr *p = nl_attr(&r, VETH_INFO_PEER, &ifi, sizeof ifi);
  nl_attr(&r, IFLA_IFNAME, peer, strlen(peer) + 1);
  nl_attr(&r, IFLA_NET_NS_FD, &netns_fd, sizeof netns_fd);
  nl_end(&r, p);
  nl_end(&r, data);
  nl_end(&r, info);
  return nl_send(&r);
}

/* ADDR/PREFIX ("10.89.0.2/24") on the link NAME; one that is there already counts as done. */
int net_add_address(const char *name, const char *cidr) {
  char ip[32];
  snprintf(ip, sizeof ip, "%s", cidr);
  char *slash = strchr(ip, '/');
  if (!slash) return EINVAL;
  *slash = 0;
  int prefix = atoi(slash + 1);
  struct in_addr a;
  if (inet_pton(AF_INET, ip, &a) != 1 || prefix < 1 || prefix > 32) return EINVAL;
  unsigned idx = if_nametoindex(name);
  if (!idx) return errno ? errno : ENODEV;
  uint32_t mask = prefix == 32 ? ~0U : ~(~0U >> prefix);
  struct in_addr bcast = {.s_addr = a.s_addr | htonl(~mask)};
  struct nlreq r;
  struct ifaddrmsg ifa = {.ifa_family = AF_INET, .ifa_prefixlen = (uint8_t)prefix, .ifa_index = idx};
  nl_start(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &ifa, sizeof ifa);
  nl_attr(&r, IFA_LOCAL, &a, sizeof a);
  nl_attr(&r, IFA_ADDRESS, &a, sizeof a);
  nl_attr(&r, IFA_BROADCAST, &bcast, sizeof bcast);
  int rc = nl_send(&r);
  return rc == EEXIST ? 0 : rc;
}

/* Delete the link NAME (a veth takes its peer with it); one already gone counts as done. */
int net_delete_link(const char *name) {
  struct nlreq r;
  struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
  nl_start(&r, RTM_DELLINK, 0, &ifi, sizeof ifi);
  nl_attr(&r, IFLA_IFNAME, name, strlen(name) + 1);
  int rc = nl_send(&r);
  return rc == ENODEV ? 0 : rc;
}

/* How many container attachments (veth ends named hv...) this namespace holds. */
int net_count_ports(void) {
  struct if_nameindex *all = if_nameindex();
  if (!all) return -1;
  int n = 0;
  for (struct if_nameindex *i = all; i->if_index; i++)
    if (!strncmp(i->if_name, "hv", 2)) n++;
  if_freenameindex(all);
  return n;
}
