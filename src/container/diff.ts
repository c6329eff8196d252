// `hull diff`: what the container changed against its image, from its writable layer. A, C and D as
// Docker prints them: added, changed (a path the image has, or a directory with changes in it),
// deleted (an overlay whiteout, a 0:0 character device).
import { join } from "../sys/path";
import * as v from "valibot";
import { lazily } from "../sys/lazy-schema";
import { runInUserNamespace } from "../runtime/userns-exec";
import type { StorePaths } from "../store/paths";
import { readFileText } from "../sys/libc";
import { OPAQUE_MARKERS, whiteoutOf } from "./overlay-forms";
import { containerDir, findContainer } from "./records";

export interface Change {
  kind: "A" | "C" | "D";
  path: string;
}

/** Inside the user namespace: walk UPPER against LOWERS (topmost first); print the changes as JSON. */
export async function diffInside(upper: string, lowers: string[]): Promise<void> {
  const { lstatSync, readdirSync } = await import("node:fs");
  const inLower = (rel: string) =>
    lowers.some((l) => {
      try {
        lstatSync(join(l, rel));
        return true;
      } catch {
        return false;
      }
    });
  const out: Change[] = [];
  const dirs = new Set<string>();
  const isDir = (p: string) => dirs.has(p);
  const walk = (rel: string) => {
    for (const name of readdirSync(join(upper, rel)).sort()) {
      const sub = rel ? `${rel}/${name}` : name;
      if (OPAQUE_MARKERS.includes(name)) continue;
      const st = lstatSync(join(upper, sub));
      const deleted = whiteoutOf(name, st);
      if (deleted !== undefined) {
        out.push({ kind: "D", path: `/${rel ? `${rel}/${deleted}` : deleted}` });
        continue;
      }
      out.push({ kind: inLower(sub) ? "C" : "A", path: `/${sub}` });
      if (st.isDirectory()) {
        dirs.add(`/${sub}`);
        walk(sub);
      }
    }
  };
  walk("");
  // the mount points hull makes for its /etc files are not the container's changes (Docker keeps
  // them out of sight in an init layer); a directory counts as changed only with a change inside
  const kept = out.filter((c) => !HULL_FILES.has(c.path));
  const withChild = (dir: string) => kept.some((c) => c.path.startsWith(`${dir}/`));
  console.log(JSON.stringify(kept.filter((c) => c.kind !== "C" || !isDir(c.path) || withChild(c.path))));
}

const HULL_FILES = new Set(["/etc/hostname", "/etc/hosts", "/etc/resolv.conf"]);

const Spec = lazily(() => v.looseObject({ overlay: v.string() }));

export async function containerDiff(paths: StorePaths, key: string): Promise<Change[]> {
  const rec = findContainer(paths, key);
  const dir = containerDir(paths, rec.id);
  const spec = v.parse(Spec, JSON.parse(readFileText(join(dir, "spec.json")) ?? "{}"));
  const lowers = /lowerdir=([^,]*)/.exec(spec.overlay)?.[1]?.split(":") ?? [];
  if (!spec.overlay || lowers.length === 0)
    throw new Error(`container ${key} runs a --rootfs directory: there is no image to compare with`);
  let stdout = "";
  const r = await runInUserNamespace(["__diff", join(dir, "upper"), ...lowers], {}, (s) => {
    stdout = s;
  });
  if (r.code !== 0) throw new Error(`diff failed: ${r.stderr.trim()}`);
  return JSON.parse(stdout) as Change[];
}
