import { expect, test } from "bun:test";
import { ABI } from "../src/runtime/abi";
import { encodeMessage, type ShimSpec } from "../src/runtime/message";

const spec: ShimSpec = {
  argv: ["sh", "-c", "echo ü"],
  env: ["A=1", "B="],
  cwd: "/w",
  uid: 1000,
  gid: 1001,
  groups: [5, 10],
  hostname: "h",
  nsFlags: 0x6c020000,
  uidMap: "0 1000 1",
  gidMap: "0 1000 1",
  uidMapProg: "",
  gidMapProg: "",
  rootfs: "/r",
  overlay: "lowerdir=/l,upperdir=/u,workdir=/w",
  fuseProg: "",
  overlayMode: 0,
  cleanup: ["/c"],
  flags: ABI.HULL_FLAG_TTY | ABI.HULL_FLAG_STDIN,
  steps: [{ op: ABI.HULL_STEP_MOUNT, flags: 4096, src: "/s", dst: "/d", fstype: "", data: "" }],
};

/** A reader written from abi.h's description, independent of the encoder. */
function decode(buf: Uint8Array): Array<[number, Uint8Array]> {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  expect(dv.getUint32(0, true)).toBe(ABI.HULL_ABI_MAGIC);
  expect(dv.getUint32(4, true)).toBe(ABI.HULL_ABI_VERSION);
  expect(dv.getUint32(8, true)).toBe(buf.length);
  const out: Array<[number, Uint8Array]> = [];
  for (let off = 12; off < buf.length; ) {
    const type = dv.getUint16(off, true);
    const len = dv.getUint32(off + 4, true);
    out.push([type, buf.subarray(off + 8, off + 8 + len)]);
    off += 8 + len;
  }
  return out;
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

test("records carry NUL-terminated strings and little-endian u32s in order", () => {
  const recs = decode(encodeMessage(spec));
  const args = recs.filter(([t]) => t === ABI.HULL_REC_ARG).map(([, d]) => text(d));
  expect(args).toEqual(["sh\0", "-c\0", "echo ü\0"]);
  const uid = recs.find(([t]) => t === ABI.HULL_REC_UID)?.[1];
  expect(new DataView(uid!.buffer, uid!.byteOffset).getUint32(0, true)).toBe(1000);
  const groups = recs.filter(([t]) => t === ABI.HULL_REC_GROUP).length;
  expect(groups).toBe(2);
  expect(recs.some(([t]) => t === ABI.HULL_REC_UIDMAP_PROG)).toBe(false);
});

test("a step is op, flags, then four NUL-terminated fields", () => {
  const step = decode(encodeMessage(spec)).find(([t]) => t === ABI.HULL_REC_STEP)?.[1] ?? new Uint8Array(12);
  const dv = new DataView(step.buffer, step.byteOffset, step.byteLength);
  expect(dv.getUint32(0, true)).toBe(ABI.HULL_STEP_MOUNT);
  expect(dv.getUint32(4, true)).toBe(4096);
  expect(text(step.subarray(8))).toBe("/s\0/d\0\0\0");
});

test("a NUL inside a value is refused rather than silently truncating it", () => {
  expect(() => encodeMessage({ ...spec, argv: ["a\0b"] })).toThrow(/NUL/);
});
