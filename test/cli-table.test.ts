// The whole command table, walked: for every command a person can type, `--help` prints help and
// changes nothing, and an unknown flag is a usage error (exit 125) that changes nothing. Scripts
// written for docker must never destroy data because hull read a flag differently (`image prune -a
// --help` pruned; `rmi $(images -q -f dangling=true)` removed every image).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { lstatSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { HullCommand } from "../src/cli/command";
import { commands } from "../src/cli/table";
import { HULL, hull, hullOnTerminal, makeStore, ok, removeStore, requireUnprivileged } from "./helpers";

requireUnprivileged();

let root = "";

beforeAll(() => {
  root = makeStore();
  ok(hull(["run", "--rm", "busybox", "true"], { root }));
  ok(hull(["tag", "busybox", "kept:1"], { root }));
  ok(hull(["create", "--name", "kept", "busybox", "true"], { root }));
  ok(hull(["run", "--name", "exited", "busybox", "true"], { root }));
  ok(hull(["volume", "create", "keptvol"], { root }));
});

afterAll(() => removeStore(root));

/** Every path under the store with its type and size: what a command that does nothing leaves alone */
function snapshot(): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string) => {
    let names: string[] = [];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const n of names.sort()) {
      // lock files are made by whoever takes a lock, and hold nothing
      if (rel === "" && n === "locks") continue;
      // nor is the shared network namespace's holder, which leaves on its own a second after the
      // last container, with its pid files
      if (rel === "networks/" && n.startsWith("holder.")) continue;
      const p = join(dir, n);
      const st = lstatSync(p);
      out.push(`${rel}${n} ${st.isDirectory() ? "d" : st.size}`);
      if (st.isDirectory() && !(rel === "" && n === "layers")) walk(p, `${rel}${n}/`);
    }
  };
  walk(root, "");
  return out;
}

type Sub = HullCommand | (() => Promise<HullCommand>);

/** Every leaf command as the words that name it; internal ones (__name) are hull's own, not a person's. */
async function leaves(): Promise<{ words: string[]; cmd: HullCommand }[]> {
  const out: { words: string[]; cmd: HullCommand }[] = [];
  const walk = async (cmd: HullCommand, path: string[]) => {
    const subs = cmd.subCommands as Record<string, Sub> | undefined;
    if (!subs) {
      out.push({ words: path, cmd });
      return;
    }
    for (const [name, sub] of Object.entries(subs))
      await walk(typeof sub === "function" ? await sub() : sub, [...path, name]);
  };
  for (const [name, load] of Object.entries(commands)) if (!name.startsWith("__")) await walk(await load(), [name]);
  return out;
}

test("--help anywhere prints help and changes nothing, for every command", async () => {
  const all = await leaves();
  expect(all.length).toBeGreaterThan(40);
  const before = snapshot();
  for (const { words, cmd } of all) {
    // after the flags that would make it act: the help must win wherever it stands (a command with a
    // command line of its own, run IMAGE CMD..., takes it before the image only)
    const variants = cmd.ownArgs
      ? [
          [...words, "--help"],
          [...words, "-a", "--help", "kept"],
        ]
      : [
          [...words, "--help"],
          [...words, "-f", "kept", "--help"],
          [...words, "-a", "--help", "kept"],
        ];
    for (const args of variants) {
      const r = hull(args, { root });
      expect(r.code, `hull ${args.join(" ")}: ${r.stderr}`).toBe(0);
      expect(r.stdout + r.stderr, `hull ${args.join(" ")}`).toContain("USAGE");
      // not a terminal: no colour codes for a pipe or a file to carry
      expect(r.stdout.includes("\x1b"), `hull ${args.join(" ")} printed colour codes`).toBe(false);
      expect(snapshot(), `hull ${args.join(" ")} changed the store`).toEqual(before);
    }
  }
}, 300_000);

test("docs/commands.md is the command table's; completions for bash, zsh and fish come from it too", async () => {
  const { commandsMarkdown, walkCommands } = await import("../src/cli/reference");
  const { leaves } = await walkCommands();
  const doc = readFileSync(join(import.meta.dir, "..", "docs", "commands.md"), "utf8");
  expect(doc, "docs/commands.md is stale: bun tools/commands-doc.ts > docs/commands.md").toBe(commandsMarkdown(leaves));
  const bash = ok(hull(["completion", "bash"], { root }));
  const complete = (line: string) => {
    const words = line.split(" ");
    const r = Bun.spawnSync(
      [
        "bash",
        "-c",
        `${bash}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _hull; printf '%s\\n' "\${COMPREPLY[@]}"`,
      ],
      { env: { ...process.env, PATH: `${dirname(HULL)}:${process.env.PATH}`, HULL_ROOT: root } },
    );
    expect(r.stderr.toString()).toBe("");
    return r.stdout.toString().trim().split("\n").sort();
  };
  expect(complete("hull netw")).toEqual(["network"]);
  expect(complete("hull network c")).toEqual(["connect", "create"]);
  expect(complete("hull ps --f")).toEqual(["--filter", "--format"]);
  // a flag's value that is a word, not a file
  expect(complete("hull ps --filter st")).toEqual(["status="]);
  expect(complete("hull inspect --type vo")).toEqual(["volume"]);
  expect(complete("hull run --restart un")).toEqual(["unless-stopped"]);
  expect(complete("hull run --network no")).toEqual(["none"]);
  expect(complete("hull logs ke")).toEqual(["kept"]);
  expect(complete("hull rmi ke")).toEqual(["kept:1"]);
  for (const shell of ["zsh", "fish"]) expect(ok(hull(["completion", shell], { root }))).toContain("network");
  expect(hull(["completion", "tcsh"], { root }).code).toBe(125);
});

test("no colour codes for a pipe or a file, nor on a terminal with NO_COLOR", () => {
  // FORCE_COLOR: what makes the help colourful when hull would colour it (citty decides the rest)
  expect(hullOnTerminal(`NO_COLOR=1 FORCE_COLOR=1 ${HULL} ps --help`, root).stdout).not.toContain("\x1b");
  expect(hull(["ps", "--help"], { root, env: { FORCE_COLOR: "1" } }).stdout).not.toContain("\x1b");
  expect(hull(["ps", "--help"], { root }).stdout).not.toContain("\x1b");
  expect(hull(["--help"], { root }).stdout).not.toContain("\x1b");
});

test("an unknown flag is a usage error that names it and changes nothing, for every command", async () => {
  const all = await leaves();
  const before = snapshot();
  for (const { words } of all) {
    const args = [...words, "--no-such-flag", "kept"];
    const r = hull(args, { root });
    // hull oci is runc's command line, whose errors exit 1 (conmon and containerd read it so)
    expect(r.code, `hull ${args.join(" ")}: ${r.stdout}`).toBe(words[0] === "oci" ? 1 : 125);
    expect(r.stderr, `hull ${args.join(" ")}`).toContain("--no-such-flag");
    expect(r.stderr.trim().split("\n"), `hull ${args.join(" ")}`).toHaveLength(1);
    expect(snapshot(), `hull ${args.join(" ")} changed the store`).toEqual(before);
  }
}, 300_000);

test("what docker scripts do with flags hull does not know no longer acts on everything", () => {
  const images = ok(hull(["images", "-q"], { root }));
  // rmi $(images -q -f dangling=true): only the dangling ones (none here), never every image
  expect(ok(hull(["images", "-q", "-f", "dangling=true"], { root }))).toBe("");
  // a filter hull does not know is refused, not widened to everything
  const r = hull(["ps", "-q", "--filter", "publish=80"], { root });
  expect(r.code).toBe(125);
  expect(r.stderr).toContain("--filter publish is not supported");
  expect(hull(["image", "prune", "-a", "--help"], { root }).code).toBe(0);
  expect(ok(hull(["images", "-q"], { root }))).toBe(images);
  expect(hull(["volume", "create", "--help"], { root }).code).toBe(0);
  expect(ok(hull(["volume", "ls", "-q"], { root })).trim()).toBe("keptvol");
});
