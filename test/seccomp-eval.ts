// A classic BPF interpreter for seccomp programs, so tests can run compiled profiles without loading them.
// It checks what the kernel's seccomp_check_filter would: aligned loads inside seccomp_data, jumps that
// land inside the program, and no falling off its end.

export interface SeccompData {
  nr: number;
  arch: number;
  /** up to six 64-bit arguments; missing ones are 0 */
  args?: bigint[];
}

export interface Verdict {
  action: "allow" | "errno" | "kill" | "trap" | "trace" | "log";
  errno?: number;
}

const SIZEOF_SECCOMP_DATA = 64;

function seccompData({ nr, arch, args = [] }: SeccompData): DataView {
  const view = new DataView(new ArrayBuffer(SIZEOF_SECCOMP_DATA));
  view.setInt32(0, nr, true);
  view.setUint32(4, arch, true);
  for (const [i, arg] of args.entries()) view.setBigUint64(16 + 8 * i, BigInt.asUintN(64, arg), true);
  return view;
}

function verdict(ret: number): Verdict {
  const data = ret & 0xffff;
  switch ((ret & 0xffff0000) >>> 0) {
    case 0x7fff0000:
      return { action: "allow" };
    case 0x00050000:
      return { action: "errno", errno: data };
    case 0x7ffc0000:
      return { action: "log" };
    case 0x7ff00000:
      return { action: "trace" };
    case 0x00030000:
      return { action: "trap" };
    default:
      // RET_KILL_THREAD (0), RET_KILL_PROCESS, and whatever the kernel does not know
      return { action: "kill" };
  }
}

export function evaluate(program: Uint8Array, input: SeccompData): Verdict {
  if (program.length === 0 || program.length % 8 !== 0) throw new Error(`bad program length ${program.length}`);
  const code = new DataView(program.buffer, program.byteOffset, program.byteLength);
  const data = seccompData(input);
  const count = program.length / 8;
  let a = 0;
  let x = 0;
  for (let pc = 0; pc < count; pc++) {
    const op = code.getUint16(pc * 8, true);
    const jt = code.getUint8(pc * 8 + 2);
    const jf = code.getUint8(pc * 8 + 3);
    const k = code.getUint32(pc * 8 + 4, true);
    const jump = (offset: number) => {
      if (pc + 1 + offset >= count) throw new Error(`jump out of the program at ${pc}`);
      pc += offset;
    };
    const src = op & 0x08 ? x : k; // BPF_X or BPF_K
    switch (op) {
      case 0x20: // ld [k]
        if (k % 4 !== 0 || k >= SIZEOF_SECCOMP_DATA) throw new Error(`bad load offset ${k} at ${pc}`);
        a = data.getUint32(k, true);
        break;
      case 0x00: // ld #k
        a = k;
        break;
      case 0x01: // ldx #k
        x = k;
        break;
      case 0x07: // tax
        x = a;
        break;
      case 0x87: // txa
        a = x;
        break;
      case 0x04:
      case 0x0c: // add
        a = (a + src) >>> 0;
        break;
      case 0x14:
      case 0x1c: // sub
        a = (a - src) >>> 0;
        break;
      case 0x44:
      case 0x4c: // or
        a = (a | src) >>> 0;
        break;
      case 0x54:
      case 0x5c: // and
        a = (a & src) >>> 0;
        break;
      case 0x64:
      case 0x6c: // lsh
        a = src >= 32 ? 0 : (a << src) >>> 0;
        break;
      case 0x74:
      case 0x7c: // rsh
        a = src >= 32 ? 0 : a >>> src;
        break;
      case 0x05: // ja
        jump(k);
        break;
      case 0x15:
      case 0x1d: // jeq
        jump(a === src ? jt : jf);
        break;
      case 0x25:
      case 0x2d: // jgt
        jump(a > src ? jt : jf);
        break;
      case 0x35:
      case 0x3d: // jge
        jump(a >= src ? jt : jf);
        break;
      case 0x45:
      case 0x4d: // jset
        jump((a & src) !== 0 ? jt : jf);
        break;
      case 0x06: // ret #k
        return verdict(k);
      case 0x16: // ret a
        return verdict(a);
      default:
        throw new Error(`unsupported BPF opcode 0x${op.toString(16)} at ${pc}`);
    }
  }
  throw new Error("the program ran off its end");
}
