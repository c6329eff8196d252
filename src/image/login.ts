// `hull login` / `hull logout`: credentials checked against the registry, then kept in hull's auth
// file (Docker's config.json format, mode 0600), which `hull pull` reads first.
import { mkdirSync, readFileSync } from "node:fs";
import { dirname } from "../sys/path";
import { writeFileAtomic } from "../store/atomic";
import { authFiles, type Credentials } from "./auth";
import { Registry, RegistryError } from "./registry";

function hullAuthFile(): string {
  return authFiles()[0] as string;
}

function readAuths(file: string): { auths: Record<string, { auth?: string }> } {
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as { auths?: Record<string, { auth?: string }> };
    return { ...parsed, auths: parsed.auths ?? {} };
  } catch {
    return { auths: {} };
  }
}

export async function login(domain: string, creds: Credentials): Promise<string> {
  // docker takes `login https://registry.example/v2/` too: the host is what counts
  domain = domain.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
  if (!domain) throw new RegistryError("hull login needs a registry host: hull login HOST[:PORT]");
  const registry = new Registry(domain, { credentials: creds });
  const res = await registry.request("", "registry:catalog:*");
  await res.body?.cancel();
  if (res.status === 401 || res.status === 403)
    throw new RegistryError(`${domain} refused these credentials`, res.status);
  if (!res.ok && res.status !== 404) throw new RegistryError(`${domain} answered ${res.status}`, res.status);
  const file = hullAuthFile();
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const data = readAuths(file);
  data.auths[domain] = { auth: btoa(`${creds.username}:${creds.password}`) };
  writeFileAtomic(file, `${JSON.stringify(data, null, 2)}\n`, 0o600);
  return file;
}

export function logout(domain: string): boolean {
  const file = hullAuthFile();
  const data = readAuths(file);
  if (!data.auths[domain]) return false;
  delete data.auths[domain];
  writeFileAtomic(file, `${JSON.stringify(data, null, 2)}\n`, 0o600);
  return true;
}
