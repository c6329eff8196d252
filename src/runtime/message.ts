// Encodes the setup message of ffi/abi.h: a 12-byte header, then records [u16 type][u16 0][u32 len][data].
import { ABI } from "./abi";
import type { Step } from "./plan";

export interface ShimSpec {
  argv: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  groups: number[];
  hostname: string;
  nsFlags: number;
  uidMap: string;
  gidMap: string;
  uidMapProg: string;
  gidMapProg: string;
  rootfs: string;
  /** overlay options without the mount point ("lowerdir=..,upperdir=..,workdir=.."), or "" to bind rootfs */
  overlay: string;
  fuseProg: string;
  overlayMode: number;
  /** directory the shim removes once the container is gone ("" keeps everything) */
  cleanup: string;
  flags: number;
  steps: Step[];
}

const enc = new TextEncoder();

export function encodeMessage(s: ShimSpec): Uint8Array {
  const parts: Uint8Array[] = [];
  let total = 12;
  const rec = (type: number, data: Uint8Array) => {
    const head = new Uint8Array(8);
    const dv = new DataView(head.buffer);
    dv.setUint16(0, type, true);
    dv.setUint32(4, data.length, true);
    parts.push(head, data);
    total += 8 + data.length;
  };
  const str = (type: number, value: string) => {
    if (value.includes("\0")) throw new Error(`NUL byte in ${JSON.stringify(value)}`);
    rec(type, enc.encode(`${value}\0`));
  };
  const u32 = (type: number, value: number) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, value >>> 0, true);
    rec(type, b);
  };
  for (const a of s.argv) str(ABI.HULL_REC_ARG, a);
  for (const e of s.env) str(ABI.HULL_REC_ENV, e);
  str(ABI.HULL_REC_CWD, s.cwd);
  u32(ABI.HULL_REC_UID, s.uid);
  u32(ABI.HULL_REC_GID, s.gid);
  for (const g of s.groups) u32(ABI.HULL_REC_GROUP, g);
  str(ABI.HULL_REC_HOSTNAME, s.hostname);
  u32(ABI.HULL_REC_NSFLAGS, s.nsFlags);
  str(ABI.HULL_REC_UIDMAP, s.uidMap);
  str(ABI.HULL_REC_GIDMAP, s.gidMap);
  if (s.uidMapProg) str(ABI.HULL_REC_UIDMAP_PROG, s.uidMapProg);
  if (s.gidMapProg) str(ABI.HULL_REC_GIDMAP_PROG, s.gidMapProg);
  str(ABI.HULL_REC_ROOTFS, s.rootfs);
  if (s.overlay) str(ABI.HULL_REC_OVERLAY, s.overlay);
  if (s.fuseProg) str(ABI.HULL_REC_FUSE_PROG, s.fuseProg);
  u32(ABI.HULL_REC_OVERLAY_MODE, s.overlayMode);
  if (s.cleanup) str(ABI.HULL_REC_CLEANUP, s.cleanup);
  u32(ABI.HULL_REC_FLAGS, s.flags);
  for (const st of s.steps) {
    const strs = enc.encode(`${st.src}\0${st.dst}\0${st.fstype}\0${st.data}\0`);
    const b = new Uint8Array(8 + strs.length);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, st.op, true);
    dv.setUint32(4, st.flags >>> 0, true);
    b.set(strs, 8);
    rec(ABI.HULL_REC_STEP, b);
  }
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, ABI.HULL_ABI_MAGIC, true);
  dv.setUint32(4, ABI.HULL_ABI_VERSION, true);
  dv.setUint32(8, total, true);
  let off = 12;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
