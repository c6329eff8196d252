// The messages between the unpacking thread and inflate-worker.ts. Both ends are hull's own code in one
// process, so the shapes are types, not schemas.
import type { Compression } from "./layers";

export type InflateRequest =
  /** FOLLOW: the blob is still being written, will be SIZE bytes, and is renamed to DONE once whole */
  { blob: string; compression: Compression; follow?: { done: string; size: number } } | { ack: number };

export type InflateReply = { chunk: Uint8Array } | { end: { digest: string; size: number } } | { error: string };
