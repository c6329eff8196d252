import type { CommandDef } from "citty";

/**
 * A citty command definition, plus `ownArgs` for commands that parse Docker-style (flags, then an
 * image, then the container's own arguments) and so must see the raw argument list themselves, and
 * `takes`: at most this many words besides flags (a word a command would ignore is refused: `hull
 * images busybox` listed every image).
 */
export type HullCommand = CommandDef<any> & { ownArgs?: boolean; takes?: number };
