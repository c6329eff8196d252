// What a file is, by its first bytes: the compressions an image layer or an ADD archive may come in,
// and a tar header (POSIX and GNU tars both carry "ustar" at offset 257).
export type Magic = "none" | "gzip" | "zstd" | "bzip2" | "xz";

export function compressionByMagic(head: Uint8Array): Magic {
  const starts = (...bytes: number[]) => bytes.every((b, i) => head[i] === b);
  if (starts(0x1f, 0x8b)) return "gzip";
  if (starts(0x28, 0xb5, 0x2f, 0xfd)) return "zstd";
  if (starts(0x42, 0x5a, 0x68)) return "bzip2";
  if (starts(0xfd, 0x37, 0x7a, 0x58, 0x5a)) return "xz";
  return "none";
}

/** HEAD (at least 262 bytes of it) starts a tar archive. */
export function isTarHeader(head: Uint8Array): boolean {
  return head.length >= 262 && new TextDecoder().decode(head.slice(257, 262)) === "ustar";
}
