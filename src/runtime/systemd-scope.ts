// A scope of the user's systemd manager for this very process, with its cgroup delegated to the
// user: what `systemd-run --user --scope -p Delegate=yes` makes, asked for as podman asks, over
// D-Bus (Manager.StartTransientUnit with PIDs=[this process]). It is spoken straight to the
// manager's private socket ($XDG_RUNTIME_DIR/systemd/private, no bus daemon in between) with the
// few bytes of the wire protocol that call needs, synchronously: no second process, no exec of
// hull again, and stdin untouched. systemd moves the process; hull waits until /proc says so.
import { close, type Fd, readFileText, readSome, unixConnect, writeAll } from "../sys/libc";

type Value = { sig: "s"; v: string } | { sig: "b"; v: boolean } | { sig: "au"; v: number[] };

/** D-Bus's little-endian marshalling: every value aligned to its size from the message's start. */
class Marshal {
  private b: number[] = [];
  get length(): number {
    return this.b.length;
  }
  align(n: number): void {
    while (this.b.length % n) this.b.push(0);
  }
  u8(v: number): void {
    this.b.push(v & 255);
  }
  u32(v: number): void {
    this.align(4);
    this.b.push(v & 255, (v >>> 8) & 255, (v >>> 16) & 255, (v >>> 24) & 255);
  }
  /** s and o: length, bytes, NUL */
  str(s: string): void {
    const e = Buffer.from(s);
    this.u32(e.length);
    this.b.push(...e, 0);
  }
  /** g: a signature, its length in one byte */
  sig(s: string): void {
    this.u8(s.length);
    this.b.push(...Buffer.from(s), 0);
  }
  /** an array: its length in bytes first, counted from its first element's (aligned) start */
  array(elementAlign: number, fill: () => void): void {
    this.u32(0);
    const at = this.b.length - 4;
    this.align(elementAlign);
    const start = this.b.length;
    fill();
    const n = this.b.length - start;
    this.b.splice(at, 4, n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255);
  }
  value(x: Value): void {
    if (x.sig === "s") this.str(x.v);
    else if (x.sig === "b") this.u32(x.v ? 1 : 0);
    else
      this.array(4, () => {
        for (const n of x.v) this.u32(n);
      });
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.b);
  }
}

const METHOD_CALL = 1;
const ERROR = 3;
const SERIAL = 1;

/** A call of org.freedesktop.systemd1.Manager.StartTransientUnit(NAME, "fail", PROPS, []). */
function startTransientUnit(name: string, props: [string, Value][]): Uint8Array {
  const body = new Marshal();
  body.str(name);
  body.str("fail");
  body.array(8, () => {
    for (const [key, value] of props) {
      body.align(8);
      body.str(key);
      body.sig(value.sig);
      body.value(value);
    }
  });
  body.array(8, () => {});
  const h = new Marshal();
  for (const c of "l") h.u8(c.charCodeAt(0));
  h.u8(METHOD_CALL);
  h.u8(0);
  h.u8(1);
  h.u32(body.length);
  h.u32(SERIAL);
  const field = (code: number, sig: "o" | "s" | "g", v: string) => {
    h.align(8);
    h.u8(code);
    h.sig(sig);
    if (sig === "g") h.sig(v);
    else h.str(v);
  };
  h.array(8, () => {
    field(1, "o", "/org/freedesktop/systemd1");
    field(2, "s", "org.freedesktop.systemd1.Manager");
    field(3, "s", "StartTransientUnit");
    field(6, "s", "org.freedesktop.systemd1");
    field(8, "g", "ssa(sv)a(sa(sv))");
  });
  h.align(8);
  return Buffer.concat([h.bytes(), body.bytes()]);
}

interface Reply {
  type: number;
  replySerial?: number;
  errorName?: string;
  /** an error's message: its body's first string */
  message?: string;
}

/** One message from the front of BUF: it and its length, or undefined while incomplete. */
function parseMessage(buf: Buffer): [Reply, number] | undefined {
  if (buf.length < 16) return undefined;
  if (buf[0] !== 0x6c) throw new Error("systemd answered in big-endian D-Bus, which hull does not read");
  const bodyLength = buf.readUInt32LE(4);
  const fieldsLength = buf.readUInt32LE(12);
  const bodyStart = Math.ceil((16 + fieldsLength) / 8) * 8;
  const total = bodyStart + bodyLength;
  if (buf.length < total) return undefined;
  const reply: Reply = { type: buf[1] as number };
  let at = 16;
  const align = (n: number) => {
    at = Math.ceil(at / n) * n;
  };
  const str = () => {
    align(4);
    const n = buf.readUInt32LE(at);
    const s = buf.toString("utf8", at + 4, at + 4 + n);
    at += 4 + n + 1;
    return s;
  };
  let signature = "";
  while (at < 16 + fieldsLength) {
    align(8);
    const code = buf[at] as number;
    const sigLength = buf[at + 1] as number;
    const sig = buf.toString("latin1", at + 2, at + 2 + sigLength);
    at += 2 + sigLength + 1;
    if (sig === "u") {
      align(4);
      if (code === 5) reply.replySerial = buf.readUInt32LE(at);
      at += 4;
    } else if (sig === "g") {
      const n = buf[at] as number;
      if (code === 8) signature = buf.toString("latin1", at + 1, at + 1 + n);
      at += 1 + n + 1;
    } else if (sig === "s" || sig === "o") {
      const s = str();
      if (code === 4) reply.errorName = s;
    } else throw new Error(`systemd sent a D-Bus header field of type ${sig}, which hull does not read`);
  }
  if (reply.type === ERROR && signature.startsWith("s") && bodyLength > 0) {
    at = bodyStart;
    reply.message = str();
  }
  return [reply, total];
}

/** The exchange: EXTERNAL authentication as this uid, then the call, then its reply. */
function call(socket: string, message: Uint8Array): Reply {
  const fd: Fd = unixConnect(socket, 5000);
  try {
    const uid = Buffer.from(String(process.getuid?.() ?? 0)).toString("hex");
    writeAll(fd, Buffer.from(`\0AUTH EXTERNAL ${uid}\r\n`));
    let got = Buffer.alloc(0);
    const chunk = new Uint8Array(4096);
    const more = () => {
      const n = readSome(fd, chunk);
      if (n === 0) throw new Error("systemd closed its D-Bus socket mid-exchange");
      got = Buffer.concat([got, chunk.subarray(0, n)]);
    };
    while (!got.includes("\r\n")) more();
    const line = got.toString("latin1", 0, got.indexOf("\r\n"));
    if (!line.startsWith("OK ")) throw new Error(`systemd refused hull on its D-Bus socket: ${line}`);
    got = got.subarray(got.indexOf("\r\n") + 2);
    writeAll(fd, Buffer.concat([Buffer.from("BEGIN\r\n"), message]));
    for (;;) {
      const parsed = parseMessage(got);
      if (!parsed) {
        more();
        continue;
      }
      const [reply, length] = parsed;
      got = got.subarray(length);
      if (reply.replySerial === SERIAL) return reply;
    }
  } finally {
    close(fd);
  }
}

/**
 * Move this process into a new scope UNIT of the user's systemd manager, in SLICE when given, its
 * cgroup delegated; returns once the kernel has it there. Throws with systemd's words when refused.
 */
export function moveIntoScope(socket: string, unit: string, slice?: string): void {
  const props: [string, Value][] = [
    ["Description", { sig: "s", v: "hull: a container and its supervisor" }],
    ["PIDs", { sig: "au", v: [process.pid] }],
    ["Delegate", { sig: "b", v: true }],
    // gone when its last process is, failed or not
    ["CollectMode", { sig: "s", v: "inactive-or-failed" }],
  ];
  if (slice) props.push(["Slice", { sig: "s", v: slice }]);
  const reply = call(socket, startTransientUnit(unit, props));
  if (reply.type === ERROR)
    throw new Error(`systemd refused hull a scope (${reply.errorName ?? "an error"}: ${reply.message ?? ""})`);
  // the reply names the job; the move is the job's, done at once but not always before the reply
  for (let i = 0; i < 2000; i++) {
    if ((readFileText("/proc/self/cgroup") ?? "").trimEnd().endsWith(`/${unit}`)) return;
    Bun.sleepSync(1);
  }
  throw new Error(`systemd made the scope ${unit} but did not move hull into it within 2 s`);
}
