// Evaluated when hull is bundled, not when it runs: imported `with { type: "macro" }`, this becomes
// Docker's default profile already compiled for Docker's default capabilities, one base64 program per
// architecture. `hull run` with the defaults then carries no profile, no schema and no compiler, and
// spends nothing on them (bench/startup); other capability sets or profiles compile at run time.
import { DEFAULT_CAPS } from "./capabilities";
import { compileSeccomp } from "./seccomp";
import { defaultProfile } from "./seccomp-profile";

export function builtinFilters(): { x86_64: string; aarch64: string } {
  const caps = new Set<string>(DEFAULT_CAPS);
  const compiled = (arch: "x86_64" | "aarch64") =>
    Buffer.from(compileSeccomp(defaultProfile, { arch, caps })).toString("base64");
  return { x86_64: compiled("x86_64"), aarch64: compiled("aarch64") };
}
