// Rootless networking through pasta: the default network, published ports, names. Real traffic,
// only to 127.0.0.1 and to the namespaces the containers are in. Every test ends with no pasta of
// this user left.
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  containersLeft,
  hostHas,
  hull,
  hullAsync,
  ok,
  probeBinary,
  requireUnprivileged,
  userProcesses,
  useStore,
} from "./helpers";
import { parsePublish } from "../src/network/publish";
import { DNS_FORWARDER, loopbackResolvers, type NameOptions, nameFiles } from "../src/container/etc-files";

const store = useStore();

/** pasta processes of this user (it runs as passt.avx2 on CPUs that have it) */
const helpers = () => userProcesses((name) => /^pas(ta|st)/.test(name));

async function noHelperLeft(): Promise<void> {
  // the shared namespace's pasta goes with its holder, about a second after its last container
  for (let i = 0; i < 250 && helpers().length > 0; i++) await Bun.sleep(20);
  expect(helpers()).toEqual([]);
}

const pasta = () => Bun.which("pasta") !== null;

afterEach(async () => {
  if (pasta()) await noHelperLeft();
});

/** A free TCP port on 127.0.0.1, as the kernel picks it. */
function freePort(): number {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

async function fetchRetry(url: string): Promise<string> {
  for (let i = 0; ; i++) {
    try {
      return await (await fetch(url)).text();
    } catch (e) {
      if (i > 100) throw e;
      await Bun.sleep(50);
    }
  }
}

test("-p as docker writes it: addresses, ranges, udp, ports left to hull; mistakes named", () => {
  expect(parsePublish("8080:80")).toEqual([{ hostIp: "", hostPort: 8080, containerPort: 80, proto: "tcp" }]);
  expect(parsePublish("127.0.0.1::53/udp")).toEqual([
    { hostIp: "127.0.0.1", hostPort: 0, containerPort: 53, proto: "udp" },
  ]);
  expect(parsePublish("[::1]:8080:80")).toEqual([{ hostIp: "::1", hostPort: 8080, containerPort: 80, proto: "tcp" }]);
  expect(parsePublish("80")).toEqual([{ hostIp: "", hostPort: 0, containerPort: 80, proto: "tcp" }]);
  expect(parsePublish("9000-9001:80-81").map((m) => `${m.hostPort}:${m.containerPort}`)).toEqual([
    "9000:80",
    "9001:81",
  ]);
  expect(() => parsePublish("80:80/sctp")).toThrow("the protocol is tcp or udp");
  expect(() => parsePublish("70000:80")).toThrow("70000 is not a port");
  expect(() => parsePublish("9000-9002:80-81")).toThrow("differ in length");
  // docker's host range to one container port: the first free port of the range
  expect(parsePublish("9000-9002:80")).toEqual([
    { hostIp: "", hostPort: 9000, containerPort: 80, proto: "tcp", hostRange: [9000, 9002] },
  ]);
  expect(() => parsePublish("a:b:c:d")).toThrow("takes [IP:][HOST_PORT:]CONTAINER_PORT");
});

describe("with pasta", () => {
  test("the default network: eth0 with the host's address and a default route; none is only lo", () => {
    requireUnprivileged();
    if (!hostHas(pasta(), "no pasta on PATH (Debian: passt)")) return;
    const out = ok(hull(["run", "--rm", "busybox", "sh", "-c", "ls /sys/class/net; ip route"], store));
    expect(out).toContain("eth0");
    expect(out).toMatch(/^default via /m);
    expect(ok(hull(["run", "--rm", "--network", "none", "busybox", "ls", "/sys/class/net"], store)).trim()).toBe("lo");
  });

  test("an ended container's links are deleted after hull returns, by a deleter that then goes", async () => {
    requireUnprivileged();
    if (!hostHas(pasta(), "no pasta on PATH (Debian: passt)")) return;
    // a detached keeper holds the shared namespace, so its links can be looked at after the run
    ok(hull(["run", "-d", "--name", "unlink-keeper", "busybox", "sleep", "60"], store));
    try {
      const id = ok(hull(["run", "-d", "busybox", "true"], store)).trim();
      ok(hull(["wait", id], store));
      ok(hull(["rm", id], store));
      ok(hull(["run", "--rm", "busybox", "true"], store));
      const holder = readFileSync(join(store.root, "networks", "holder.pid"), "utf8").split(" ")[0] as string;
      const vethsOf = () =>
        Bun.spawnSync(["nsenter", "-U", "-n", "--preserve-credentials", "-t", holder, "ip", "-o", "link"])
          .stdout.toString()
          .split("\n")
          .filter((l) => /: hv[0-9a-f]{13}@/.test(l));
      let left = vethsOf();
      let deleters = userProcesses((n) => n === "hull-unlink");
      for (let i = 0; i < 40 && (left.length > 1 || deleters.length > 0); i++) {
        await Bun.sleep(50);
        left = vethsOf();
        deleters = userProcesses((n) => n === "hull-unlink");
      }
      // the keeper's own link only, and no deleter left
      expect(left).toHaveLength(1);
      expect(deleters).toEqual([]);
    } finally {
      hull(["rm", "-f", "unlink-keeper"], store);
    }
  });

  test("a holder killed outright: the next one makes its own way out, not trusting the dead one's files", async () => {
    requireUnprivileged();
    if (!hostHas(pasta(), "no pasta on PATH (Debian: passt)")) return;
    const holderFile = join(store.root, "networks", "holder.pid");
    ok(hull(["run", "-d", "--name", "nat-1", "busybox", "sleep", "60"], store));
    const first = Number(readFileSync(holderFile, "utf8").split(" ")[0]);
    process.kill(first, "SIGKILL");
    ok(hull(["rm", "-f", "nat-1"], store));
    ok(hull(["run", "-d", "--name", "nat-2", "busybox", "sleep", "60"], store));
    try {
      const second = Number(readFileSync(holderFile, "utf8").split(" ")[0]);
      expect(second).not.toBe(first);
      // the new namespace's own pasta (its target, the last argument, is the new holder)
      let found = false;
      for (let i = 0; i < 50 && !found; i++) {
        found = helpers().some((pid) => {
          try {
            return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).at(-1) === String(second);
          } catch {
            return false;
          }
        });
        if (!found) await Bun.sleep(50);
      }
      expect(found).toBe(true);
      expect(readFileSync(join(store.root, "networks", "holder.nat"), "utf8")).toContain("ok");
    } finally {
      hull(["rm", "-f", "nat-2"], store);
    }
  });

  test("a holder.pid naming a container's process is not trusted: nothing is nested under that container", () => {
    requireUnprivileged();
    const holderFile = join(store.root, "networks", "holder.pid");
    // its pid 1 named as the holder is named: a script called hull-netns (the kernel names a script's
    // process after the script)
    const script = "printf '#!/bin/sh\\nsleep 60\\n' > /hull-netns && chmod +x /hull-netns && exec /hull-netns";
    ok(hull(["run", "-d", "--name", "fake-holder", "--network", "none", "busybox", "sh", "-c", script], store));
    try {
      const id = ok(hull(["inspect", "-f", "{{.Id}}", "fake-holder"], store)).trim();
      const init = readFileSync(join(store.root, "containers", id, "init.pid"), "utf8");
      let comm = "";
      for (let i = 0; i < 50 && comm !== "hull-netns"; i++) {
        comm = readFileSync(`/proc/${init.split(" ")[0]}/comm`, "utf8").trim();
        if (comm !== "hull-netns") Bun.sleepSync(20);
      }
      expect(comm).toBe("hull-netns");
      writeFileSync(holderFile, init);
      ok(hull(["run", "--rm", "--network", "none", "busybox", "true"], store));
      const now = readFileSync(holderFile, "utf8").split(" ")[0] as string;
      expect(now).not.toBe(init.split(" ")[0]);
      expect(readFileSync(`/proc/${now}/comm`, "utf8").trim()).toBe("hull-netns");
      // its pid namespace is this one: a real holder, not a container's process
      expect(readlinkSync(`/proc/${now}/ns/pid`)).toBe(readlinkSync("/proc/self/ns/pid"));
    } finally {
      hull(["rm", "-f", "fake-holder"], store);
    }
  });

  test("a published port: the host reaches the container's server; port, ps and inspect show it", async () => {
    requireUnprivileged();
    if (!hostHas(pasta(), "no pasta on PATH (Debian: passt)")) return;
    const port = freePort();
    const serve = "mkdir /www && echo hello from the container > /www/index.html && exec httpd -f -p 80 -h /www";
    ok(hull(["run", "-d", "--name", "web", "-p", `127.0.0.1:${port}:80`, "busybox", "sh", "-c", serve], store));
    try {
      expect(await fetchRetry(`http://127.0.0.1:${port}/`)).toBe("hello from the container\n");
      expect(ok(hull(["port", "web"], store)).trim()).toBe(`80/tcp -> 127.0.0.1:${port}`);
      expect(ok(hull(["port", "web", "80"], store)).trim()).toBe(`127.0.0.1:${port}`);
      expect(hull(["port", "web", "81"], store).stderr).toContain("no public port '81/tcp' published for web");
      expect(ok(hull(["ps"], store))).toContain(`127.0.0.1:${port}->80/tcp`);
      const inspect = JSON.parse(ok(hull(["inspect", "web"], store)))[0];
      expect(inspect.NetworkSettings.Ports["80/tcp"]).toEqual([{ HostIp: "127.0.0.1", HostPort: String(port) }]);
      // the port is held while the container runs: a second container cannot have it
      const taken = hull(["run", "--rm", "-p", `127.0.0.1:${port}:80`, "busybox", "true"], store);
      expect(taken.code).toBe(125);
      expect(taken.stderr.trim()).toBe(
        `hull: -p 127.0.0.1:${port}:80: host port ${port} is in use: stop what listens there, or publish on another port`,
      );
    } finally {
      ok(hull(["rm", "-f", "web"], store));
    }
    // gone with the container
    await noHelperLeft();
    expect(await fetch(`http://127.0.0.1:${port}/`).catch(() => "refused")).toBe("refused");
  });

  test("udp through -p, and -P with --expose on a port hull picks", async () => {
    requireUnprivileged();
    if (!hostHas(pasta(), "no pasta on PATH (Debian: passt)")) return;
    const port = freePort();
    const probe = probeBinary();
    // the same port on both sides: Debian 12's pasta (2023-03) loses the answer to a datagram from the
    // host's loopback when the ports differ (from other addresses it maps them); README says so
    const echo = ["-v", `${probe}:/probe:ro`, "busybox", "/probe", "udp-echo", String(port)];
    ok(hull(["run", "-d", "--name", "udp", "-p", `127.0.0.1:${port}:${port}/udp`, ...echo], store));
    try {
      let answer = "";
      // until the echo server listens, a datagram is refused (ICMP): not an error here, the next one goes
      const sock = await Bun.udpSocket({
        socket: {
          data(_s, data) {
            answer = Buffer.from(data).toString();
          },
          error() {},
        },
      });
      for (let i = 0; i < 100 && answer === ""; i++) {
        sock.send("ping over udp", port, "127.0.0.1");
        await Bun.sleep(50);
      }
      sock.close();
      expect(answer).toBe("echo: ping over udp");
    } finally {
      ok(hull(["rm", "-f", "udp"], store));
    }
    const serve = "mkdir /www && echo picked > /www/index.html && exec httpd -f -p 8000 -h /www";
    ok(hull(["run", "-d", "--name", "pub", "-P", "--expose", "8000", "busybox", "sh", "-c", serve], store));
    try {
      const line = ok(hull(["port", "pub"], store)).trim();
      const got = /^8000\/tcp -> 0\.0\.0\.0:(\d+)$/.exec(line);
      expect(got, line).not.toBeNull();
      expect(await fetchRetry(`http://127.0.0.1:${got?.[1]}/`)).toBe("picked\n");
    } finally {
      ok(hull(["rm", "-f", "pub"], store));
    }
  });

  test("the host's loopback: reached through host-gateway when it is named, else not at all", async () => {
    requireUnprivileged();
    if (!hostHas(pasta(), "no pasta on PATH (Debian: passt)")) return;
    const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("host says hi") });
    try {
      const r = await hullAsync(
        [
          "run",
          "--rm",
          "--add-host",
          "host.docker.internal:host-gateway",
          "busybox",
          "sh",
          "-c",
          // the host's loopback is not the container's: 127.0.0.1 there is its own
          `wget -qO- http://host.docker.internal:${server.port}/; echo; wget -qO- -T 2 http://127.0.0.1:${server.port}/ || echo own-loopback`,
        ],
        store,
      );
      expect(r.stdout).toBe("host says hi\nown-loopback\n");
      // without host-gateway named, the gateway address leads nowhere: the host's loopback services
      // are the host's own (rootless docker's default too)
      const shut = await hullAsync(
        [
          "run",
          "--rm",
          "busybox",
          "sh",
          "-c",
          `gw=$(ip route | awk '/^default/ {print $3}'); wget -qO- -T 2 http://$gw:${server.port}/ || echo shut`,
        ],
        store,
      );
      expect(shut.stdout).toBe("shut\n");
    } finally {
      server.stop(true);
    }
  });

  test("stop returns once the published ports are free: the host binds them at once, start gets them back", async () => {
    requireUnprivileged();
    if (!hostHas(pasta(), "no pasta on PATH (Debian: passt)")) return;
    const port = freePort();
    ok(hull(["run", "-d", "--name", "sp", "-p", `127.0.0.1:${port}:80`, "busybox", "sleep", "60"], store));
    try {
      for (let round = 0; round < 3; round++) {
        ok(hull(["stop", "-t", "0", "sp"], store));
        // the container's pasta dies a moment after its supervisor; stop waits for it
        const s = Bun.listen({ hostname: "127.0.0.1", port, socket: { data() {} } });
        s.stop(true);
        ok(hull(["start", "sp"], store));
      }
    } finally {
      ok(hull(["rm", "-f", "sp"], store));
    }
  });

  test("a kill -9 of the hull running a container takes its pasta with it", async () => {
    requireUnprivileged();
    if (!hostHas(pasta(), "no pasta on PATH (Debian: passt)")) return;
    // -p: a pasta of its own (without it, the container goes out through the shared namespace's)
    const p = Bun.spawn([require("./helpers").HULL, "run", "--rm", "-p", "127.0.0.1::80", "busybox", "sleep", "30"], {
      env: { ...process.env, HULL_ROOT: store.root },
      stdout: "ignore",
      stderr: "ignore",
    });
    const own = () => helpers().filter((pid) => readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(store.root));
    try {
      for (let i = 0; i < 200 && own().length === 0; i++) await Bun.sleep(20);
      expect(own().length).toBe(1);
    } finally {
      // a failure above must not leave the container and its pasta for the next tests to find
      p.kill(9);
      await p.exited;
    }
    await noHelperLeft();
    // and the next command finds no container of it
    hull(["ps", "-a"], store);
    expect(containersLeft(store.root)).toEqual([]);
  });

  test("the privileged ports: refused with the sysctl, nothing made", () => {
    requireUnprivileged();
    if (!hostHas(pasta(), "no pasta on PATH (Debian: passt)")) return;
    const start = Number(readFileSync("/proc/sys/net/ipv4/ip_unprivileged_port_start", "utf8"));
    if (!hostHas(start > 80, `this host lets every user bind port 80 (ip_unprivileged_port_start=${start})`)) return;
    const r = hull(["run", "--rm", "-p", "80:80", "busybox", "true"], store);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain("sudo sysctl net.ipv4.ip_unprivileged_port_start=80");
    expect(containersLeft(store.root)).toEqual([]);
    // the address and the protocol kept, in the flag quoted and in the one suggested
    const udp = hull(["run", "--rm", "-p", "127.0.0.1:53:53/udp", "busybox", "true"], store);
    expect(udp.stderr).toContain("-p 127.0.0.1:53:53/udp: host port 53 is below");
    expect(udp.stderr).toContain("(-p 127.0.0.1:8053:53/udp)");
  });
});

test("--dns, --dns-search, --dns-option and --add-host write resolv.conf and hosts", () => {
  requireUnprivileged();
  const out = ok(
    hull(
      [
        "run",
        "--rm",
        "--network",
        "none",
        "--dns",
        "192.0.2.53",
        "--dns-search",
        "corp.example",
        "--dns-option",
        "ndots:2",
        "--add-host",
        "api:10.0.0.5",
        "busybox",
        "cat",
        "/etc/resolv.conf",
        "/etc/hosts",
      ],
      store,
    ),
  );
  expect(out).toContain("nameserver 192.0.2.53\nsearch corp.example\noptions ndots:2\n");
  expect(out).toContain("10.0.0.5\tapi\n");
  const nowhere = hull(["run", "--rm", "--network", "none", "--add-host", "h:host-gateway", "busybox", "true"], store);
  expect(nowhere.code).toBe(125);
  expect(nowhere.stderr).toContain("the container has no way to the host (--network none");
  const bad = hull(["run", "--rm", "--add-host", "api", "busybox", "true"], store);
  expect(bad.code).toBe(125);
  expect(bad.stderr.trim()).toBe(
    "hull: --add-host takes HOST:IP (db:10.0.0.5, or host.docker.internal:host-gateway), not api",
  );
});

test("without pasta: the default is --network none with one line saying so; -p and pasta are refused", () => {
  requireUnprivileged();
  // a PATH without pasta: hull looks for it on PATH only
  const env = { PATH: "/nonexistent" };
  const r = hull(["run", "--rm", "busybox", "ls", "/sys/class/net"], { ...store, env });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout.trim()).toBe("lo");
  expect(r.stderr.trim()).toBe(
    "hull: no pasta here, so the container has no network but lo (--network none): install pasta (Debian and Ubuntu: sudo apt-get install passt; Fedora: sudo dnf install passt)",
  );
  const p = hull(["run", "--rm", "--network", "pasta", "busybox", "true"], { ...store, env });
  expect(p.code).toBe(125);
  expect(p.stderr).toContain("--network pasta needs pasta: install pasta");
  const refused = hull(["run", "--rm", "-p", "8080:80", "busybox", "true"], { ...store, env });
  expect(refused.code).toBe(125);
  expect(refused.stderr).toContain("hull: -p needs pasta, which publishes ports rootless: install pasta");
  const doctor = hull(["doctor"], { ...store, env });
  expect(doctor.stdout).toContain("neither pasta nor slirp4netns on PATH");
  // docker drops -p under --network none with a warning, and runs the container
  const none = hull(["run", "--rm", "--network", "none", "-p", "8080:80", "busybox", "true"], store);
  expect(none.code).toBe(0);
  expect(none.stderr.trim()).toBe("WARNING: Published ports are discarded when using none network mode");
});

test("the host's resolvers on its loopback: pasta forwards DNS from 169.254.1.1, slirp4netns from 10.0.2.3", () => {
  const resolved = "nameserver 127.0.0.53\noptions edns0\nsearch lan\n";
  const viaPasta = nameFiles({}, () => undefined, DNS_FORWARDER, resolved);
  expect(viaPasta.resolv).toBe("options edns0\nsearch lan\nnameserver 169.254.1.1\n");
  expect(viaPasta.dnsForward).toBe(true);
  expect(nameFiles({}, () => undefined, "10.0.2.3", "nameserver ::1\n").resolv).toBe("nameserver 10.0.2.3\n");
  // a resolver the container can reach stays; --dns wins; no helper (--network none), no forwarder
  for (const [names, forwarder, host] of [
    [{}, DNS_FORWARDER, "nameserver 10.0.0.1\nnameserver 127.0.0.53\n"],
    [{ dns: ["192.0.2.53"] }, DNS_FORWARDER, resolved],
    [{}, undefined, resolved],
  ] as [NameOptions, string | undefined, string][]) {
    const f = nameFiles(names, () => undefined, forwarder, host);
    expect(f.dnsForward).toBe(false);
    expect(f.resolv).not.toContain("169.254.1.1");
  }
  expect(loopbackResolvers("search lan\n")).toBe(false);
});

test("slirp4netns where pasta is missing: the default network, -p, doctor says so; its options checked", async () => {
  requireUnprivileged();
  const slirp = Bun.which("slirp4netns");
  if (!hostHas(slirp !== null, "no slirp4netns on PATH (Debian: slirp4netns)")) return;
  // a PATH with slirp4netns and no pasta
  const bin = mkdtempSync(join(tmpdir(), "hull-path-"));
  symlinkSync(slirp as string, join(bin, "slirp4netns"));
  const env = { PATH: bin };
  try {
    const out = ok(hull(["run", "--rm", "busybox", "ip", "-4", "addr", "show", "eth0"], { ...store, env }));
    expect(out).toContain("inet 10.0.2.100/24");
    const port = freePort();
    const id = ok(
      hull(["run", "-d", "-p", `127.0.0.1:${port}:80`, "busybox", "httpd", "-f", "-p", "80", "-h", "/etc"], {
        ...store,
        env,
      }),
    ).trim();
    expect(await fetchRetry(`http://127.0.0.1:${port}/hostname`)).toBe(`${id.slice(0, 12)}\n`);
    ok(hull(["rm", "-f", id], store));
    // rm -f returns once the helper is gone: a script's next run can publish the same port
    expect(userProcesses((n) => n === "slirp4netns")).toEqual([]);
    const again = hull(["run", "-d", "-p", `127.0.0.1:${port}:80`, "busybox", "true"], { ...store, env });
    expect(again.stderr).toBe("");
    ok(hull(["rm", "-f", again.stdout.trim()], store));
    expect(ok(hull(["doctor"], { ...store, env }))).toMatch(/ok +rootless networking +slirp4netns/);
    const bad = hull(["run", "--rm", "--network", "slirp4netns:cidr=10.9.0.0/24", "busybox", "true"], store);
    expect(bad.code).toBe(125);
    expect(bad.stderr).toContain("--network slirp4netns:cidr=10.9.0.0/24 is not supported");
    // asked for by name, with pasta there too
    expect(
      ok(
        hull(["run", "--rm", "--network", "slirp4netns:mtu=1500", "busybox", "cat", "/sys/class/net/eth0/mtu"], store),
      ),
    ).toBe("1500\n");
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
});

test("/etc/hosts names the container by host name and name at its address; --network host has the host's name", () => {
  requireUnprivileged();
  if (!hostHas(pasta(), "pasta is not installed")) return;
  // the default network: its address on hull0, as podman writes it (only the host name before)
  const hosts = ok(
    hull(["run", "--rm", "--name", "named-one", "--hostname", "box", "busybox", "cat", "/etc/hosts"], store),
  );
  expect(hosts).toMatch(/^10\.88\.\d+\.\d+\tbox named-one$/m);
  const none = ok(
    hull(["run", "--rm", "--network", "none", "--name", "named-two", "busybox", "cat", "/etc/hosts"], store),
  );
  expect(none).toMatch(/^127\.0\.1\.1\t[0-9a-f]{12} named-two$/m);
  const host = readFileSync("/proc/sys/kernel/hostname", "utf8").trim();
  expect(ok(hull(["run", "--rm", "--network", "host", "busybox", "hostname"], store)).trim()).toBe(host);
});

test("--network pasta: OPTIONS' own ports replace hull's none; a bad option is pasta's own line", () => {
  requireUnprivileged();
  if (!hostHas(pasta(), "pasta is not installed")) return;
  // pasta refused "-t 9500" beside the "-t none" hull added
  for (const opts of ["pasta:-t,19500", "pasta:-T,13000,-u,19501", "pasta:--tcp-ports=19502"]) {
    const r = hull(["run", "--rm", "--network", opts, "busybox", "true"], store);
    expect(r.code, `${opts}: ${r.stderr}`).toBe(0);
  }
  const bad = hull(["run", "--rm", "--network", "pasta:--bogus", "busybox", "true"], store);
  expect(bad.code).toBe(125);
  expect(bad.stderr).toContain("unrecognized option '--bogus'");
  expect(bad.stderr.trim().split("\n")).toHaveLength(1);
});

test("a UDP host port in use is refused at run as a TCP one is; start refuses a port taken since create", async () => {
  requireUnprivileged();
  if (!hostHas(pasta(), "pasta is not installed")) return;
  const before = containersLeft(store.root);
  // a host process on the UDP port: pasta's own refusal used to come back raw, with the container left
  const port = freePort();
  const held = await Bun.udpSocket({ hostname: "127.0.0.1", port });
  try {
    const r = hull(["run", "--rm", "-p", `127.0.0.1:${port}:${port}/udp`, "busybox", "true"], store);
    expect(r.code).toBe(125);
    expect(r.stderr.trim()).toBe(
      `hull: -p 127.0.0.1:${port}:${port}/udp: host port ${port} is in use: stop what listens there, or publish on another port`,
    );
  } finally {
    held.close();
  }
  expect(containersLeft(store.root)).toEqual(before);
  // another container on it: the second one used to start and take the first one's datagrams
  const udp = freePort();
  ok(hull(["run", "-d", "--name", "udp-one", "-p", `${udp}:${udp}/udp`, "busybox", "sleep", "60"], store));
  try {
    const second = hull(["run", "--rm", "-p", `${udp}:${udp}/udp`, "busybox", "true"], store);
    expect(second.code).toBe(125);
    expect(second.stderr).toContain(`host port ${udp} is in use`);
  } finally {
    ok(hull(["rm", "-f", "udp-one"], store));
  }
  // start: the port was free at create and is taken now
  const tcp = freePort();
  ok(hull(["create", "--name", "late-start", "-p", `127.0.0.1:${tcp}:80`, "busybox", "sleep", "60"], store));
  const server = Bun.listen({ hostname: "127.0.0.1", port: tcp, socket: { data() {} } });
  try {
    // docker's start says 1 when a container cannot start
    const r = hull(["start", "late-start"], store);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      `hull: container late-start: host port 127.0.0.1:${tcp}/tcp, which it publishes, is in use: stop what listens there (hull ps shows the containers that publish it)`,
    );
  } finally {
    server.stop(true);
  }
  ok(hull(["start", "late-start"], store));
  ok(hull(["rm", "-f", "late-start"], store));
});

test("-p with a host range and one container port takes the first free port of the range", () => {
  requireUnprivileged();
  if (!hostHas(pasta(), "pasta is not installed")) return;
  const first = freePort();
  const held = Bun.listen({ hostname: "127.0.0.1", port: first, socket: { data() {} } });
  try {
    const spec = `127.0.0.1:${first}-${first + 5}:80`;
    ok(hull(["run", "-d", "--name", "ranged", "-p", spec, "busybox", "sleep", "60"], store));
    const got = Number(
      ok(hull(["port", "ranged", "80"], store))
        .trim()
        .split(":")
        .pop(),
    );
    expect(got).toBeGreaterThan(first);
    expect(got).toBeLessThanOrEqual(first + 5);
    // the record keeps the port it got, not the range
    const inspect = JSON.parse(ok(hull(["inspect", "ranged"], store)))[0];
    expect(inspect.NetworkSettings.Ports["80/tcp"]).toEqual([{ HostIp: "127.0.0.1", HostPort: String(got) }]);
  } finally {
    held.stop(true);
    hull(["rm", "-f", "ranged"], store);
  }
});

test("-p: a range leaves the ports other -p name to them; a bad address is named; rename reaches the hosts line", () => {
  requireUnprivileged();
  if (!hostHas(pasta(), "pasta is not installed")) return;
  const p = freePort();
  // 20000 named outright and 20000-20001 as a range: the range takes 20001 (pasta refused the overlap)
  ok(
    hull(
      [
        "run",
        "-d",
        "--name",
        "two-maps",
        "-p",
        `127.0.0.1:${p}:80`,
        "-p",
        `127.0.0.1:${p}-${p + 1}:81`,
        "busybox",
        "sleep",
        "60",
      ],
      store,
    ),
  );
  try {
    expect(ok(hull(["port", "two-maps", "81"], store)).trim()).toBe(`127.0.0.1:${p + 1}`);
    // rename: the container's own /etc/hosts line follows (it kept the old name)
    ok(hull(["rename", "two-maps", "two-maps-renamed"], store));
    expect(ok(hull(["exec", "two-maps-renamed", "cat", "/etc/hosts"], store))).not.toContain("two-maps\n");
  } finally {
    hull(["rm", "-f", "two-maps", "two-maps-renamed"], store);
  }
  // two ranges over the same ports: each gets one of its own, as docker gives them
  ok(
    hull(
      ["run", "--rm", "-p", `127.0.0.1:${p}-${p + 1}:80`, "-p", `127.0.0.1:${p}-${p + 1}:81`, "busybox", "true"],
      store,
    ),
  );
  for (const bad of ["999.1.1.1", "1.2.3", "127.1", "127.0.0.01"]) {
    const r = hull(["run", "--rm", "-p", `${bad}:${p}:80/udp`, "busybox", "true"], store);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain(`${bad} is not an IP address`);
  }
});
