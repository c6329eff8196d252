// The floor of hull's design: a compiled Bun program that loads bun:ffi and replaces itself with a
// native program doing the namespace work (bwrap or nsenter here, hull's shim in hull), doing
// nothing of its own before: no options, no store, no image. argv after the program: what to exec.
import { dlopen, FFIType, ptr } from "bun:ffi";

const libc = dlopen("libc.so.6", { execv: { args: [FFIType.ptr, FFIType.ptr], returns: FFIType.i32 } });
const words = process.argv.slice(2).map((w) => Buffer.from(`${w}\0`));
const first = words[0];
if (!first) throw new Error("ffi-exec: give the program to exec and its arguments");
const argv = new BigUint64Array(words.length + 1);
words.forEach((w, i) => {
  argv[i] = BigInt(ptr(w));
});
libc.symbols.execv(ptr(first), ptr(argv));
throw new Error(`ffi-exec: execv ${process.argv[2]} failed`);
