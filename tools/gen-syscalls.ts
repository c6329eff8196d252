// Regenerates syscalls.ts from the kernel's UAPI headers (Debian/Ubuntu: linux-libc-dev):
//   bun tools/gen-syscalls.ts [INCLUDE_DIR] > src/runtime/syscalls.ts
// INCLUDE_DIR defaults to /usr/include; a kernel tree's `make headers_install` output works too.
// x86_64 has a flat list of #defines; aarch64 uses the generic table, whose entries depend on the
// arch's __ARCH_WANT_* switches and on __BITS_PER_LONG, so that one goes through a tiny preprocessor.
import { existsSync, readFileSync } from "node:fs";

const INCLUDE = process.argv[2] ?? "/usr/include";
const X86_64_HEADER =
  [`${INCLUDE}/x86_64-linux-gnu/asm/unistd_64.h`, `${INCLUDE}/asm/unistd_64.h`].find((p) => existsSync(p)) ??
  `${INCLUDE}/asm/unistd_64.h`;
const GENERIC_HEADER = `${INCLUDE}/asm-generic/unistd.h`;
const VERSION_HEADER = `${INCLUDE}/linux/version.h`;

// What arch/arm64/include/uapi/asm/unistd.h defines before including asm-generic/unistd.h.
const AARCH64_DEFINES: Record<string, string> = {
  __BITS_PER_LONG: "64",
  __ARCH_WANT_RENAMEAT: "",
  __ARCH_WANT_NEW_STAT: "",
  __ARCH_WANT_SET_GET_RLIMIT: "",
  __ARCH_WANT_TIME32_SYSCALLS: "",
  __ARCH_WANT_SYS_CLONE3: "",
  __ARCH_WANT_MEMFD_SECRET: "",
};

function x86_64(text: string): Map<string, number> {
  const table = new Map<string, number>();
  for (const m of text.matchAll(/^#define __NR_(\w+) (\d+)$/gm)) table.set(m[1]!, Number(m[2]));
  return table;
}

// Enough of the C preprocessor for asm-generic/unistd.h: #define, #undef and #if/#ifdef/#ifndef/#else/#endif
// whose conditions use defined(), ==, !=, !, && and || on numbers.
function preprocess(text: string, predefined: Record<string, string>): Map<string, string> {
  const defs = new Map(Object.entries(predefined));
  const live: boolean[] = []; // one entry per open #if: whether its current branch is taken
  const taken: boolean[] = []; // whether some branch of that #if was taken
  const active = () => live.every(Boolean);
  const test = (expr: string): boolean => {
    const js = expr
      .replace(/\/\*.*?\*\//g, "")
      .replace(/defined\s*\(\s*(\w+)\s*\)|defined\s+(\w+)/g, (_, a, b) => (defs.has(a ?? b) ? "1" : "0"))
      .replace(/[A-Za-z_]\w*/g, (name) => defs.get(name) || "0");
    if (!/^[\d\s()!=&|]*$/.test(js)) throw new Error(`cannot evaluate #if ${expr}`);
    return Boolean(new Function(`return (${js});`)());
  };
  for (const line of text.replace(/\\\n/g, " ").split("\n")) {
    const d = /^\s*#\s*(\w+)\s*(.*)$/.exec(line);
    if (!d) continue;
    const [, directive, rest = ""] = d;
    const arg = rest.replace(/\/\*.*?\*\//g, "").trim();
    if (directive === "if" || directive === "ifdef" || directive === "ifndef") {
      const on = active();
      const cond = directive === "if" ? test(arg) : defs.has(arg) === (directive === "ifdef");
      live.push(on && cond);
      taken.push(!on || cond);
      continue;
    }
    if (directive === "else") {
      live[live.length - 1] = live.slice(0, -1).every(Boolean) && !taken.at(-1);
      taken[taken.length - 1] = true;
      continue;
    }
    if (directive === "endif") {
      live.pop();
      taken.pop();
      continue;
    }
    if (directive === "elif") throw new Error("#elif is not supported");
    if (!active()) continue;
    if (directive === "define") {
      const m = /^(\w+)(\([^)]*\))?\s*(.*)$/.exec(arg);
      if (m && !m[2]) defs.set(m[1]!, m[3]!.trim());
    } else if (directive === "undef") {
      defs.delete(arg);
    } else if (directive !== "include") {
      throw new Error(`unexpected #${directive}`);
    }
  }
  return defs;
}

function generic(text: string, predefined: Record<string, string>): Map<string, number> {
  const defs = preprocess(text, predefined);
  // Some names are aliases: __NR_mmap is __NR3264_mmap, the 64-bit half of a 32/64 pair.
  const resolve = (value: string): number => (/^\d+$/.test(value) ? Number(value) : resolve(defs.get(value) ?? "x"));
  const table = new Map<string, number>();
  for (const [name, value] of defs) {
    const m = /^__NR_(\w+)$/.exec(name);
    if (!m || m[1] === "syscalls") continue;
    const nr = resolve(value);
    if (Number.isNaN(nr)) throw new Error(`cannot resolve ${name} = ${value}`);
    table.set(m[1]!, nr);
  }
  return table;
}

// One object per arch in number order, packed into lines of at most 120 characters.
function literal(arch: string, table: Map<string, number>): string {
  const entries = [...table].sort((a, b) => a[1] - b[1]).map(([name, nr]) => `${name}: ${nr},`);
  const lines = [`  ${arch}: {`];
  let line = "   ";
  for (const e of entries) {
    if (line.length + 1 + e.length > 120) {
      lines.push(line);
      line = "   ";
    }
    line += ` ${e}`;
  }
  lines.push(line, "  },");
  return lines.join("\n");
}

// Syscalls added after the headers Debian 12 ships (6.1), as the kernel's own tables number them:
// from 424 on, one number on every architecture. Without them Docker's profile, which allows these,
// would answer ENOSYS (or EPERM, below the highest known number) where Docker lets them through.
const NEWER: Record<string, number> = {
  cachestat: 451,
  fchmodat2: 452,
  map_shadow_stack: 453,
  futex_wake: 454,
  futex_wait: 455,
  futex_requeue: 456,
  statmount: 457,
  listmount: 458,
  lsm_get_self_attr: 459,
  lsm_set_self_attr: 460,
  lsm_list_modules: 461,
  mseal: 462,
  setxattrat: 463,
  getxattrat: 464,
  listxattrat: 465,
  removexattrat: 466,
  open_tree_attr: 467,
  file_getattr: 468,
  file_setattr: 469,
};
/** x86_64's own additions past 6.1 */
const NEWER_X86_64: Record<string, number> = { uretprobe: 335 };

function withNewer(table: Map<string, number>, extra: Record<string, number>): Map<string, number> {
  for (const [name, nr] of Object.entries(extra)) if (!table.has(name)) table.set(name, nr);
  return table;
}

const version = /LINUX_VERSION_MAJOR (\d+)\n#define LINUX_VERSION_PATCHLEVEL (\d+)/.exec(
  readFileSync(VERSION_HEADER, "utf8"),
);
const kernel = version ? `${version[1]}.${version[2]}` : "unknown";
console.log(`// Generated by gen-syscalls.ts from the Linux ${kernel} UAPI headers (${X86_64_HEADER} and
// ${GENERIC_HEADER} with arm64's __ARCH_WANT_* switches). Do not edit; rerun the generator.
// Syscalls up to Linux 6.17 that those headers lack come from NEWER in the generator.
// biome-ignore format: generated, packed to keep the table short
export const SYSCALLS: Record<"x86_64" | "aarch64", Record<string, number>> = {
${literal("x86_64", withNewer(x86_64(readFileSync(X86_64_HEADER, "utf8")), { ...NEWER, ...NEWER_X86_64 }))}
${literal("aarch64", withNewer(generic(readFileSync(GENERIC_HEADER, "utf8"), AARCH64_DEFINES), NEWER))}
};`);
