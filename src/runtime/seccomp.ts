// Seccomp profiles in Docker's JSON format (moby profiles/seccomp), compiled to the classic BPF program
// prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER) loads, without libseccomp. The rule selection follows
// moby (includes/excludes by capability, arch and kernel), the runtime behaviour follows runc (ENOSYS
// above the highest syscall the profile knows, rules equal to the default action dropped).
import * as v from "valibot";
import { lazily } from "../sys/lazy-schema";
import { SYSCALLS } from "./syscalls";

export type SeccompArch = keyof typeof SYSCALLS;

export const ACTIONS = [
  "SCMP_ACT_ALLOW",
  "SCMP_ACT_ERRNO",
  "SCMP_ACT_KILL",
  "SCMP_ACT_KILL_THREAD",
  "SCMP_ACT_KILL_PROCESS",
  "SCMP_ACT_TRAP",
  "SCMP_ACT_TRACE",
  "SCMP_ACT_LOG",
] as const;
export const OPS = [
  "SCMP_CMP_NE",
  "SCMP_CMP_LT",
  "SCMP_CMP_LE",
  "SCMP_CMP_EQ",
  "SCMP_CMP_GE",
  "SCMP_CMP_GT",
  "SCMP_CMP_MASKED_EQ",
] as const;
type Action = (typeof ACTIONS)[number];

const ActionSchema = lazily(() =>
  v.picklist(ACTIONS, (issue) => `unsupported seccomp action ${issue.received}, expected one of ${ACTIONS.join(", ")}`),
);
// RET_DATA is 16 bits; the kernel caps an errno at 4095 itself.
const RetData = lazily(() => v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(0xffff)));
// Go reads these as uint64; JSON.parse keeps integers exact only up to 2^53.
const U64 = lazily(() =>
  v.pipe(
    v.number(),
    v.safeInteger("argument values must be integers below 2^53 (JSON numbers lose precision above)"),
    v.minValue(0),
  ),
);
const Filter = lazily(() =>
  v.object({
    caps: v.nullish(v.array(v.string())),
    arches: v.nullish(v.array(v.string())),
    minKernel: v.nullish(v.pipe(v.string(), v.regex(/^(\d+\.\d+)?$/, 'minKernel must look like "4.8"'))),
  }),
);
const Arg = lazily(() =>
  v.object({
    index: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(5)),
    value: U64,
    valueTwo: v.nullish(U64),
    op: v.picklist(OPS, (issue) => `unsupported seccomp operator ${issue.received}, expected one of ${OPS.join(", ")}`),
  }),
);
const Syscall = lazily(() =>
  v.pipe(
    v.object({
      names: v.nullish(v.array(v.string())),
      /** moby's older single-name form */
      name: v.nullish(v.string()),
      action: ActionSchema,
      errnoRet: v.nullish(RetData),
      args: v.nullish(v.array(Arg)),
      comment: v.nullish(v.string()),
      includes: v.nullish(Filter),
      excludes: v.nullish(Filter),
    }),
    v.check((s) => !(s.name && s.names?.length), "a syscall rule has both name and names"),
  ),
);

/** Docker's seccomp profile JSON (`--security-opt seccomp=FILE.json`); fields hull does not use pass through. */
export const SeccompProfileSchema = lazily(() =>
  v.looseObject({
    defaultAction: ActionSchema,
    defaultErrnoRet: v.nullish(RetData),
    architectures: v.nullish(v.array(v.string())),
    archMap: v.nullish(
      v.array(v.object({ architecture: v.string(), subArchitectures: v.nullish(v.array(v.string())) })),
    ),
    syscalls: v.nullish(v.array(Syscall)),
  }),
);

export type SeccompProfile = v.InferOutput<typeof SeccompProfileSchema>;
type SyscallRule = v.InferOutput<typeof Syscall>;
type ArgRule = v.InferOutput<typeof Arg>;

export interface SeccompOptions {
  arch: SeccompArch;
  /** the container's bounding set, e.g. "CAP_SYS_ADMIN" */
  caps: ReadonlySet<string>;
  /** host kernel [major, minor] for minKernel rules; when absent, every minKernel counts as met */
  kernel?: readonly [number, number];
}

const EPERM = 1;
const ENOSYS = 38;
const BPF_MAXINSNS = 4096;
const AUDIT_ARCH: Record<SeccompArch, number> = { x86_64: 0xc000003e, aarch64: 0xc00000b7 };
// The arch names moby matches includes.arches/excludes.arches against (libseccomp's, from GOARCH).
const PROFILE_ARCH: Record<SeccompArch, string> = { x86_64: "amd64", aarch64: "arm64" };
// x32 syscalls arrive on AUDIT_ARCH_X86_64 with this bit set in nr (__X32_SYSCALL_BIT).
const X32_SYSCALL_BIT = 0x40000000;

const RET_KILL_PROCESS = 0x80000000;
const RET_KILL_THREAD = 0;
const RET_TRAP = 0x00030000;
const RET_ERRNO = 0x00050000;
const RET_TRACE = 0x7ff00000;
const RET_LOG = 0x7ffc0000;
const RET_ALLOW = 0x7fff0000;

const LD_W_ABS = 0x20;
const ALU_AND_K = 0x54;
const JA = 0x05;
const JEQ = 0x15;
const JGT = 0x25;
const JGE = 0x35;
const JSET = 0x45;
const RET_K = 0x06;

// offsetof(struct seccomp_data, ...); args[] are u64, low word first on these little-endian arches
const OFF_NR = 0;
const OFF_ARCH = 4;
const argLow = (i: number) => 16 + 8 * i;
const argHigh = (i: number) => 16 + 8 * i + 4;

function ret(action: Action, data: number): number {
  switch (action) {
    case "SCMP_ACT_ALLOW":
      return RET_ALLOW;
    case "SCMP_ACT_ERRNO":
      return RET_ERRNO | data;
    // runc passes errnoRet (default EPERM) as the value a tracer reads with PTRACE_GETEVENTMSG
    case "SCMP_ACT_TRACE":
      return RET_TRACE | data;
    case "SCMP_ACT_KILL":
    case "SCMP_ACT_KILL_THREAD":
      return RET_KILL_THREAD;
    case "SCMP_ACT_KILL_PROCESS":
      return RET_KILL_PROCESS;
    case "SCMP_ACT_TRAP":
      return RET_TRAP;
    case "SCMP_ACT_LOG":
      return RET_LOG;
  }
}

const atLeast = (kernel: readonly [number, number] | undefined, min: string): boolean => {
  if (!kernel) return true;
  const [major, minor] = min.split(".").map(Number) as [number, number];
  return kernel[0] > major || (kernel[0] === major && kernel[1] >= minor);
};

/** moby's setupSeccomp: whether a rule is part of the profile for this container and host. */
function applies(rule: SyscallRule, { arch, caps, kernel }: SeccompOptions): boolean {
  const name = PROFILE_ARCH[arch];
  const ex = rule.excludes;
  if (ex?.arches?.includes(name)) return false;
  if (ex?.caps?.some((c) => caps.has(c))) return false;
  if (ex?.minKernel && atLeast(kernel, ex.minKernel)) return false;
  const inc = rule.includes;
  if (inc?.arches?.length && !inc.arches.includes(name)) return false;
  if (inc?.caps?.some((c) => !caps.has(c))) return false;
  if (inc?.minKernel && !atLeast(kernel, inc.minKernel)) return false;
  return true;
}

// The program is built with symbolic jump targets, then laid out; see layout().
interface Label {
  at: number;
}
interface Insn {
  code: number;
  k: number;
  /** for JA, the target */
  jt?: Label;
  jf?: Label;
}
type Item = Insn | Label;
const isLabel = (item: Item): item is Label => "at" in item;
const label = (): Label => ({ at: -1 });

class Program {
  private readonly items: Item[] = [];
  private readonly rets = new Map<number, Label>();

  emit(code: number, k: number, jt?: Label, jf?: Label): void {
    this.items.push({ code, k, jt, jf });
  }
  /** Put `l` on the next instruction emitted. */
  place(l: Label): void {
    this.items.push(l);
  }
  /** The shared `ret value` at the end of the program. */
  ret(value: number): Label {
    let l = this.rets.get(value);
    if (!l) {
      l = label();
      this.rets.set(value, l);
    }
    return l;
  }
  /** Instructions with resolved labels. A conditional jump reaches at most 255 instructions ahead, so a
   * farther one goes through a `ja` (32-bit offset) put right after it; repeat until every jump fits. */
  layout(): Insn[] {
    const items = [...this.items];
    for (const [value, l] of this.rets) items.push(l, { code: RET_K, k: value });
    for (;;) {
      const insns: Insn[] = [];
      for (const item of items) {
        if (isLabel(item)) item.at = insns.length;
        else insns.push(item);
      }
      // Insert the hops from the end so that earlier indexes stay valid; the next round checks them.
      const fixes: [number, Item[]][] = [];
      let pos = 0;
      items.forEach((item, index) => {
        if (isLabel(item)) return;
        const hops: Item[] = [];
        for (const key of ["jt", "jf"] as const) {
          const target = item[key];
          if (item.code === JA || !target || target.at - pos - 1 <= 255) continue;
          const hop = label();
          hops.push(hop, { code: JA, k: 0, jt: target });
          item[key] = hop;
        }
        if (hops.length) fixes.push([index + 1, hops]);
        pos++;
      });
      if (fixes.length === 0) return insns;
      for (const [index, hops] of fixes.reverse()) items.splice(index, 0, ...hops);
    }
  }
}

function encode(insns: Insn[]): Uint8Array {
  const out = new Uint8Array(insns.length * 8);
  const view = new DataView(out.buffer);
  insns.forEach((insn, pos) => {
    const off = (l: Label | undefined) => (l ? l.at - pos - 1 : 0);
    view.setUint16(pos * 8, insn.code, true);
    if (insn.code === JA) {
      view.setUint32(pos * 8 + 4, off(insn.jt), true);
      return;
    }
    view.setUint8(pos * 8 + 2, off(insn.jt));
    view.setUint8(pos * 8 + 3, off(insn.jf));
    view.setUint32(pos * 8 + 4, insn.k >>> 0, true);
  });
  return out;
}

const words = (n: number): [number, number] => [Number(BigInt(n) >> 32n), Number(BigInt(n) & 0xffffffffn)];

/** Jump to `pass` when the 64-bit argument satisfies the condition, else to `fail`; clobbers A. */
function emitCondition(p: Program, arg: ArgRule, pass: Label, fail: Label): void {
  const [hi, lo] = words(arg.value);
  const loadHigh = () => p.emit(LD_W_ABS, argHigh(arg.index));
  const loadLow = () => p.emit(LD_W_ABS, argLow(arg.index));
  switch (arg.op) {
    case "SCMP_CMP_EQ":
    case "SCMP_CMP_NE": {
      const [yes, no] = arg.op === "SCMP_CMP_EQ" ? [pass, fail] : [fail, pass];
      loadHigh();
      const low = label();
      p.emit(JEQ, hi, low, no);
      p.place(low);
      loadLow();
      p.emit(JEQ, lo, yes, no);
      return;
    }
    case "SCMP_CMP_GT":
    case "SCMP_CMP_GE": {
      // above in the high word: pass; below: fail; equal: the low word decides
      loadHigh();
      const notAbove = label();
      p.emit(JGT, hi, pass, notAbove);
      p.place(notAbove);
      if (hi !== 0) {
        const equal = label();
        p.emit(JEQ, hi, equal, fail);
        p.place(equal);
      }
      loadLow();
      p.emit(arg.op === "SCMP_CMP_GT" ? JGT : JGE, lo, pass, fail);
      return;
    }
    case "SCMP_CMP_LT":
    case "SCMP_CMP_LE": {
      loadHigh();
      const notAbove = label();
      p.emit(JGT, hi, fail, notAbove);
      p.place(notAbove);
      if (hi !== 0) {
        const equal = label();
        p.emit(JEQ, hi, equal, pass);
        p.place(equal);
      }
      loadLow();
      // a < v is !(a >= v); a <= v is !(a > v)
      p.emit(arg.op === "SCMP_CMP_LT" ? JGE : JGT, lo, fail, pass);
      return;
    }
    case "SCMP_CMP_MASKED_EQ": {
      // (arg & value) == valueTwo, one word at a time; a zero mask word needs no code
      const [want, wantLow] = words(arg.valueTwo ?? 0);
      const word = (load: () => void, mask: number, datum: number, next: Label) => {
        if (mask === 0 && datum === 0) return;
        load();
        if (datum === 0) {
          p.emit(JSET, mask, fail, next);
        } else {
          p.emit(ALU_AND_K, mask);
          p.emit(JEQ, datum, next, fail);
        }
      };
      const low = label();
      word(loadHigh, hi, want, low);
      p.place(low);
      word(loadLow, lo, wantLow, pass);
      if (lo === 0 && wantLow === 0) p.emit(JA, 0, pass);
      return;
    }
  }
}

interface Rule {
  ret: number;
  args: ArgRule[];
}

/** Rules of one syscall in profile order; the first whose conditions all hold decides. */
function emitRules(p: Program, rules: Rule[], otherwise: Label): void {
  rules.forEach((rule, i) => {
    const next = i + 1 < rules.length ? label() : otherwise;
    if (rule.args.length === 0) p.emit(JA, 0, p.ret(rule.ret));
    rule.args.forEach((arg, j) => {
      const last = j + 1 === rule.args.length;
      const pass = last ? p.ret(rule.ret) : label();
      emitCondition(p, arg, pass, next);
      if (!last) p.place(pass);
    });
    if (next !== otherwise) p.place(next);
  });
}

// A run of syscall numbers from `first` on that all get `ret`, or one number with argument rules.
interface Segment {
  first: number;
  ret?: number;
  rules?: Rule[];
}

/** Binary search over the segments: a `jge` per split, leaves jump to the shared returns. */
function emitTree(p: Program, segs: Segment[], defaultRet: number): void {
  const target = (seg: Segment): Label | undefined => (seg.rules ? undefined : p.ret(seg.ret!));
  const emitLeaf = (seg: Segment) => emitRules(p, seg.rules!, p.ret(defaultRet));
  const walk = (lo: number, hi: number): void => {
    if (lo === hi) {
      const seg = segs[lo]!;
      if (seg.rules) emitLeaf(seg);
      else p.emit(JA, 0, p.ret(seg.ret!));
      return;
    }
    const mid = (lo + hi + 1) >> 1;
    const left = lo === mid - 1 ? target(segs[lo]!) : undefined;
    const right = mid === hi ? target(segs[hi]!) : undefined;
    const [leftLabel, rightLabel] = [left ?? label(), right ?? label()];
    p.emit(JGE, segs[mid]!.first, rightLabel, leftLabel);
    if (!left) {
      p.place(leftLabel);
      walk(lo, mid - 1);
    }
    if (!right) {
      p.place(rightLabel);
      walk(mid, hi);
    }
  };
  walk(0, segs.length - 1);
}

const ownNumber = (table: Record<string, number>, name: string) =>
  Object.hasOwn(table, name) ? table[name] : undefined;

/**
 * Compile a profile to `struct sock_filter[]` bytes for one arch and capability set.
 *
 * - Another AUDIT_ARCH (i386 via int 0x80, arm32 compat) kills the process: Docker allows those ABIs
 *   through their own syscall tables, which hull does not carry, and an ERRNO there would let a process
 *   run on past a failed exit(). Killing matches a kernel built without the compat ABI.
 * - x32 syscalls (nr | 0x40000000 on x86_64) get ENOSYS, as on a kernel without CONFIG_X86_X32_ABI; letting
 *   them through would bypass every rule, since the x32 numbers are not the ones the rules name.
 * - Like runc, numbers above the highest syscall the profile names get ENOSYS rather than the default
 *   action (unless that action lets syscalls run), so a libc tries its fallback for a syscall newer than
 *   the profile (glibc's clone3, for one) instead of failing on EPERM.
 * - Several rules for one syscall: the first matching in profile order decides. Rules whose action equals
 *   the default are dropped as runc does (libseccomp refuses them).
 * - ERRNO without errnoRet is EPERM in a rule (runc) and defaultErrnoRet, else EPERM, as default action.
 */
export function compileSeccomp(profile: SeccompProfile, opts: SeccompOptions): Uint8Array {
  const table = SYSCALLS[opts.arch];
  const defaultRet = ret(profile.defaultAction, profile.defaultErrnoRet ?? EPERM);
  const rulesByNr = new Map<number, Rule[]>();
  let highest = -1;
  for (const rule of profile.syscalls ?? []) {
    if (!applies(rule, opts)) continue;
    const value = ret(rule.action, rule.errnoRet ?? EPERM);
    for (const name of rule.name ? [rule.name] : (rule.names ?? [])) {
      const nr = ownNumber(table, name);
      if (nr === undefined) continue; // another arch's syscall, or one newer than the table
      highest = Math.max(highest, nr);
      const rules = rulesByNr.get(nr) ?? [];
      if (value === defaultRet || rules.some((r) => r.args.length === 0)) continue;
      rules.push({ ret: value, args: rule.args ?? [] });
      rulesByNr.set(nr, rules);
    }
  }
  // a process that may not exit cannot end at all: libc's _exit loops on the refused call, at full
  // CPU (a bundle's profile with no rules did that); every profile lets exit and exit_group through
  for (const name of ["exit", "exit_group"]) {
    const nr = ownNumber(table, name);
    if (nr === undefined) continue;
    highest = Math.max(highest, nr);
    rulesByNr.set(nr, defaultRet === RET_ALLOW ? [] : [{ ret: RET_ALLOW, args: [] }]);
  }

  // runc adds no ENOSYS stub when the default action lets syscalls run anyway
  const tailEnosys =
    highest >= 0 &&
    !["SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_TRACE"].includes(profile.defaultAction) &&
    profile.defaultErrnoRet !== ENOSYS;
  // x32 numbers all lie above any x86_64 one, so the same comparison refuses them
  const enosysAbove = tailEnosys ? highest : opts.arch === "x86_64" ? X32_SYSCALL_BIT - 1 : undefined;

  const segs: Segment[] = [];
  for (let nr = 0; nr <= highest; nr++) {
    const rules = rulesByNr.get(nr) ?? [];
    const seg: Segment =
      rules.length === 0
        ? { first: nr, ret: defaultRet }
        : rules[0]!.args.length === 0
          ? { first: nr, ret: rules[0]!.ret }
          : { first: nr, rules };
    const last = segs.at(-1);
    if (seg.ret !== undefined && last?.ret === seg.ret) continue;
    segs.push(seg);
  }
  if (!tailEnosys && segs.at(-1)?.ret !== defaultRet) segs.push({ first: highest + 1, ret: defaultRet });

  const p = new Program();
  p.emit(LD_W_ABS, OFF_ARCH);
  const archOk = label();
  p.emit(JEQ, AUDIT_ARCH[opts.arch], archOk, p.ret(RET_KILL_PROCESS));
  p.place(archOk);
  p.emit(LD_W_ABS, OFF_NR);
  if (enosysAbove !== undefined) {
    const inRange = label();
    p.emit(JGT, enosysAbove, p.ret(RET_ERRNO | ENOSYS), inRange);
    p.place(inRange);
  }
  emitTree(p, segs, defaultRet);

  const insns = p.layout();
  if (insns.length > BPF_MAXINSNS) {
    throw new Error(`seccomp profile compiles to ${insns.length} BPF instructions, over the kernel's ${BPF_MAXINSNS}`);
  }
  return encode(insns);
}
