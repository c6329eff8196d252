// Content digests: every manifest and blob hull stores is checked against the digest that names it.
export class DigestMismatchError extends Error {}

/** Content that should hash to EXPECTED hashed to GOT: the error, in one wording wherever it is found. */
export const contentMismatch = (expected: string, got: string) =>
  new DigestMismatchError(`content of ${expected} hashes to ${got}`);

export const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

export function sha256(data: Uint8Array | string): string {
  return `sha256:${new Bun.CryptoHasher("sha256").update(data).digest("hex")}`;
}

export function digestHex(digest: string): string {
  if (!DIGEST_RE.test(digest)) throw new Error(`unsupported digest ${digest}: hull stores sha256 content only`);
  return digest.slice("sha256:".length);
}

/** A TransformStream that hashes what passes through and fails the stream at the end on a mismatch. */
export function verifyingStream(expected: string, expectedSize?: number): TransformStream<Uint8Array, Uint8Array> {
  digestHex(expected);
  const hasher = new Bun.CryptoHasher("sha256");
  let size = 0;
  return new TransformStream({
    transform(chunk, controller) {
      hasher.update(chunk);
      size += chunk.length;
      if (expectedSize !== undefined && size > expectedSize) {
        controller.error(
          new DigestMismatchError(`${expected}: more than the ${expectedSize} bytes the manifest announced`),
        );
        return;
      }
      controller.enqueue(chunk);
    },
    flush(controller) {
      const got = `sha256:${hasher.digest("hex")}`;
      if (got !== expected) controller.error(contentMismatch(expected, got));
      else if (expectedSize !== undefined && size !== expectedSize)
        controller.error(new DigestMismatchError(`${expected}: ${size} bytes, the manifest announced ${expectedSize}`));
    },
  });
}
