// User-defined networks: one shared namespace per user and store (the holder), a bridge per network,
// a veth per container, /etc/hosts files naming the peers; container:NAME. Real traffic, only inside
// namespaces these tests made. Every test ends with no holder and no pasta of this user left.
import { afterEach, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nestedMap } from "../src/runtime/idmap";
import { freeSubnet, hostRoutes, parseSubnet } from "../src/network/subnet";
import { containersLeft, HULL, hull, hullAsync, ok, requireUnprivileged, userProcesses, useStore } from "./helpers";

const store = useStore();

const holders = () => userProcesses((name) => name === "hull-netns");
const pastas = () => userProcesses((name) => /^pas(ta|st)/.test(name));

/** The holder goes within a second of its last container (up to seconds more when the kernel still tears down a killed container's namespace); pasta with its container. */
async function nothingLeft(): Promise<void> {
  for (let i = 0; i < 500 && holders().length + pastas().length > 0; i++) await Bun.sleep(20);
  expect({ holders: holders(), pastas: pastas() }).toEqual({ holders: [], pastas: [] });
}

afterEach(async () => {
  const ids = ok(hull(["ps", "-aq"], store))
    .split("\n")
    .filter(Boolean);
  if (ids.length > 0) ok(hull(["rm", "-f", ...ids], store));
  await nothingLeft();
  hull(["network", "prune", "-f"], store);
});

/** COMMAND's output in container CTR, retried while the network comes up (httpd starting). */
function execRetry(ctr: string, command: string[]): string {
  let last = "";
  for (let i = 0; i < 50; i++) {
    const r = hull(["exec", ctr, ...command], store);
    if (r.code === 0) return r.stdout;
    last = r.stderr;
    Bun.sleepSync(50);
  }
  throw new Error(`exec ${command.join(" ")} in ${ctr} kept failing: ${last}`);
}

test("subnets: parsed strictly; a free /24 avoids other networks and the host's routes", () => {
  expect(parseSubnet("10.89.5.0/24")).toEqual({ base: (10 << 24) + (89 << 16) + (5 << 8), prefix: 24 });
  expect(() => parseSubnet("10.89.5.1/24")).toThrow("host bits set: 10.89.5.0/24");
  expect(() => parseSubnet("10.89.5.0/31")).toThrow("from /8 to /30");
  expect(() => parseSubnet("300.1.1.0/24")).toThrow("IPv4 network");
  // /proc/net/route: 10.89.1.0/24 on some interface (little-endian hex), and a default route
  const routes = hostRoutes(
    "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n" +
      "eth0\t00000000\t0101A8C0\t0003\t0\t0\t0\t00000000\n" +
      "br0\t0001590A\t00000000\t0001\t0\t0\t0\t00FFFFFF\n",
  );
  expect(routes).toEqual([parseSubnet("10.89.1.0/24")]);
  expect(freeSubnet([parseSubnet("10.89.2.0/23")], routes)).toEqual(parseSubnet("10.89.4.0/24"));
});

test("a container's map in the holder's ids: the default map is the identity, keep-id a swap", () => {
  const holder = "0 1000 1 1 200000 65536";
  expect(nestedMap(holder, holder)).toBe("0 0 1\n1 1 65536");
  // keep-id for uid 1000: 0 -> 200999, 1..999 -> 200000.., 1000 -> 1000, the rest after
  const keep = "0 200999 1 1 200000 999 1000 1000 1 1001 201000 64536";
  expect(nestedMap(keep, holder)).toBe("0 1000 1\n1 1 999\n1000 0 1\n1001 1001 64536");
  expect(() => nestedMap("0 5 1", holder)).toThrow("does not");
});

test("network create, ls, inspect, rm, prune: names and subnets checked, records as docker shows them", () => {
  const id = ok(hull(["network", "create", "--label", "team=a", "appnet"], store)).trim();
  expect(id).toMatch(/^[a-f0-9]{64}$/);
  expect(hull(["network", "create", "appnet"], store).stderr).toContain("already exists");
  expect(hull(["network", "create", "bridge"], store).stderr).toContain("built in");
  expect(hull(["network", "create", "../x"], store).stderr).toContain("invalid network name");
  expect(hull(["network", "create", "--driver", "macvlan", "m"], store).stderr).toContain("user networks are bridges");
  const [net] = JSON.parse(ok(hull(["network", "inspect", "appnet"], store)));
  expect(net).toMatchObject({ Name: "appnet", Id: id, Driver: "bridge", Labels: { team: "a" } });
  const subnet = net.IPAM.Config[0].Subnet;
  expect(hull(["network", "create", "--subnet", subnet, "clash"], store).stderr).toContain("overlaps network appnet");
  ok(hull(["network", "create", "--subnet", "172.30.0.0/16", "--gateway", "172.30.0.254", "--internal", "iso"], store));
  const [iso] = JSON.parse(ok(hull(["network", "inspect", "iso"], store)));
  expect(iso).toMatchObject({
    Internal: true,
    IPAM: { Config: [{ Subnet: "172.30.0.0/16", Gateway: "172.30.0.254" }] },
  });
  const ls = ok(hull(["network", "ls"], store));
  for (const n of ["bridge", "host", "none", "appnet", "iso"]) expect(ls).toMatch(new RegExp(`\\s${n}\\s`));
  expect(ok(hull(["network", "ls", "-q", "--filter", "label=team=a"], store)).trim()).toBe(id.slice(0, 12));
  expect(
    ok(hull(["network", "ls", "-q", "-f", "type=custom"], store))
      .trim()
      .split("\n"),
  ).toHaveLength(2);
  expect(hull(["network", "ls", "--filter", "dangling=true"], store).stderr).toContain(
    "not supported by hull network ls",
  );
  expect(hull(["network", "rm", "bridge"], store).stderr).toContain("pre-defined");
  expect(hull(["network", "rm", "nope"], store).stderr).toContain("no such network: nope");
  expect(hull(["network", "rm", "-f", "nope"], store).code).toBe(0);
  // prune asks first: no answer, nothing removed
  expect(hull(["network", "prune"], store).stderr).toContain("Nothing removed");
  expect(ok(hull(["network", "prune", "-f", "--filter", "label=team=a"], store))).toContain("appnet");
  expect(ok(hull(["network", "rm", "iso"], store)).trim()).toBe("iso");
  expect(ok(hull(["network", "ls", "-q", "-f", "type=custom"], store)).trim()).toBe("");
});

test("two containers on a user network reach each other by name and alias; rm drops the name at once", async () => {
  requireUnprivileged();
  ok(hull(["network", "create", "appnet"], store));
  ok(
    hull(
      [
        "run",
        "-d",
        "--name",
        "web",
        "--network",
        "appnet",
        "--network-alias",
        "www",
        "busybox",
        "httpd",
        "-f",
        "-p",
        "8080",
        "-h",
        "/etc",
      ],
      store,
    ),
  );
  // --dns 127.0.0.1: a name that is not a peer's fails at once, and no query leaves this machine
  ok(hull(["run", "-d", "--name", "client", "--net", "appnet", "--dns", "127.0.0.1", "busybox", "sleep", "60"], store));
  expect(execRetry("client", ["wget", "-qO-", "http://web:8080/hostname"])).toMatch(/^[a-f0-9]{12}\n$/);
  expect(execRetry("client", ["wget", "-qO-", "http://www:8080/hostname"])).toMatch(/^[a-f0-9]{12}\n$/);
  // the newcomer sees web, and web sees the newcomer
  expect(ok(hull(["exec", "web", "cat", "/etc/hosts"], store))).toMatch(/\sclient\s/);
  const [info] = JSON.parse(ok(hull(["inspect", "web"], store)));
  expect(info.HostConfig.NetworkMode).toBe("appnet");
  expect(info.NetworkSettings.Networks.appnet.IPAddress).toMatch(/^10\.89\.\d+\.2$/);
  expect(info.NetworkSettings.Networks.appnet.Aliases).toContain("www");
  const [net] = JSON.parse(ok(hull(["network", "inspect", "appnet"], store)));
  expect(
    Object.values(net.Containers)
      .map((c) => (c as { Name: string }).Name)
      .sort(),
  ).toEqual(["client", "web"]);
  expect(holders()).toHaveLength(1);
  // refused while containers are on it, with their names
  expect(hull(["network", "rm", "appnet"], store).stderr).toMatch(/has containers on it \((web, client|client, web)\)/);
  ok(hull(["rm", "-f", "web"], store));
  expect(ok(hull(["exec", "client", "cat", "/etc/hosts"], store))).not.toMatch(/\sweb\s/);
  expect(hull(["exec", "client", "wget", "-qO-", "http://web:8080/hostname"], store).code).not.toBe(0);
  // --network none still has only lo
  expect(ok(hull(["run", "--rm", "--network", "none", "busybox", "ls", "/sys/class/net"], store)).trim()).toBe("lo");
});

test("connect and disconnect: a running container on a user network, one with -p, a stopped one; others refused with the fix", async () => {
  requireUnprivileged();
  ok(hull(["network", "create", "one"], store));
  ok(hull(["network", "create", "two"], store));
  ok(
    hull(["run", "-d", "--name", "ca", "--network", "one", "busybox", "httpd", "-f", "-p", "80", "-h", "/etc"], store),
  );
  ok(hull(["network", "connect", "--alias", "alpha", "two", "ca"], store));
  expect(ok(hull(["exec", "ca", "ls", "/sys/class/net"], store)).split("\n")).toContain("eth2");
  // --dns 127.0.0.1: a name that is not a peer's fails at once, and no query leaves this machine
  const peer = [
    "run",
    "--rm",
    "--network",
    "two",
    "--dns",
    "127.0.0.1",
    "busybox",
    "wget",
    "-qO-",
    "http://alpha/hostname",
  ];
  expect(ok(hull(peer, store))).toMatch(/^[a-f0-9]{12}\n$/);
  expect(hull(["network", "connect", "two", "ca"], store).stderr).toContain("already on network two");
  ok(hull(["network", "disconnect", "two", "ca"], store));
  expect(ok(hull(["exec", "ca", "ls", "/sys/class/net"], store)).split("\n")).not.toContain("eth2");
  expect(hull(peer, store).code).not.toBe(0);
  expect(hull(["network", "disconnect", "two", "ca"], store).stderr).toContain("not connected to network two");
  // the default network goes through the shared namespace: such a container is connected as it runs
  ok(hull(["run", "-d", "--name", "cd", "busybox", "sleep", "60"], store));
  ok(hull(["network", "connect", "one", "cd"], store));
  expect(execRetry("cd", ["wget", "-qO-", "http://ca/hostname"])).toMatch(/^[a-f0-9]{12}\n$/);
  // one with a pasta of its own (-p): connected as it runs too (the issue's `network connect appnet
  // web`; it was refused, its user namespace not under the shared one), its published port kept
  ok(
    hull(
      ["run", "-d", "--name", "cb", "-p", "127.0.0.1::80", "busybox", "httpd", "-f", "-p", "80", "-h", "/etc"],
      store,
    ),
  );
  ok(hull(["network", "connect", "one", "cb"], store));
  expect(execRetry("cb", ["wget", "-qO-", "http://ca/hostname"])).toMatch(/^[a-f0-9]{12}\n$/);
  expect(execRetry("ca", ["wget", "-qO-", "http://cb/hostname"])).toMatch(/^[a-f0-9]{12}\n$/);
  const published = ok(hull(["port", "cb", "80"], store)).trim();
  expect(await (await fetch(`http://${published}/hostname`)).text()).toMatch(/^[a-f0-9]{12}\n$/);
  // and after a stop, a connect and a start
  ok(hull(["stop", "-t", "0", "cb"], store));
  ok(hull(["network", "connect", "two", "cb"], store));
  ok(hull(["start", "cb"], store));
  expect(execRetry("cb", ["wget", "-qO-", "http://ca/hostname"])).toMatch(/^[a-f0-9]{12}\n$/);
  // made by create and start, not run: connected as it runs too (start made it under its own
  // user namespace); and a restart makes again what a connect made (it lost eth1)
  ok(hull(["create", "--name", "ce", "-p", "127.0.0.1::80", "busybox", "sleep", "60"], store));
  ok(hull(["start", "ce"], store));
  ok(hull(["network", "connect", "one", "ce"], store));
  ok(hull(["restart", "-t", "0", "ce"], store));
  expect(execRetry("ce", ["wget", "-qO-", "http://ca/hostname"])).toMatch(/^[a-f0-9]{12}\n$/);
  const host = ok(hull(["run", "-d", "--network", "host", "busybox", "sleep", "60"], store)).trim();
  expect(hull(["network", "connect", "one", host], store).stderr).toContain("--network host");
});

test("--network container:NAME shares the network: its server on 127.0.0.1, its names; conflicts refused", () => {
  requireUnprivileged();
  ok(
    hull(
      ["run", "-d", "--name", "srv", "--network", "none", "busybox", "httpd", "-f", "-p", "127.0.0.1:80", "-h", "/etc"],
      store,
    ),
  );
  const got = ["run", "--rm", "--network", "container:srv", "busybox", "sh", "-c"];
  let out = "";
  for (let i = 0; i < 50 && !out; i++)
    out = hull([...got, "wget -qO- http://127.0.0.1/hostname; hostname"], store).stdout;
  const [id, name] = out.trim().split("\n");
  expect(id).toMatch(/^[a-f0-9]{12}$/);
  expect(name).toBe(id);
  for (const flag of [
    ["-p", "80"],
    ["--hostname", "h"],
    ["--add-host", "a:1.2.3.4"],
  ])
    expect(hull(["run", "--rm", ...flag, "--network", "container:srv", "busybox", "true"], store).stderr).toContain(
      "conflict",
    );
  ok(hull(["stop", "-t", "0", "srv"], store));
  expect(hull(["run", "--rm", "--network", "container:srv", "busybox", "true"], store).stderr).toContain(
    "not running (hull start srv)",
  );
  expect(hull(["run", "--rm", "--network", "container:nope", "busybox", "true"], store).code).toBe(125);
});

test("--internal: peers only, no eth0, no pasta; -p refused", () => {
  requireUnprivileged();
  ok(hull(["network", "create", "--internal", "iso"], store));
  expect(
    ok(hull(["run", "--rm", "--network", "iso", "busybox", "ls", "/sys/class/net"], store))
      .trim()
      .split("\n"),
  ).toEqual(["eth1", "lo"]);
  expect(hull(["run", "--rm", "--network", "iso", "-p", "8080:80", "busybox", "true"], store).stderr).toContain(
    "--internal",
  );
});

test("nothing is left: after --rm, rm -f, and a kill -9 of hull with the next command", async () => {
  requireUnprivileged();
  ok(hull(["network", "create", "appnet"], store));
  ok(hull(["run", "--rm", "--network", "appnet", "busybox", "true"], store));
  await nothingLeft();
  ok(hull(["run", "-d", "--name", "dd", "--network", "appnet", "busybox", "sleep", "60"], store));
  ok(hull(["rm", "-f", "dd"], store));
  await nothingLeft();
  const p = Bun.spawn([HULL, "run", "--rm", "--network", "appnet", "busybox", "sleep", "30"], {
    env: { ...process.env, HULL_ROOT: store.root },
    stdout: "ignore",
    stderr: "ignore",
  });
  // killed once its command runs (inspect has its pid 1)
  const running = () => {
    const ids = ok(hull(["ps", "-q"], store)).trim();
    return ids !== "" && JSON.parse(ok(hull(["inspect", ids], store)))[0].State.Pid > 0;
  };
  // the record may name a pid before the namespace's holder is up: wait for both
  for (let i = 0; i < 200 && !(running() && holders().length === 1); i++) await Bun.sleep(20);
  expect(holders()).toHaveLength(1);
  p.kill(9);
  await p.exited;
  hull(["ps", "-a"], store);
  await nothingLeft();
  expect(containersLeft(store.root)).toEqual([]);
  // the holder's pid file went with it; the next run starts a new one
  expect(() => readFileSync(join(store.root, "networks", "holder.pid"))).toThrow();
  ok(hull(["run", "--rm", "--network", "appnet", "busybox", "true"], store));
});

test("a restart makes the links the record has now; a disconnected container stays reachable for connect", async () => {
  requireUnprivileged();
  ok(hull(["network", "create", "one"], store));
  ok(hull(["network", "create", "two"], store));
  // sleep is not pid 1 (which ignores the SIGTERM of killall): the shell exits after it, and restarts
  ok(
    hull(
      [
        "run",
        "-d",
        "--name",
        "rr",
        "--restart",
        "always",
        "--network",
        "one",
        "busybox",
        "sh",
        "-c",
        "sleep 1000; exit 3",
      ],
      store,
    ),
  );
  ok(hull(["network", "connect", "two", "rr"], store));
  ok(hull(["network", "disconnect", "one", "rr"], store));
  // the holder lives on for a container on no network: connect still reaches it
  ok(hull(["network", "disconnect", "two", "rr"], store));
  await Bun.sleep(1600);
  ok(hull(["network", "connect", "two", "rr"], store));
  ok(hull(["exec", "rr", "killall", "sleep"], store));
  let links = "";
  for (let i = 0; i < 100; i++) {
    const r = hull(["exec", "rr", "ls", "/sys/class/net"], store);
    const [info] = JSON.parse(ok(hull(["inspect", "rr"], store)));
    if (r.code === 0 && info.RestartCount >= 1) {
      links = r.stdout;
      break;
    }
    await Bun.sleep(50);
  }
  expect(links.split("\n")).toContain("eth1");
  // one is gone from the record, so from the restarted container; its address went back to one
  const addr = ok(hull(["exec", "rr", "ip", "-4", "addr", "show", "eth1"], store));
  const [two] = JSON.parse(ok(hull(["network", "inspect", "two"], store)));
  expect(addr).toContain(two.IPAM.Config[0].Subnet.replace(/\.0\/24$/, "."));
  expect(links.split("\n")).not.toContain("eth2");
});

test("a stopped container moved to an --internal network gets no way out at its start", () => {
  requireUnprivileged();
  ok(hull(["network", "create", "pub"], store));
  ok(hull(["network", "create", "--internal", "priv"], store));
  ok(hull(["create", "--name", "mv", "--network", "pub", "busybox", "sleep", "60"], store));
  ok(hull(["network", "disconnect", "pub", "mv"], store));
  ok(hull(["network", "connect", "priv", "mv"], store));
  ok(hull(["start", "mv"], store));
  expect(
    ok(hull(["exec", "mv", "ls", "/sys/class/net"], store))
      .trim()
      .split("\n"),
  ).toEqual(["eth1", "lo"]);
});

test("rm -f of a container another joined: its links go at once, so its address is free for real", () => {
  requireUnprivileged();
  ok(hull(["network", "create", "dn"], store));
  ok(hull(["run", "-d", "--name", "xx", "--network", "dn", "busybox", "sleep", "60"], store));
  ok(hull(["run", "-d", "--name", "jj", "--network", "container:xx", "busybox", "sleep", "60"], store));
  expect(ok(hull(["exec", "jj", "ls", "/sys/class/net"], store)).split("\n")).toContain("eth1");
  ok(hull(["rm", "-f", "xx"], store));
  expect(ok(hull(["exec", "jj", "ls", "/sys/class/net"], store)).split("\n")).not.toContain("eth1");
  expect(
    hull(["run", "-d", "--restart", "always", "--network", "container:jj", "busybox", "true"], store).stderr,
  ).toContain("--restart and --network container: conflict");
  const host = ok(hull(["run", "-d", "--network", "host", "busybox", "sleep", "60"], store)).trim();
  expect(hull(["run", "--rm", "--network", `container:${host}`, "busybox", "true"], store).stderr).toContain(
    "use --network host",
  );
});

test("names: rename reaches the peers; --ip and --gateway in one spelling; built-in names and odd subnets refused", () => {
  requireUnprivileged();
  ok(hull(["network", "create", "--subnet", "10.52.0.0/24", "--gateway", "10.52.0.010", "nm"], store));
  const [nm] = JSON.parse(ok(hull(["network", "inspect", "nm"], store)));
  expect(nm.IPAM.Config[0].Gateway).toBe("10.52.0.10");
  expect(hull(["create", "--network", "nm", "--ip", "10.52.0.010", "busybox", "true"], store).stderr).toContain(
    "gateway",
  );
  ok(hull(["run", "-d", "--name", "bb", "--network", "nm", "--ip", "10.52.0.05", "busybox", "sleep", "60"], store));
  ok(hull(["run", "-d", "--name", "aa", "--network", "nm", "busybox", "sleep", "60"], store));
  expect(ok(hull(["exec", "aa", "cat", "/etc/hosts"], store))).toMatch(/^10\.52\.0\.5\tbb /m);
  ok(hull(["rename", "bb", "cc"], store));
  const hosts = ok(hull(["exec", "aa", "cat", "/etc/hosts"], store));
  expect(hosts).toMatch(/^10\.52\.0\.5\tcc /m);
  expect(hosts).not.toMatch(/\sbb\s/);
  // its own address once, with its host name
  expect(hosts.match(/^10\.52\.0\.\d+\taa [a-f0-9]{12}$/gm)).toHaveLength(1);
  for (const name of ["container", "slirp4netns"])
    expect(hull(["network", "create", name], store).stderr).toContain("built in");
  for (const subnet of ["127.0.0.0/8", "0.0.0.0/8", "224.0.0.0/8", "169.254.0.0/16"])
    expect(hull(["network", "create", "--subnet", subnet, "odd"], store).stderr).toContain("choose a private range");
  expect(
    hull(["run", "--rm", "--network", "nm", "--network-alias", "a\nb", "busybox", "true"], store).stderr.trim(),
  ).not.toContain("\n");
});

test("a network removed behind hull's back: disconnect still takes it off the container", () => {
  requireUnprivileged();
  ok(hull(["network", "create", "gone"], store));
  ok(hull(["create", "--name", "orphan", "--network", "gone", "busybox", "true"], store));
  rmSync(join(store.root, "networks", "gone.json"));
  expect(hull(["start", "orphan"], store).stderr).toContain("network gone is gone");
  ok(hull(["network", "disconnect", "gone", "orphan"], store));
  ok(hull(["start", "orphan"], store));
});

test("the default network goes out through the shared namespace: one pasta for every container, NAT, no way between bridges", () => {
  requireUnprivileged();
  ok(hull(["run", "-d", "--name", "d1", "busybox", "httpd", "-f", "-p", "80", "-h", "/etc"], store));
  // NET_ADMIN: its root may route as it likes in its own namespace, as a hostile container would
  ok(hull(["run", "-d", "--name", "d2", "--cap-add", "NET_ADMIN", "busybox", "sleep", "60"], store));
  expect(readFileSync(join(store.root, "networks", "holder.nat"), "utf8")).toBe("ok\n");
  // one pasta: the shared namespace's; none of the containers' own
  expect(pastas()).toHaveLength(1);
  const [d1] = JSON.parse(ok(hull(["inspect", "d1"], store)));
  expect(d1.NetworkSettings.IPAddress).toMatch(/^10\.88\.\d+\.\d+$/);
  expect(ok(hull(["exec", "d2", "ip", "route"], store))).toMatch(/^default via 10\.88\.0\.1 dev eth0/m);
  // containers of the default network reach each other by address, as on docker's bridge
  expect(execRetry("d2", ["wget", "-qO-", `http://${d1.NetworkSettings.IPAddress}/hostname`])).toMatch(
    /^[a-f0-9]{12}\n$/,
  );
  // the shared namespace forwards the default network out, and nothing from one bridge to another
  ok(hull(["network", "create", "apart"], store));
  ok(
    hull(
      ["run", "-d", "--name", "u1", "--network", "apart", "busybox", "httpd", "-f", "-p", "80", "-h", "/etc"],
      store,
    ),
  );
  const [u1] = JSON.parse(ok(hull(["inspect", "u1"], store)));
  const gw = u1.NetworkSettings.Networks.apart.Gateway;
  const add = hull(
    ["exec", "d2", "ip", "route", "add", `${u1.NetworkSettings.Networks.apart.IPAddress}/32`, "via", "10.88.0.1"],
    store,
  );
  expect(add.code, add.stderr).toBe(0);
  // (busybox's wget -T crashes: timeout ends the attempt)
  const across = ["timeout", "2", "wget", "-qO-", `http://${u1.NetworkSettings.Networks.apart.IPAddress}/hostname`];
  expect(hull(["exec", "d2", ...across], store).code).not.toBe(0);
  expect(gw).toMatch(/^10\.89\./);
  // HULL_NET_SHARED=0: a pasta of its own, with the host's address
  const own = hull(["run", "--rm", "busybox", "ip", "-4", "addr", "show", "eth0"], {
    ...store,
    env: { HULL_NET_SHARED: "0" },
  });
  expect(own.stdout).not.toContain("10.88.");
  expect(own.stdout).toContain("inet ");
});

test("a user network goes out through the shared namespace too, by its gateway; an --internal one has no way", () => {
  requireUnprivileged();
  ok(hull(["network", "create", "outnet"], store));
  ok(hull(["network", "create", "--internal", "innet"], store));
  ok(hull(["run", "-d", "--name", "o1", "--network", "outnet", "busybox", "sleep", "60"], store));
  const [net] = JSON.parse(ok(hull(["network", "inspect", "outnet"], store)));
  const gw = net.IPAM.Config[0].Gateway;
  const routes = ok(hull(["exec", "o1", "ip", "route"], store));
  expect(routes).toMatch(new RegExp(`^default via ${gw.replace(/\./g, "\\.")} dev eth1`, "m"));
  // no eth0: no pasta of its own, the namespace's one serves it
  expect(
    ok(hull(["exec", "o1", "ls", "/sys/class/net"], store))
      .trim()
      .split("\n"),
  ).toEqual(["eth1", "lo"]);
  expect(pastas()).toHaveLength(1);
  ok(hull(["run", "-d", "--name", "i1", "--network", "innet", "busybox", "sleep", "60"], store));
  expect(ok(hull(["exec", "i1", "ip", "route"], store))).not.toContain("default");
  // with -p, a pasta of its own: its eth0 and default route, the network's link beside
  const p = ok(hull(["run", "--rm", "--network", "outnet", "-p", "127.0.0.1::80", "busybox", "ip", "route"], store));
  expect(p).toMatch(/^default via .* dev eth0/m);
});

test("a hull killed while it starts the holder leaves no half-started holder holding the lock", async () => {
  // newuidmap that takes its time: the starter is killed between the holder's clone and its word
  const slow = mkdtempSync(join(tmpdir(), "hull-slow-map-"));
  for (const prog of ["newuidmap", "newgidmap"]) {
    writeFileSync(join(slow, prog), "#!/bin/sh\nexec sleep 30\n");
    chmodSync(join(slow, prog), 0o755);
  }
  const env = { ...process.env, HULL_ROOT: store.root };
  // no holder yet: this run starts one
  for (let i = 0; i < 500 && holders().length > 0; i++) await Bun.sleep(20);
  const p = Bun.spawn([HULL, "run", "--rm", "busybox", "true"], {
    env: { ...env, PATH: `${slow}:${process.env.PATH}` },
  });
  const sleepers = () =>
    Bun.spawnSync(["pgrep", "-u", String(process.getuid?.()), "-f", "^sleep 30$"])
      .stdout.toString()
      .trim();
  for (let i = 0; i < 200 && sleepers() === ""; i++) await Bun.sleep(25);
  expect(sleepers()).not.toBe("");
  p.kill(9);
  await p.exited;
  Bun.spawnSync(["pkill", "-9", "-u", String(process.getuid?.()), "-f", "^sleep 30$"]);
  // the next run gets the lock (before, the half-started holder kept it, and this waited for ever)
  // asynchronous, killed outright past 20 s (a run waiting on a lock takes no SIGTERM meanwhile)
  const next = Bun.spawn([HULL, "run", "--rm", "busybox", "true"], { env });
  const timer = setTimeout(() => next.kill(9), 20_000);
  const code = await next.exited;
  clearTimeout(timer);
  expect(code).toBe(0);
  rmSync(slow, { recursive: true, force: true });
});

test("a peer is named while it runs: gone within a second of stop, an exit or --rm, back at start", async () => {
  ok(hull(["network", "create", "livenet"], store));
  ok(hull(["run", "-d", "--network", "livenet", "--name", "watcher", "busybox", "sleep", "60"], store));
  ok(hull(["run", "-d", "--network", "livenet", "--name", "comes-goes", "busybox", "sleep", "60"], store));
  ok(hull(["create", "--network", "livenet", "--name", "never-started", "busybox", "sleep", "60"], store));
  const hosts = () => ok(hull(["exec", "watcher", "cat", "/etc/hosts"], store));
  /** the peers watcher names within a second, for CHECK */
  const within = async (check: (text: string) => boolean, what: string) => {
    let text = "";
    for (let i = 0; i < 20; i++) {
      text = hosts();
      if (check(text)) return;
      await Bun.sleep(50);
    }
    throw new Error(`watcher's /etc/hosts after a second: ${what}\n${text}`);
  };
  // a created container is not running: docker's resolver does not name it
  expect(hosts()).toContain("comes-goes");
  expect(hosts()).not.toContain("never-started");
  ok(hull(["stop", "-t", "0", "comes-goes"], store));
  await within((t) => !t.includes("comes-goes"), "comes-goes still named after its stop");
  // at once when start returns, as when run returns
  ok(hull(["start", "comes-goes"], store));
  expect(hosts()).toContain("comes-goes");
  // a --rm container that ends by itself: named while it runs, then not (its address stayed named
  // until the next change on the network before)
  const short = hullAsync(
    ["run", "--rm", "--network", "livenet", "--name", "short-lived", "busybox", "sleep", "1"],
    store,
  );
  await within((t) => t.includes("short-lived"), "short-lived never named");
  expect((await short).code).toBe(0);
  await within((t) => !t.includes("short-lived"), "short-lived still named after it ended");
  // on the default network, connected while it runs: its shim was told of no user network at its start
  ok(hull(["run", "-d", "--name", "joined-late", "busybox", "sleep", "1"], store));
  ok(hull(["network", "connect", "livenet", "joined-late"], store));
  expect(hosts()).toContain("joined-late");
  await Bun.sleep(1000);
  await within((t) => !t.includes("joined-late"), "joined-late still named after it ended");
});

test("a peer reaches a container as soon as it is back from a restart: its hardware address follows its address", () => {
  ok(hull(["network", "create", "arpnet"], store));
  ok(hull(["run", "-d", "--network", "arpnet", "--name", "arp-client", "busybox", "sleep", "60"], store));
  const serve = "mkdir -p /w && echo hi > /w/index.html && httpd -f -p 80 -h /w";
  ok(hull(["run", "-d", "--network", "arpnet", "--name", "arp-server", "busybox", "sh", "-c", serve], store));
  const fetchOnce = () =>
    hull(
      ["exec", "arp-client", "sh", "-c", "printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | nc -w 3 arp-server 80"],
      store,
    );
  // the client's ARP entry for the server's address is made
  expect(
    execRetry("arp-client", ["sh", "-c", "printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | nc -w 3 arp-server 80"]),
  ).toContain("hi");
  const links = () => ok(hull(["exec", "arp-server", "ip", "-o", "link"], store));
  expect(links()).toMatch(/link\/ether 02:42:0a:/);
  ok(hull(["restart", "-t", "0", "arp-server"], store));
  // its server up again, seen from inside, then one try from the client: with a new random
  // address the client's entry pointed at the old one, and this timed out for seconds
  execRetry("arp-server", ["wget", "-qO-", "http://127.0.0.1/index.html"]);
  const r = fetchOnce();
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toContain("hi");
});
