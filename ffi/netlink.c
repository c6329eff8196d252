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
  IFLA_ADDRESS = 1, IFLA_IFNAME = 3, IFLA_MASTER = 10, IFLA_LINKINFO = 18, IFLA_NET_NS_FD = 28,
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
  struct timeval tv = {.tv_sec = 2};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
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

/* A veth pair: HOST here, enslaved to the bridge MASTER, and PEER moved into the namespace NETNS_FD,
 * with the hardware address PEER_MAC (6 bytes) where given. */
int net_make_veth(const char *host, const char *peer, int netns_fd, const char *master, const unsigned char *peer_mac) {
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
  if (peer_mac) nl_attr(&r, IFLA_ADDRESS, peer_mac, 6);
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

/* Delete every container attachment (veth ends named hv...) of this namespace. */
void net_delete_ports(void) {
  struct if_nameindex *all = if_nameindex();
  if (!all) return;
  for (struct if_nameindex *i = all; i->if_index; i++)
    if (!strncmp(i->if_name, "hv", 2)) net_delete_link(i->if_name);
  if_freenameindex(all);
}

/* A default route through GATEWAY on the link NAME (the container's eth0 on the shared bridge). */
int net_default_route(const char *name, const char *gateway) {
  struct in_addr gw;
  if (inet_pton(AF_INET, gateway, &gw) != 1) return EINVAL;
  unsigned idx = if_nametoindex(name);
  if (!idx) return errno ? errno : ENODEV;
  struct rtmsg {
    unsigned char family, dst_len, src_len, tos, table, protocol, scope, type;
    unsigned flags;
  } rt = {.family = AF_INET, .table = 254 /* main */, .protocol = 3 /* boot */, .scope = 0, .type = 1 /* unicast */};
  struct nlreq r;
  nl_start(&r, 24 /* RTM_NEWROUTE */, NLM_F_CREATE | NLM_F_EXCL, &rt, sizeof rt);
  nl_attr(&r, 5 /* RTA_GATEWAY */, &gw, sizeof gw);
  nl_attr(&r, 4 /* RTA_OIF */, &idx, sizeof idx);
  int rc = nl_send(&r);
  return rc == EEXIST ? 0 : rc;
}

/* ---- nf_tables: the shared namespace's way out ------------------------------------------------
 *
 * The containers of the default network and of user networks share the holder's namespace's one
 * pasta: their traffic is forwarded from their bridge (BRIDGE, hull-*) to pasta's eth0 and masqueraded
 * to its address, and nothing else is forwarded (no bridge to another, nothing new in from eth0, and
 * nothing from an --internal network's bridge, hullx*). As `nft` would write it:
 *   table ip hull {
 *     chain fwd { type filter hook forward priority 0; policy drop;
 *       iifname BRIDGE oifname "eth0" accept; iifname "eth0" oifname BRIDGE accept
 *       iifname "hull-*" oifname "eth0" accept; iifname "eth0" oifname "hull-*" accept }
 *     chain out { type nat hook postrouting priority 100; oifname "eth0" masquerade }
 *   }
 * The kernel ABI of linux/netfilter/nf_tables.h and nfnetlink.h, spelled out. */
enum {
  NFNL_SUBSYS_NFTABLES = 10, NFNL_MSG_BATCH_BEGIN = 16, NFNL_MSG_BATCH_END = 17,
  NFT_MSG_NEWTABLE = 0, NFT_MSG_NEWCHAIN = 3, NFT_MSG_NEWRULE = 6, NLM_F_APPEND = 0x800,
  NFTA_TABLE_NAME = 1, NFTA_CHAIN_TABLE = 1, NFTA_CHAIN_NAME = 3, NFTA_CHAIN_HOOK = 4, NFTA_CHAIN_POLICY = 5,
  NFTA_CHAIN_TYPE = 7, NFTA_HOOK_HOOKNUM = 1, NFTA_HOOK_PRIORITY = 2, NFTA_RULE_TABLE = 1, NFTA_RULE_CHAIN = 2,
  NFTA_RULE_EXPRESSIONS = 4, NFTA_LIST_ELEM = 1, NFTA_EXPR_NAME = 1, NFTA_EXPR_DATA = 2, NFTA_META_DREG = 1,
  NFTA_META_KEY = 2, NFT_META_IIFNAME = 6, NFT_META_OIFNAME = 7, NFTA_CMP_SREG = 1, NFTA_CMP_OP = 2, NFTA_CMP_DATA = 3,
  NFTA_DATA_VALUE = 1, NFTA_DATA_VERDICT = 2, NFTA_VERDICT_CODE = 1, NFTA_IMMEDIATE_DREG = 1, NFTA_IMMEDIATE_DATA = 2,
  NF_INET_FORWARD = 2, NF_INET_POST_ROUTING = 4, NFPROTO_IPV4 = 2, NLA_F_NESTED = 1 << 15,
};

struct batch {
  char buf[4096];
  size_t len;
  uint32_t seq, acks;
};

static struct rtattr *b_attr(struct batch *b, unsigned short type, const void *data, size_t len) {
  b->len = NLA_ALIGN(b->len);
  struct rtattr *a = (struct rtattr *)(b->buf + b->len);
  a->rta_type = type;
  a->rta_len = (unsigned short)(sizeof *a + len);
  if (len) memcpy(a + 1, data, len);
  b->len += NLA_ALIGN(a->rta_len);
  return a;
}
static struct rtattr *b_nest(struct batch *b, unsigned short type) { return b_attr(b, type | NLA_F_NESTED, NULL, 0); }
static void b_end(struct batch *b, struct rtattr *a) { a->rta_len = (unsigned short)(b->buf + b->len - (char *)a); }
static void b_str(struct batch *b, unsigned short type, const char *s) { b_attr(b, type, s, strlen(s) + 1); }
static void b_be32(struct batch *b, unsigned short type, uint32_t v) {
  v = htonl(v);
  b_attr(b, type, &v, 4);
}

static struct nlmsghdr *b_msg(struct batch *b, uint16_t type, uint16_t flags, uint8_t family) {
  b->len = NLA_ALIGN(b->len);
  struct nlmsghdr *h = (struct nlmsghdr *)(b->buf + b->len);
  memset(h, 0, sizeof *h + 4);
  h->nlmsg_type = type;
  h->nlmsg_flags = (uint16_t)(NLM_F_REQUEST | flags);
  h->nlmsg_seq = ++b->seq;
  uint8_t *g = (uint8_t *)(h + 1); /* struct nfgenmsg: family, version 0, res_id (big-endian) */
  g[0] = family;
  uint16_t res = htons(NFNL_SUBSYS_NFTABLES);
  memcpy(g + 2, &res, 2);
  b->len += sizeof *h + 4;
  if (flags & NLM_F_ACK) b->acks++;
  return h;
}
static void b_done(struct batch *b, struct nlmsghdr *h) { h->nlmsg_len = (uint32_t)(b->buf + b->len - (char *)h); }

/* One expression: NAME with its attributes written by FILL between. */
static struct rtattr *expr_begin(struct batch *b, const char *name) {
  struct rtattr *elem = b_nest(b, NFTA_LIST_ELEM);
  b_str(b, NFTA_EXPR_NAME, name);
  return elem;
}

static void match_ifname(struct batch *b, uint32_t key, const char *ifname) {
  struct rtattr *e = expr_begin(b, "meta"), *d = b_nest(b, NFTA_EXPR_DATA);
  b_be32(b, NFTA_META_DREG, 1);
  b_be32(b, NFTA_META_KEY, key);
  b_end(b, d);
  b_end(b, e);
  /* "NAME*" matches every name that starts so (the first bytes only), as nft's wildcard */
  char name[16] = {0};
  snprintf(name, sizeof name, "%s", ifname);
  size_t len = strlen(name);
  int prefix = len > 0 && name[len - 1] == '*';
  if (prefix) name[--len] = 0;
  e = expr_begin(b, "cmp");
  d = b_nest(b, NFTA_EXPR_DATA);
  b_be32(b, NFTA_CMP_SREG, 1);
  b_be32(b, NFTA_CMP_OP, 0 /* eq */);
  struct rtattr *v = b_nest(b, NFTA_CMP_DATA);
  b_attr(b, NFTA_DATA_VALUE, name, prefix ? len : len + 1);
  b_end(b, v);
  b_end(b, d);
  b_end(b, e);
}

static void rule(struct batch *b, const char *chain, const char *in, const char *out, int masquerade) {
  struct nlmsghdr *h = b_msg(b, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE,
                             NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK, NFPROTO_IPV4);
  b_str(b, NFTA_RULE_TABLE, "hull");
  b_str(b, NFTA_RULE_CHAIN, chain);
  struct rtattr *list = b_nest(b, NFTA_RULE_EXPRESSIONS);
  if (in) match_ifname(b, NFT_META_IIFNAME, in);
  if (out) match_ifname(b, NFT_META_OIFNAME, out);
  if (masquerade) {
    b_end(b, expr_begin(b, "masq"));
  } else {
    struct rtattr *e = expr_begin(b, "immediate"), *d = b_nest(b, NFTA_EXPR_DATA);
    b_be32(b, NFTA_IMMEDIATE_DREG, 0 /* the verdict */);
    struct rtattr *data = b_nest(b, NFTA_IMMEDIATE_DATA), *verdict = b_nest(b, NFTA_DATA_VERDICT);
    b_be32(b, NFTA_VERDICT_CODE, 1 /* NF_ACCEPT */);
    b_end(b, verdict);
    b_end(b, data);
    b_end(b, d);
    b_end(b, e);
  }
  b_end(b, list);
  b_done(b, h);
}

static void chain(struct batch *b, const char *name, const char *type, uint32_t hook, uint32_t prio, int drop) {
  struct nlmsghdr *h = b_msg(b, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWCHAIN, NLM_F_CREATE | NLM_F_ACK, NFPROTO_IPV4);
  b_str(b, NFTA_CHAIN_TABLE, "hull");
  b_str(b, NFTA_CHAIN_NAME, name);
  struct rtattr *hk = b_nest(b, NFTA_CHAIN_HOOK);
  b_be32(b, NFTA_HOOK_HOOKNUM, hook);
  b_be32(b, NFTA_HOOK_PRIORITY, prio);
  b_end(b, hk);
  if (drop) b_be32(b, NFTA_CHAIN_POLICY, 0 /* NF_DROP */);
  b_str(b, NFTA_CHAIN_TYPE, type);
  b_done(b, h);
}

/* Forwarding from BRIDGE out through eth0, masqueraded (above); ip_forward on. 0 or an errno. */
int net_setup_nat(const char *bridge) {
  static struct batch b;
  memset(&b, 0, sizeof b);
  b_done(&b, b_msg(&b, NFNL_MSG_BATCH_BEGIN, 0, AF_UNSPEC));
  struct nlmsghdr *t = b_msg(&b, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_ACK, NFPROTO_IPV4);
  b_str(&b, NFTA_TABLE_NAME, "hull");
  b_done(&b, t);
  chain(&b, "fwd", "filter", NF_INET_FORWARD, 0, 1);
  chain(&b, "out", "nat", NF_INET_POST_ROUTING, 100, 0);
  rule(&b, "fwd", bridge, "eth0", 0);
  rule(&b, "fwd", "eth0", bridge, 0);
  /* the user networks' bridges (hull-ID; an --internal one is hullxID, and never matches) */
  rule(&b, "fwd", "hull-*", "eth0", 0);
  rule(&b, "fwd", "eth0", "hull-*", 0);
  rule(&b, "out", NULL, "eth0", 1);
  b_done(&b, b_msg(&b, NFNL_MSG_BATCH_END, 0, AF_UNSPEC));
  int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 12 /* NETLINK_NETFILTER */);
  if (s < 0) return errno;
  /* a kernel that refuses the batch answers once, not once a message: never wait for the rest */
  struct timeval tv = {.tv_sec = 2};
  setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  struct sockaddr_nl to = {.nl_family = AF_NETLINK};
  int rc = 0;
  if (sendto(s, b.buf, b.len, 0, (struct sockaddr *)&to, sizeof to) < 0) rc = errno;
  for (uint32_t got = 0; !rc && got < b.acks;) {
    char reply[8192];
    ssize_t n = recv(s, reply, sizeof reply, 0);
    if (n <= 0) {
      rc = n < 0 ? errno : EPROTO;
      break;
    }
    for (struct nlmsghdr *h = (struct nlmsghdr *)reply; n >= (ssize_t)sizeof *h && h->nlmsg_len >= sizeof *h &&
                                                       h->nlmsg_len <= (uint32_t)n;
         n -= NLA_ALIGN(h->nlmsg_len), h = (struct nlmsghdr *)((char *)h + NLA_ALIGN(h->nlmsg_len))) {
      if (h->nlmsg_type != NLMSG_ERROR) continue;
      int err = -((struct nlmsgerr *)(h + 1))->error;
      got++;
      if (err && !rc) rc = err;
    }
    if (rc) break;
  }
  close(s);
  if (rc) return rc;
  int fd = open("/proc/sys/net/ipv4/ip_forward", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  rc = write(fd, "1", 1) == 1 ? 0 : errno;
  close(fd);
  /* where br_netfilter is loaded (docker loads it), bridged frames would meet the forward chain's
   * drop too: peers on one bridge must reach each other, so not here (per namespace since 5.3) */
  static const char *const bridged[] = {"/proc/sys/net/bridge/bridge-nf-call-iptables",
                                        "/proc/sys/net/bridge/bridge-nf-call-ip6tables",
                                        "/proc/sys/net/bridge/bridge-nf-call-arptables"};
  for (size_t i = 0; !rc && i < sizeof bridged / sizeof *bridged; i++) {
    fd = open(bridged[i], O_WRONLY | O_CLOEXEC);
    if (fd < 0) continue; /* no br_netfilter: nothing to turn off */
    if (write(fd, "0", 1) != 1) rc = errno;
    close(fd);
  }
  return rc;
}
