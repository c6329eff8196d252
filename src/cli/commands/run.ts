// `hull run`. This module is on the startup path that bench/startup measures, so it imports no
// citty at run time (citty loads node:util) and no node:fs; citty only sees runArgs for --help.
import type { ArgsDef } from "citty";
import { all, flag, last, parseInterspersed } from "../argv";
import { LIMIT_ARGS, limitsGiven } from "../limit-flags";
import { parseRunOptions } from "../../container/options";
import { loadConfig } from "../../store/config";
// static, not lazy: one chunk to load for `hull run` instead of two
import { runContainer } from "../../container/run";
import type { HullCommand } from "../command";

export const runArgs = {
  rm: { type: "boolean", description: "Remove the container and its writable layer when it exits" },
  attach: { type: "string", alias: "a", description: "Attach only these streams: stdin, stdout, stderr (repeatable)" },
  interactive: { type: "boolean", alias: "i", description: "Keep stdin attached" },
  tty: { type: "boolean", alias: "t", description: "Allocate a pseudo-terminal" },
  detach: {
    type: "boolean",
    alias: "d",
    description: "Run in the background; hull logs shows its output, hull attach its input and output (with -i/-t)",
  },
  env: {
    type: "string",
    alias: "e",
    description: "Set an environment variable (KEY=VALUE, or KEY to pass the caller's)",
  },
  "env-file": { type: "string", description: "Read environment variables from a file" },
  workdir: { type: "string", alias: "w", description: "Working directory inside the container" },
  user: { type: "string", alias: "u", description: "UID[:GID] or NAME[:GROUP] to run as" },
  hostname: { type: "string", alias: "h", description: "Container hostname (default: the short container id)" },
  domainname: { type: "string", description: "The container's NIS domain name (its UTS namespace's)" },
  "group-add": {
    type: "string",
    description: "Another group for the command: a name of the image's /etc/group, or a number (repeatable)",
  },
  device: {
    type: "string",
    description:
      "Give a host device you may open: HOST[:CONTAINER][:rw] (bound in, as rootless podman does; repeatable)",
  },
  sysctl: {
    type: "string",
    description: "Set a namespaced kernel setting: net.*, kernel.shm*/msg*/sem, fs.mqueue.* (repeatable)",
  },
  entrypoint: { type: "string", description: "Override the image's entrypoint" },
  volume: {
    type: "string",
    alias: "v",
    description: "Bind mount HOST:CONTAINER[:ro], or a named volume NAME:CONTAINER[:ro]",
  },
  mount: { type: "string", description: "type=bind|volume|tmpfs,source=..,target=..[,readonly]" },
  "volumes-from": {
    type: "string",
    description: "Mount every volume and bind mount of a container at the same paths: CONTAINER[:ro|:rw] (repeatable)",
  },
  tmpfs: { type: "string", description: "Mount a tmpfs: PATH[:options]" },
  network: {
    type: "string",
    alias: "net",
    description:
      "bridge (default: a private network with outbound access, through pasta), none (only lo), host, pasta:OPTIONS, a user network's NAME (hull network create), or container:NAME",
  },
  "network-alias": {
    type: "string",
    alias: "net-alias",
    description: "Another name peers on the user network reach the container by (repeatable)",
  },
  ip: { type: "string", description: "The container's address on the user network (default: the lowest free)" },
  publish: {
    type: "string",
    alias: "p",
    description: "Publish a port: [IP:][HOST_PORT:]CONTAINER_PORT[/udp], ranges too (repeatable)",
  },
  "publish-all": { type: "boolean", alias: "P", description: "Publish every EXPOSEd port on a free host port" },
  expose: { type: "string", description: "Expose a port (or a range) for -P, as EXPOSE does (repeatable)" },
  dns: { type: "string", description: "A DNS server for /etc/resolv.conf (repeatable)" },
  "dns-search": { type: "string", description: "A DNS search domain (repeatable)" },
  "dns-option": { type: "string", description: "A resolv.conf option, such as ndots:2 (repeatable)" },
  "add-host": {
    type: "string",
    description: "A line of /etc/hosts: HOST:IP (IP host-gateway: the host, as the container reaches it; repeatable)",
  },
  ipc: {
    type: "string",
    description:
      "private or shareable: the container's own IPC namespace (docker's defaults); host and container: are not supported",
  },
  "read-only": { type: "boolean", description: "Mount the container's root filesystem read-only" },
  init: { type: "boolean", description: "Run a tiny init as pid 1 that forwards signals and reaps zombies" },
  rootfs: { type: "string", description: "Run a root filesystem directory instead of an image" },
  root: { type: "string", description: "Store directory (default $HULL_ROOT or ~/.local/share/hull)" },
  pull: { type: "string", description: "Pull the image: missing (default), always or never" },
  quiet: { type: "boolean", alias: "q", description: "Print nothing of a pull (errors still)" },
  annotation: {
    type: "string",
    description: "A KEY=VALUE annotation, kept for inspect's HostConfig.Annotations (repeatable)",
  },
  "disable-content-trust": {
    type: "boolean",
    description: "Accepted as docker's default: hull checks every blob by digest, and has no signing to skip",
  },
  name: { type: "string", description: "Name the container (default: a generated adjective_name)" },
  restart: { type: "string", description: "With -d: no (default), on-failure[:N], always, unless-stopped" },
  privileged: {
    type: "boolean",
    description: "Every capability of the user namespace, no seccomp filter, no masked paths",
  },
  "cap-add": { type: "string", description: "Add a capability (NET_ADMIN, CAP_SYS_PTRACE, ALL; repeatable)" },
  "cap-drop": { type: "string", description: "Drop a capability (names as --cap-add, ALL; repeatable)" },
  label: { type: "string", alias: "l", description: "Set a label on the container: KEY=VALUE or KEY (repeatable)" },
  "label-file": { type: "string", description: "Read labels from a file of KEY=VALUE lines (repeatable)" },
  cidfile: { type: "string", description: "Write the container's id to this file (which must not exist)" },
  "stop-signal": {
    type: "string",
    description: "The signal hull stop sends first (default: the image's STOPSIGNAL, else SIGTERM)",
  },
  "stop-timeout": { type: "string", description: "Seconds hull stop waits before SIGKILL (default 10)" },
  platform: {
    type: "string",
    description: "OS/ARCH the image must be (linux/amd64); hull pull --platform fetches another",
  },
  "shm-size": { type: "string", description: "The size of /dev/shm (64m by default)" },
  "health-cmd": { type: "string", description: "A command that checks the container's health (run with /bin/sh -c)" },
  "health-interval": { type: "string", description: "Time between two checks (30s by default)" },
  "health-timeout": { type: "string", description: "Time a check may take (30s by default)" },
  "health-retries": { type: "string", description: "Failures in a row that make it unhealthy (3 by default)" },
  "health-start-period": { type: "string", description: "Time after the start when failures do not count yet (0s)" },
  "no-healthcheck": { type: "boolean", description: "No health check, not even the image's HEALTHCHECK" },
  "log-driver": {
    type: "string",
    description: "json-file (the only one: docker's, kept in the container's directory)",
  },
  "log-opt": {
    type: "string",
    description:
      "The log's max-size=SIZE (16m by default), max-file=N (2), and labels=K,.. env=V,.. env-regex=RE for logs --details (repeatable)",
  },
  "sig-proxy": { type: "boolean", description: "Signals to hull reach the container (the default; false is refused)" },
  ...LIMIT_ARGS,
  cgroups: {
    type: "string",
    description:
      "enabled (default: a limit that cannot be enforced is an error) or disabled (podman's: run without a cgroup, limits not enforced)",
  },
  "cgroup-parent": {
    type: "string",
    description: "A systemd slice of yours to run the container in (NAME.slice): its limits cap the container too",
  },
  cgroupns: {
    type: "string",
    description: "private (default: with limits, the container sees only its own cgroup, at /sys/fs/cgroup) or host",
  },
  ulimit: {
    type: "string",
    description: "A resource limit NAME=SOFT[:HARD] (nofile=1024:2048; -1: unlimited; repeatable)",
  },
  "oom-score-adj": {
    type: "string",
    description: "The container's OOM score adjustment (-1000 to 1000; lowering it needs privilege)",
  },
  userns: {
    type: "string",
    description:
      "host (default: you are root inside, files you own show as root's) or keep-id[:uid=N,gid=N] (your ids are yours inside too, and the command runs as you; needs fuse-overlayfs)",
  },
  "security-opt": {
    type: "string",
    description:
      "seccomp=unconfined|PROFILE.json, no-new-privileges[=true|false], mask=PATHS, unmask=PATHS|ALL, systempaths=unconfined",
  },
} as const satisfies ArgsDef;

/** The options of `hull run` and `hull create`, from their command line. */
export function runOptions(rawArgs: string[], verb: string) {
  const p = parseInterspersed(rawArgs, runArgs, verb);
  // the config file's defaults (src/store/config.ts), under what the command line says
  const defaults = loadConfig().config.run ?? {};
  const rootfs = last(p, "rootfs");
  const [image, ...command] = rootfs ? [undefined, ...p.positionals] : p.positionals;
  if (!rootfs && !image) throw new Error(`hull ${verb} needs an image: hull ${verb} [OPTIONS] IMAGE [COMMAND]`);
  return parseRunOptions({
    rm: flag(p, "rm"),
    interactive: flag(p, "interactive"),
    tty: flag(p, "tty"),
    detach: flag(p, "detach"),
    init: flag(p, "init"),
    readOnly: flag(p, "read-only"),
    ipc: last(p, "ipc"),
    env: all(p, "env"),
    envFiles: all(p, "env-file"),
    workdir: last(p, "workdir"),
    user: last(p, "user"),
    hostname: last(p, "hostname"),
    domainname: last(p, "domainname"),
    groupAdd: all(p, "group-add").flatMap((g) => g.split(",")),
    devices: all(p, "device"),
    sysctls: all(p, "sysctl"),
    entrypoint: last(p, "entrypoint"),
    volumes: all(p, "volume"),
    volumesFrom: all(p, "volumes-from"),
    mounts: all(p, "mount"),
    tmpfs: all(p, "tmpfs"),
    attach: all(p, "attach").map((a) => a.toLowerCase()),
    network: last(p, "network") ?? defaults.network,
    networkAliases: all(p, "network-alias"),
    ip: last(p, "ip"),
    publish: all(p, "publish"),
    publishAll: flag(p, "publish-all"),
    expose: all(p, "expose"),
    dns: all(p, "dns"),
    dnsSearch: all(p, "dns-search"),
    dnsOption: all(p, "dns-option"),
    addHost: all(p, "add-host"),
    rootfs,
    image,
    command,
    root: last(p, "root"),
    pull: last(p, "pull") ?? defaults.pull ?? "missing",
    quiet: flag(p, "quiet"),
    annotations: all(p, "annotation"),
    name: last(p, "name"),
    restart: last(p, "restart") ?? "no",
    privileged: flag(p, "privileged"),
    capAdd: all(p, "cap-add").flatMap((c) => c.split(",")),
    capDrop: all(p, "cap-drop").flatMap((c) => c.split(",")),
    securityOpt: all(p, "security-opt"),
    userns: last(p, "userns"),
    labels: all(p, "label"),
    labelFiles: all(p, "label-file"),
    cidfile: last(p, "cidfile"),
    stopSignal: last(p, "stop-signal"),
    stopTimeout: last(p, "stop-timeout"),
    platform: last(p, "platform"),
    shmSize: last(p, "shm-size"),
    sigProxy: last(p, "sig-proxy") !== "false",
    healthCmd: last(p, "health-cmd"),
    healthInterval: last(p, "health-interval"),
    healthTimeout: last(p, "health-timeout"),
    healthRetries: last(p, "health-retries"),
    healthStartPeriod: last(p, "health-start-period"),
    noHealthcheck: flag(p, "no-healthcheck"),
    logDriver: last(p, "log-driver"),
    logOpts: all(p, "log-opt"),
    ulimits: [...(defaults.ulimits ?? []), ...all(p, "ulimit")],
    cgroupns: last(p, "cgroupns") ?? "private",
    cgroups: last(p, "cgroups") ?? "enabled",
    cgroupParent: last(p, "cgroup-parent"),
    oomScoreAdj: last(p, "oom-score-adj"),
    limits: limitsGiven(p),
  });
}

export const create: HullCommand = {
  meta: {
    name: "create",
    description: "Create a container without starting it: hull create [OPTIONS] IMAGE [COMMAND]",
  },
  args: runArgs,
  ownArgs: true,
  async run({ rawArgs }) {
    const opts = runOptions(rawArgs, "create");
    console.log(await runContainer({ ...opts, detach: true }, true));
  },
};

const command: HullCommand = {
  meta: { name: "run", description: "Run a command in a new container: hull run [OPTIONS] IMAGE [COMMAND] [ARG...]" },
  args: runArgs,
  ownArgs: true,
  async run({ rawArgs }) {
    const opts = runOptions(rawArgs, "run");
    await runContainer(opts);
  },
};
export default command;
