// The container's privileges from --privileged, --cap-add/--cap-drop and --security-opt: its
// capability bounding set, its seccomp filter (Docker's default profile unless told otherwise), the
// no_new_privs bit and the /proc and /sys paths it may not see or change.
// safeParse by name, statically: an `await import("valibot")` made the bundle keep the whole
// library (81 KB: every check and transformation it has) in the chunk every command loads
import { safeParse } from "valibot";
import { type Capability, capabilityMask, capabilitySet, DEFAULT_CAPS } from "./capabilities";
import { MASKED_PATHS, READONLY_PATHS } from "./plan";
import { builtinFilters } from "./seccomp-builtin" with { type: "macro" };

/** What the command line says; kept in the container's spec so that `hull exec` applies the same. */
export interface SecurityOptions {
  privileged: boolean;
  capAdd: string[];
  capDrop: string[];
  securityOpt: string[];
}

/** What the shim applies. */
export interface Security {
  caps: Capability[];
  /** the bounding set as a decimal string (JSON has no 64-bit integers) */
  capMask: string;
  /** the seccomp program (struct sock_filter[]) in base64; absent when unconfined */
  seccomp?: string;
  noNewPrivs: boolean;
  masked: string[];
  readonly: string[];
}

const BUILTIN = builtinFilters();

export const DEFAULT_SECURITY: SecurityOptions = { privileged: false, capAdd: [], capDrop: [], securityOpt: [] };

export function seccompArch(): "x86_64" | "aarch64" | undefined {
  return process.arch === "x64" ? "x86_64" : process.arch === "arm64" ? "aarch64" : undefined;
}

const bool = (opt: string, v: string | undefined): boolean => {
  if (v === undefined || v === "true") return true;
  if (v === "false") return false;
  throw new Error(`--security-opt ${opt} takes true or false`);
};

/** Resolve OPTIONS; a bad value is an Error whose message is the one line to print. */
export async function resolveSecurity(o: SecurityOptions): Promise<Security> {
  const caps = capabilitySet(o);
  let seccomp: "default" | "unconfined" | { file: string } = "default";
  let noNewPrivs = false;
  let masked = o.privileged ? [] : [...MASKED_PATHS];
  let readonly = o.privileged ? [] : [...READONLY_PATHS];
  for (const raw of o.securityOpt) {
    // Docker takes both KEY=VALUE and the older KEY:VALUE
    const m = /^([a-z-]+)(?:[=:](.*))?$/s.exec(raw);
    const [key, value] = [m?.[1] ?? raw, m?.[2]];
    switch (key) {
      case "seccomp":
        if (!value) throw new Error("--security-opt seccomp takes unconfined or the path of a profile (JSON)");
        seccomp = value === "unconfined" ? "unconfined" : { file: value };
        break;
      case "no-new-privileges":
        noNewPrivs = bool(raw, value);
        break;
      case "mask":
        masked.push(...paths(raw, value));
        break;
      case "unmask":
        if (value === "ALL") {
          masked = [];
          readonly = [];
        } else {
          const drop = new Set(paths(raw, value));
          masked = masked.filter((p) => !drop.has(p));
          readonly = readonly.filter((p) => !drop.has(p));
        }
        break;
      case "systempaths":
        if (value !== "unconfined") throw new Error("--security-opt systempaths takes unconfined");
        masked = [];
        readonly = [];
        break;
      case "label":
        // no SELinux here; Docker accepts label=disable on such hosts too
        if (value !== "disable")
          throw new Error(`--security-opt ${raw}: hull has no SELinux support (label=disable only)`);
        break;
      case "apparmor":
        if (value !== "unconfined")
          throw new Error(`--security-opt ${raw}: hull applies no AppArmor profile (apparmor=unconfined only)`);
        break;
      default:
        throw new Error(
          `unknown --security-opt ${JSON.stringify(raw)}: hull takes seccomp=, no-new-privileges, mask=, unmask=, systempaths=unconfined, label=disable, apparmor=unconfined`,
        );
    }
  }
  let program: string | undefined;
  if (!o.privileged && seccomp !== "unconfined") {
    const arch = seccompArch();
    if (!arch) {
      if (seccomp !== "default")
        throw new Error(`seccomp profiles are supported on x86_64 and arm64 only, not ${process.arch}`);
    } else if (seccomp === "default" && sameSet(caps, DEFAULT_CAPS)) {
      program = BUILTIN[arch];
    } else {
      program = await compileFor(seccomp === "default" ? undefined : seccomp.file, arch, caps);
    }
  }
  return { caps, capMask: capabilityMask(caps).toString(), seccomp: program, noNewPrivs, masked, readonly };
}

function paths(opt: string, value: string | undefined): string[] {
  const list = (value ?? "").split(":").filter(Boolean);
  if (list.length === 0 || list.some((p) => !p.startsWith("/")))
    throw new Error(`--security-opt ${opt} takes absolute paths, separated by ':'`);
  return list;
}

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && b.every((c) => a.includes(c));

/** Compile Docker's default profile, or the profile in FILE, for ARCH and CAPS (loaded only when needed). */
async function compileFor(file: string | undefined, arch: "x86_64" | "aarch64", caps: Capability[]): Promise<string> {
  const { compileSeccomp, SeccompProfileSchema } = await import("./seccomp");
  let profile: import("./seccomp").SeccompProfile;
  if (file === undefined) {
    profile = (await import("./seccomp-profile")).defaultProfile;
  } else {
    let json: unknown;
    try {
      json = JSON.parse(await Bun.file(file).text());
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new Error(
        code === "ENOENT" ? `seccomp profile ${file}: no such file` : `seccomp profile ${file}: not valid JSON`,
      );
    }
    const r = safeParse(SeccompProfileSchema, json);
    if (!r.success) {
      const issue = r.issues[0];
      const where = issue?.path?.map((p) => String(p.key)).join(".");
      throw new Error(`seccomp profile ${file}: ${issue?.message ?? "invalid"}${where ? ` (at ${where})` : ""}`);
    }
    profile = r.output;
  }
  return Buffer.from(compileSeccomp(profile, { arch, caps: new Set(caps) })).toString("base64");
}
