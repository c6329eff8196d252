import type { CommandDef } from "citty";

/**
 * A citty command definition, plus `ownArgs` for commands that parse Docker-style (flags, then an
 * image, then the container's own arguments) and so must see the raw argument list themselves.
 */
export type HullCommand = CommandDef<any> & { ownArgs?: boolean };
