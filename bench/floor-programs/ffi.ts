// A compiled Bun program that reaches the kernel as hull does (bun:ffi's dlopen of libc, which
// compiles its trampolines with TinyCC) and makes one call.
import { dlopen, FFIType } from "bun:ffi";

dlopen("libc.so.6", { getpid: { args: [], returns: FFIType.i32 } }).symbols.getpid();
