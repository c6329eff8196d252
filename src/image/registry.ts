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

/** Bodies hull holds in memory, capped: a registry is not trusted to keep them small. */
const MAX_MANIFEST = 4 * 1024 * 1024; // as containerd and the distribution spec's guidance
const MAX_SMALL_BODY = 1024 * 1024; // tokens, error texts
const REDIRECTS = 10;

/** Seconds a registry may stay silent (connecting, or mid-body) before hull gives up: HULL_REGISTRY_TIMEOUT. */
export function idleTimeoutMs(): number {
  const raw = process.env.HULL_REGISTRY_TIMEOUT;
  const s = raw === undefined || raw === "" ? 60 : Number(raw);
  if (!Number.isFinite(s) || s <= 0) throw new RegistryError(`HULL_REGISTRY_TIMEOUT=${raw}: give a number of seconds`);
  return s * 1000;
}

/**
 * STREAM, failing with a RegistryError when no chunk comes for MS: a peer that accepts a connection
 * and then sends nothing would otherwise hold hull forever.
 */
export function idleLimited(stream: ReadableStream<Uint8Array>, ms: number, what: string): ReadableStream<Uint8Array> {
  const reader = stream.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(ctl) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const silent = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new RegistryError(`${what}: nothing received for ${ms / 1000} s`)), ms);
      });
      try {
        const { value, done } = await Promise.race([reader.read(), silent]);
        if (done) ctl.close();
        else ctl.enqueue(value);
      } catch (e) {
        reader.cancel().catch(() => {});
        // a connection that broke mid-body: said in words, with what was being read
        ctl.error(e instanceof RegistryError ? e : new RegistryError(`${what}: ${networkReason(e)}`));
      } finally {
        clearTimeout(timer);
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

/**
 * fetch, giving up when no answer (the headers) comes within MS. The timer covers the headers only:
 * the body has idleLimited, and an abort later would cut a long download that still makes progress.
 */
export async function fetchWithin(url: string, init: RequestInit, ms: number): Promise<Response> {
  const abort = new AbortController();
  let silent = false;
  const timer = setTimeout(() => {
    silent = true;
    abort.abort();
  }, ms);
  try {
    return await fetch(url, { ...init, signal: abort.signal });
  } catch (e) {
    if (silent) throw new Error(`no answer from ${new URL(url).host} within ${ms / 1000} s (HULL_REGISTRY_TIMEOUT)`);
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/** What went wrong on the way to a server, in words (not fetch's hints about `verbose: true`). */
export function networkReason(e: unknown): string {
  const err = e as Error & { code?: string };
  const byCode: Record<string, string> = {
    ECONNREFUSED: "connection refused (is the server running, and the address and port right?)",
    ENOTFOUND: "no such host (is the name right?)",
    EAI_AGAIN: "the name cannot be looked up now (is DNS reachable?)",
    ECONNRESET: "the connection was reset",
    ETIMEDOUT: "the connection timed out",
    EHOSTUNREACH: "the host is unreachable",
    ENETUNREACH: "the network is unreachable",
    UNABLE_TO_VERIFY_LEAF_SIGNATURE: "its TLS certificate is not trusted (HULL_INSECURE_REGISTRIES for plain http)",
    DEPTH_ZERO_SELF_SIGNED_CERT: "its TLS certificate is self-signed (HULL_INSECURE_REGISTRIES for plain http)",
    SELF_SIGNED_CERT_IN_CHAIN: "its TLS certificate is self-signed (HULL_INSECURE_REGISTRIES for plain http)",
    ERR_TLS_CERT_ALTNAME_INVALID: "its TLS certificate is for another name",
  };
  if (err?.code && byCode[err.code]) return byCode[err.code] as string;
  if (/redirect/i.test(err?.message ?? "")) return "too many redirects";
  // Bun's advice to its own developers is no help to a user
  return (
    (err?.message ?? String(e))
      .split("\n")[0]
      ?.replace(/ Is the computer able to access the url\?$/, "")
      .replace(/ For more information, pass `verbose: true` in the second argument to fetch\(\)$/, "") ?? ""
  );
}

/**
 * URL (any http server: an ADD source, an import tarball) streamed into FILE with the registry's
 * timeouts; its response headers. Errors say what happened, for the caller to prefix with the URL.
 */
export async function downloadTo(url: string, file: string): Promise<Headers> {
  const ms = idleTimeoutMs();
  const res = await fetchWithin(url, { redirect: "follow" }, ms);
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error(`the server answered ${res.status} ${res.statusText}`);
  }
  // streamed to the file: a large download is never held in memory whole
  await Bun.write(file, new Response(res.body ? idleLimited(res.body, ms, "the download") : null));
  return res.headers;
}

/** RES's body, at most MAX bytes (else a RegistryError naming WHAT), with the idle timeout. */
export async function readCapped(res: Response, max: number, what: string): Promise<Uint8Array> {
  if (!res.body) return new Uint8Array(0);
  const declared = Number(res.headers.get("content-length") ?? "");
  if (Number.isFinite(declared) && declared > max) {
    await res.body.cancel();
    throw new RegistryError(`${what} is ${declared} bytes, more than the ${max} hull accepts: refusing it`);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of idleLimited(res.body, idleTimeoutMs(), what)) {
    total += chunk.length;
    if (total > max) throw new RegistryError(`${what} is more than the ${max} bytes hull accepts: refusing it`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

const bodyText = async (res: Response, what: string) =>
  new TextDecoder().decode(await readCapped(res, MAX_SMALL_BODY, what));

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

  /**
   * One request, following redirects by hand: credentials go only to this registry's own origin,
   * never to the host a redirect (a blob's CDN) or an upload's Location names. Connecting and the
   * headers get the idle timeout.
   */
  private async fetchOnce(url: string, init: RequestInit, trusted: string): Promise<Response> {
    const ms = idleTimeoutMs();
    let target = url;
    for (let hop = 0; hop <= REDIRECTS; hop++) {
      const headers = new Headers(init.headers);
      if (new URL(target).origin !== trusted) headers.delete("authorization");
      const res = await fetchWithin(target, { ...init, headers, redirect: "manual" }, ms);
      const location = res.headers.get("location");
      if (res.status < 300 || res.status >= 400 || res.status === 304 || !location) return res;
      await res.body?.cancel();
      target = new URL(location, target).toString();
    }
    throw new Error(`more than ${REDIRECTS} redirects from ${url}`);
  }

  /** TRUSTED: the origin credentials may go to (the registry's own, or the token realm it named) */
  private async fetchRetrying(url: string, init: RequestInit, trusted = new URL(this.base).origin): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await this.fetchOnce(url, init, trusted);
        if ((res.status >= 500 || res.status === 429) && attempt < RETRIES.length) {
          await res.body?.cancel();
          await Bun.sleep(RETRIES[attempt] as number);
          continue;
        }
        return res;
      } catch (e) {
        if (attempt >= RETRIES.length) {
          throw new RegistryError(`cannot reach ${this.domain}: ${networkReason(e)}`);
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
    // the realm the registry named gets the credentials (Docker Hub's is auth.docker.io); a redirect
    // away from it does not
    const res = await this.fetchRetrying(url.toString(), { headers }, url.origin);
    if (!res.ok) {
      await res.body?.cancel();
      const hint = this.creds ? "check the credentials (hull login)" : `log in first: hull login ${this.domain}`;
      throw new RegistryError(`${this.domain} refused a token (${res.status}): ${hint}`, res.status);
    }
    let body: { token?: string; access_token?: string };
    try {
      body = JSON.parse(await bodyText(res, `${this.domain}'s token`));
    } catch (e) {
      if (e instanceof RegistryError) throw e;
      throw new RegistryError(`${this.domain}'s token service answered something that is not JSON`);
    }
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
      const text = (await bodyText(res, `${this.domain}'s answer`)).slice(0, 200);
      throw new RegistryError(`${this.domain} answered ${res.status} for the manifest of ${repo}: ${text}`, res.status);
    }
    const bytes = await readCapped(res, MAX_MANIFEST, `the manifest of ${this.domain}/${repo}:${reference}`);
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
    return idleLimited(res.body, idleTimeoutMs(), `blob ${digest} from ${this.domain}`);
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
  async uploadBlob(
    repo: string,
    digest: string,
    file: Blob,
    size: number,
    chunk = 8 * 1024 * 1024,
    sent: (bytes: number) => void = () => {},
  ): Promise<void> {
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
        sent(end);
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
    sent(size);
  }

  async putManifest(repo: string, reference: string, bytes: Uint8Array, mediaType: string): Promise<string> {
    const res = await this.request(`${repo}/manifests/${reference}`, `repository:${repo}:pull,push`, {
      method: "PUT",
      body: bytes,
      headers: { "content-type": mediaType },
    });
    const text = await bodyText(res, `${this.domain}'s answer`);
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
