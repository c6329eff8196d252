// Names of the links a container gets in the shared namespace, shared by the run path (which must
// not load node:crypto: Bun's own hasher costs nothing to load) and network management.

/** The veth end in the shared namespace: unique per container and network (a hash of both), 15 characters. */
export const vethName = (containerId: string, networkId: string) =>
  `hv${new Bun.CryptoHasher("sha256").update(`${containerId}/${networkId}`).digest("hex").slice(0, 13)}`;
