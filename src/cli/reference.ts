// The command table, walked: docs/commands.md and the shell completions are made from it, so they
// list what hull parses and nothing else (a test compares docs/commands.md with this output).
import type { HullCommand } from "./command";
import { commands } from "./table";

export interface Leaf {
  words: string[];
  description: string;
  flags: { long: string; short?: string; takesValue: boolean; description: string }[];
}

type Sub = HullCommand | (() => Promise<HullCommand>);

/** Every command a person types (internal __name ones left out), as the words that name it. */
export async function walkCommands(): Promise<{ groups: Map<string, string[]>; leaves: Leaf[] }> {
  const leaves: Leaf[] = [];
  const groups = new Map<string, string[]>();
  const walk = async (cmd: HullCommand, path: string[]) => {
    const subs = cmd.subCommands as Record<string, Sub> | undefined;
    if (subs) {
      groups.set(path.join(" "), Object.keys(subs));
      for (const [name, sub] of Object.entries(subs))
        await walk(typeof sub === "function" ? await sub() : sub, [...path, name]);
      return;
    }
    const meta = (cmd.meta ?? {}) as { description?: string };
    const flags = Object.entries(
      (cmd.args ?? {}) as Record<string, { type?: string; alias?: string | string[]; description?: string }>,
    )
      .filter(([, d]) => d.type !== "positional")
      .map(([key, d]) => ({
        long: key,
        short: [d.alias ?? []].flat().find((a) => a.length === 1),
        takesValue: d.type !== "boolean",
        description: d.description ?? "",
      }))
      .sort((a, b) => a.long.localeCompare(b.long));
    leaves.push({ words: path, description: meta.description ?? "", flags });
  };
  groups.set(
    "",
    Object.keys(commands).filter((n) => !n.startsWith("__")),
  );
  for (const [name, load] of Object.entries(commands)) if (!name.startsWith("__")) await walk(await load(), [name]);
  return { groups, leaves };
}

/** docs/commands.md */
export function commandsMarkdown(leaves: Leaf[]): string {
  const out = [
    "# hull's commands",
    "",
    "Generated from the command table by `bun tools/commands-doc.ts > docs/commands.md`",
    "(test/cli-table.test.ts checks that it is current). Every flag listed is parsed; any other is an",
    "error that names it.",
    "",
  ];
  for (const l of [...leaves].sort((a, b) => a.words.join(" ").localeCompare(b.words.join(" ")))) {
    out.push(`## hull ${l.words.join(" ")}`, "", l.description.replace(/\s+/g, " ").trim(), "");
    if (l.flags.length === 0) continue;
    out.push("| flag | |", "|---|---|");
    for (const f of l.flags) {
      const name = `${f.short ? `-${f.short}, ` : ""}--${f.long}${f.takesValue ? " VALUE" : ""}`;
      out.push(`| \`${name}\` | ${f.description.replace(/\|/g, "\\|").replace(/\s+/g, " ").trim()} |`);
    }
    out.push("");
  }
  return `${out.join("\n").trimEnd()}\n`;
}

/** the commands whose next word is a container, or an image: completed from the store */
const TAKES_CONTAINER = new Set([
  "attach",
  "commit",
  "container inspect",
  "container rm",
  "cp",
  "diff",
  "exec",
  "export",
  "inspect",
  "kill",
  "logs",
  "pause",
  "port",
  "rename",
  "restart",
  "rm",
  "start",
  "stats",
  "stop",
  "top",
  "unpause",
  "update",
  "wait",
]);
const TAKES_IMAGE = new Set(["create", "history", "image inspect", "image rm", "push", "rmi", "run", "save", "tag"]);

const flagsOf = (l: Leaf) => l.flags.flatMap((f) => [`--${f.long}`, ...(f.short ? [`-${f.short}`] : [])]).join(" ");

/** the keys of every listing's --filter (ps, images, volume ls, network ls, events, prune) */
const FILTER_KEYS = [
  "ancestor",
  "before",
  "container",
  "dangling",
  "driver",
  "event",
  "exited",
  "health",
  "id",
  "image",
  "label",
  "name",
  "network",
  "reference",
  "since",
  "status",
  "type",
  "until",
  "volume",
];

/** `hull completion bash`: source it (or put it in ~/.local/share/bash-completion/completions/hull) */
export function bashCompletion(groups: Map<string, string[]>, leaves: Leaf[]): string {
  const cases: string[] = [];
  for (const [path, subs] of groups) cases.push(`    "${path}") words="${subs.join(" ")}" ;;`);
  const flagCases = leaves.map((l) => `    "${l.words.join(" ")}") flags="${flagsOf(l)}" ;;`);
  const objects = (set: Set<string>) => [...set].map((w) => `"${w}"`).join("|");
  return `# bash completion for hull, made by \`hull completion bash\` from its command table
_hull() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} path="" i w words="" flags=""
  # the values of a few flags are words, not files
  case "$prev" in
    --filter) COMPREPLY=($(compgen -W "${FILTER_KEYS.map((k) => `${k}=`).join(" ")}" -- "$cur")); compopt -o nospace 2>/dev/null; return ;;
    --type) COMPREPLY=($(compgen -W "container image volume network" -- "$cur")); return ;;
    --network|--net) COMPREPLY=($(compgen -W "pasta slirp4netns $(hull network ls --format '{{.Name}}' 2>/dev/null)" -- "$cur")); return ;;
    --format) COMPREPLY=($(compgen -W "json table" -- "$cur")); return ;;
    --pull) COMPREPLY=($(compgen -W "missing always never" -- "$cur")); return ;;
    --restart) COMPREPLY=($(compgen -W "no on-failure always unless-stopped" -- "$cur")); return ;;
  esac
  # the command's words so far (not flags, not values)
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=\${COMP_WORDS[i]}
    [[ $w == -* ]] && continue
    case "\${path:+$path }$w" in
${[...groups.keys()]
  .filter(Boolean)
  .map((g) => `      "${g}") path="${g}"; continue ;;`)
  .join("\n")}
${leaves.map((l) => `      "${l.words.join(" ")}") path="${l.words.join(" ")}"; break ;;`).join("\n")}
    esac
  done
  case "$path" in
${cases.join("\n")}
  esac
  case "$path" in
${flagCases.join("\n")}
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
  elif [[ -n $words ]]; then
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
  else
    case "$path" in
      ${objects(TAKES_CONTAINER)}) COMPREPLY=($(compgen -W "$(hull ps -a --format '{{.Names}}' 2>/dev/null)" -- "$cur")) ;;
      ${objects(TAKES_IMAGE)}) COMPREPLY=($(compgen -W "$(hull images --format '{{.Repository}}:{{.Tag}}' 2>/dev/null)" -- "$cur")) ;;
      *) COMPREPLY=($(compgen -f -- "$cur")) ;;
    esac
  fi
}
complete -F _hull hull
`;
}

/** `hull completion zsh`: through bash's, as zsh's bashcompinit runs it */
export function zshCompletion(groups: Map<string, string[]>, leaves: Leaf[]): string {
  return `#compdef hull
# zsh completion for hull, made by \`hull completion zsh\`: bash's, through bashcompinit
autoload -U +X bashcompinit && bashcompinit
${bashCompletion(groups, leaves)}`;
}

/** `hull completion fish` */
export function fishCompletion(groups: Map<string, string[]>, leaves: Leaf[]): string {
  const q = (s: string) => `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
  const out = [
    "# fish completion for hull, made by `hull completion fish` from its command table",
    "complete -c hull -f",
  ];
  const top = groups.get("") ?? [];
  out.push(`complete -c hull -n __fish_use_subcommand -a ${q(top.join(" "))}`);
  for (const [path, subs] of groups) {
    if (!path) continue;
    out.push(`complete -c hull -n '__fish_seen_subcommand_from ${path.split(" ").at(-1)}' -a ${q(subs.join(" "))}`);
  }
  for (const l of leaves) {
    const cond = `__fish_seen_subcommand_from ${l.words.at(-1)}`;
    for (const f of l.flags)
      out.push(
        `complete -c hull -n ${q(cond)} -l ${f.long}${f.short ? ` -s ${f.short}` : ""}${f.takesValue ? " -r" : ""} -d ${q(f.description.split(/[.:(]/)[0]?.trim().slice(0, 60) ?? "")}`,
      );
  }
  return `${out.join("\n")}\n`;
}
