// A client of the distribution API (OCI distribution spec) over Bun's fetch: the WWW-Authenticate
// Bearer token flow (anonymous or with credentials), basic auth, retries of passing failures.
import { credentialsFor, type Credentials } from "./auth";
import { sha256 } from "./digest";
import { ACCEPT } from "./manifest";
import { registryHost, registryScheme } from "./reference";

export class RegistryError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** `Bearer realm="https://auth",service="registry",scope="repository:a:pull"` */
export function parseChallenge(header: string): Challenge {
  const space = header.indexOf(" ");
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
  const params: Record<string, string> = {};
  for (const m of header.slice(space + 1).matchAll(/([a-zA-Z_]+)="([^"]*)"/g))
    params[(m[1] as string).toLowerCase()] = m[2] as string;
  return { scheme, params };
}

const RETRIES = [200, 800];

export class Registry {
  private readonly base: string;
  private readonly creds: Credentials | undefined;
  private bearer = new Map<string, string>();
  private basic = false;

  constructor(
    readonly domain: string,
    opts: { credentials?: Credentials } = {},
  ) {
    this.base = `${registryScheme(domain)}://${registryHost(domain)}`;
    this.creds = opts.credentials ?? credentialsFor(domain);
  }

  private authHeader(scope: string): string | undefined {
    const token = this.bearer.get(scope);
    if (token) return `Bearer ${token}`;
    if (this.basic && this.creds) return `Basic ${btoa(`${this.creds.username}:${this.creds.password}`)}`;
    return undefined;
  }

  private async fetchRetrying(url: string, init: RequestInit): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await fetch(url, { ...init, redirect: "follow" });
        if ((res.status >= 500 || res.status === 429) && attempt < RETRIES.length) {
          await res.body?.cancel();
          await Bun.sleep(RETRIES[attempt] as number);
          continue;
        }
        return res;
      } catch (e) {
        if (attempt >= RETRIES.length) {
          throw new RegistryError(`cannot reach ${this.domain}: ${(e as Error).message}`);
        }
        await Bun.sleep(RETRIES[attempt] as number);
      }
    }
  }

  private async authenticate(challenge: Challenge, scope: string): Promise<void> {
    if (challenge.scheme === "basic") {
      if (!this.creds) throw new RegistryError(`${this.domain} requires a login: hull login ${this.domain}`, 401);
      this.basic = true;
      return;
    }
    if (challenge.scheme !== "bearer" || !challenge.params.realm) {
      throw new RegistryError(`${this.domain} asks for an authentication hull does not know: ${challenge.scheme}`);
    }
    const url = new URL(challenge.params.realm);
    if (challenge.params.service) url.searchParams.set("service", challenge.params.service);
    url.searchParams.set("scope", challenge.params.scope ?? scope);
    const headers: Record<string, string> = {};
    if (this.creds) headers.authorization = `Basic ${btoa(`${this.creds.username}:${this.creds.password}`)}`;
    const res = await this.fetchRetrying(url.toString(), { headers });
    if (!res.ok) {
      await res.body?.cancel();
      const hint = this.creds ? "check the credentials (hull login)" : `log in first: hull login ${this.domain}`;
      throw new RegistryError(`${this.domain} refused a token (${res.status}): ${hint}`, res.status);
    }
    const body = (await res.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new RegistryError(`${this.domain}'s token service answered without a token`);
    this.bearer.set(scope, token);
  }

  /** A request to PATH (under /v2/), authenticating on a 401 challenge once. */
  async request(path: string, scope: string, init: RequestInit = {}): Promise<Response> {
    return this.requestUrl(`${this.base}/v2/${path}`, scope, init);
  }

  /** A request to an absolute URL of this registry (an upload's Location), authenticating as request does. */
  async requestUrl(url: string, scope: string, init: RequestInit = {}): Promise<Response> {
    for (let round = 0; round < 2; round++) {
      const headers = new Headers(init.headers);
      const auth = this.authHeader(scope);
      if (auth) headers.set("authorization", auth);
      const res = await this.fetchRetrying(url, { ...init, headers });
      if (res.status !== 401 || round === 1) return res;
      await res.body?.cancel();
      const header = res.headers.get("www-authenticate");
      if (!header) throw new RegistryError(`${this.domain} answered 401 without a challenge`, 401);
      await this.authenticate(parseChallenge(header), scope);
    }
    throw new RegistryError("unreachable");
  }

  /** The manifest REFERENCE (tag or digest) of REPO, with its digest (checked when REFERENCE is one). */
  async manifest(repo: string, reference: string): Promise<{ bytes: Uint8Array; contentType: string; digest: string }> {
    const res = await this.request(`${repo}/manifests/${reference}`, `repository:${repo}:pull`, {
      headers: { accept: ACCEPT },
    });
    if (res.status === 404) {
      await res.body?.cancel();
      throw new RegistryError(
        `${this.domain}/${repo}:${reference} not found (is the name right? private images need hull login)`,
        404,
      );
    }
    if (!res.ok) {
      const text = (await res.text()).slice(0, 200);
      throw new RegistryError(`${this.domain} answered ${res.status} for the manifest of ${repo}: ${text}`, res.status);
    }
    const bytes = new Uint8Array(await res.arrayBuffer());
    const digest = sha256(bytes);
    if (reference.startsWith("sha256:") && digest !== reference) {
      throw new RegistryError(`the manifest ${this.domain}/${repo}@${reference} hashes to ${digest}: refusing it`);
    }
    return { bytes, contentType: res.headers.get("content-type") ?? "", digest };
  }

  /** The blob DIGEST of REPO as a stream; the caller verifies it while storing. */
  async blob(repo: string, digest: string): Promise<ReadableStream<Uint8Array>> {
    const res = await this.request(`${repo}/blobs/${digest}`, `repository:${repo}:pull`);
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      throw new RegistryError(`${this.domain} answered ${res.status} for blob ${digest} of ${repo}`, res.status);
    }
    return res.body;
  }

  /** Does REPO have blob DIGEST already? */
  async hasBlob(repo: string, digest: string): Promise<boolean> {
    const res = await this.request(`${repo}/blobs/${digest}`, `repository:${repo}:pull,push`, { method: "HEAD" });
    await res.body?.cancel();
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    throw new RegistryError(`${this.domain} answered ${res.status} for blob ${digest} of ${repo}`, res.status);
  }

  /** Ask REPO to take blob DIGEST from FROM, another repository of this registry; true when it did. */
  async mountBlob(repo: string, digest: string, from: string): Promise<boolean> {
    const q = new URLSearchParams({ mount: digest, from });
    const res = await this.request(
      `${repo}/blobs/uploads/?${q}`,
      `repository:${repo}:pull,push repository:${from}:pull`,
      {
        method: "POST",
      },
    );
    await res.body?.cancel();
    return res.status === 201;
  }

  /**
   * Upload blob DIGEST of SIZE bytes from FILE: one PUT when small, PATCH chunks then the closing
   * PUT when large (the distribution spec's chunked upload).
   */
  async uploadBlob(repo: string, digest: string, file: Blob, size: number, chunk = 8 * 1024 * 1024): Promise<void> {
    const scope = `repository:${repo}:pull,push`;
    const start = await this.request(`${repo}/blobs/uploads/`, scope, { method: "POST" });
    await start.body?.cancel();
    if (start.status !== 202)
      throw new RegistryError(`${this.domain} refused an upload to ${repo} (${start.status})`, start.status);
    let location = this.uploadUrl(start);
    if (size > chunk) {
      for (let off = 0; off < size; off += chunk) {
        const end = Math.min(size, off + chunk);
        const res = await this.requestUrl(location, scope, {
          method: "PATCH",
          body: file.slice(off, end),
          headers: { "content-type": "application/octet-stream", "content-range": `${off}-${end - 1}` },
        });
        await res.body?.cancel();
        if (res.status !== 202)
          throw new RegistryError(`${this.domain} refused a chunk of ${digest} (${res.status})`, res.status);
        location = this.uploadUrl(res);
      }
    }
    const done = new URL(location);
    done.searchParams.set("digest", digest);
    const res = await this.requestUrl(done.toString(), scope, {
      method: "PUT",
      body: size > chunk ? undefined : file,
      headers: { "content-type": "application/octet-stream" },
    });
    await res.body?.cancel();
    if (res.status !== 201)
      throw new RegistryError(`${this.domain} refused blob ${digest} (${res.status})`, res.status);
  }

  async putManifest(repo: string, reference: string, bytes: Uint8Array, mediaType: string): Promise<string> {
    const res = await this.request(`${repo}/manifests/${reference}`, `repository:${repo}:pull,push`, {
      method: "PUT",
      body: bytes,
      headers: { "content-type": mediaType },
    });
    const text = await res.text();
    if (res.status !== 201)
      throw new RegistryError(
        `${this.domain} refused the manifest of ${repo}:${reference} (${res.status}): ${text.slice(0, 200)}`,
        res.status,
      );
    return res.headers.get("docker-content-digest") ?? "";
  }

  private uploadUrl(res: Response): string {
    const loc = res.headers.get("location");
    if (!loc) throw new RegistryError(`${this.domain} started an upload without a Location`);
    return new URL(loc, this.base).toString();
  }
}
