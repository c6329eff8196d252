// `hull search`: the registry's catalog (/v2/_catalog) filtered by a term, where the registry offers
// one (Docker Hub does not; it has its own search service).
import { Registry, RegistryError } from "./registry";

export async function searchRegistry(domain: string, term: string, limit: number): Promise<string[]> {
  const registry = new Registry(domain);
  const res = await registry.request(`_catalog?n=1000`, "registry:catalog:*");
  if (res.status === 404 || res.status === 401 || res.status === 403) {
    await res.body?.cancel();
    throw new RegistryError(
      `${domain} does not offer its catalog (${res.status}): search is not available there`,
      res.status,
    );
  }
  if (!res.ok) throw new RegistryError(`${domain} answered ${res.status} for its catalog`, res.status);
  const body = (await res.json()) as { repositories?: string[] };
  return (body.repositories ?? []).filter((r) => r.includes(term)).slice(0, limit);
}
