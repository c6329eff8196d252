// Image references with Docker's normalisation: `busybox` is docker.io/library/busybox:latest; the
// first component is a registry host only if it has a dot or a colon, or is `localhost`.
export interface Reference {
  /** registry host as the user names it: docker.io, 127.0.0.1:5000, ghcr.io */
  domain: string;
  /** repository path: library/busybox, team/app */
  path: string;
  tag?: string;
  digest?: string;
}

export class InvalidReferenceError extends Error {}

export const DEFAULT_DOMAIN = "docker.io";
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$|^sha512:[a-f0-9]{128}$/;
const DOMAIN =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::\d{1,5})?$|^\[[0-9a-fA-F:]+\](?::\d{1,5})?$/;

export function parseReference(input: string): Reference {
  const bad = (why: string) => new InvalidReferenceError(`invalid image reference ${JSON.stringify(input)}: ${why}`);
  if (input === "") throw bad("it is empty");
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad("a digest is sha256: and 64 lowercase hex digits");
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad("a tag is up to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-'");
  }
  const slash = rest.indexOf("/");
  let domain = DEFAULT_DOMAIN;
  let path = rest;
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes(".") || first.includes(":") || first === "localhost") {
      domain = first;
      path = rest.slice(slash + 1);
      if (!DOMAIN.test(domain)) throw bad(`${domain} is not a registry host`);
    }
  }
  if (domain === "index.docker.io") domain = DEFAULT_DOMAIN;
  if (path === "") throw bad("no repository name");
  if (path !== path.toLowerCase()) throw bad("repository names must be lowercase");
  for (const c of path.split("/")) {
    if (!COMPONENT.test(c)) throw bad(`${JSON.stringify(c)} is not a valid name component`);
  }
  if (domain === DEFAULT_DOMAIN && !path.includes("/")) path = `library/${path}`;
  if (!tag && !digest) tag = "latest";
  return { domain, path, tag, digest };
}

/** docker.io/library/busybox:latest, or ...@sha256:... for a digest reference. */
export function formatReference(r: Reference): string {
  return `${r.domain}/${r.path}${r.tag ? `:${r.tag}` : ""}${r.digest ? `@${r.digest}` : ""}`;
}

/** The short form `hull images` shows: busybox, 127.0.0.1:5000/team/app. */
export function familiarName(r: Pick<Reference, "domain" | "path">): string {
  if (r.domain !== DEFAULT_DOMAIN) return `${r.domain}/${r.path}`;
  return r.path.startsWith("library/") ? r.path.slice("library/".length) : `${r.path}`;
}

/** The host to talk to: Docker Hub's API lives on registry-1.docker.io. */
export function registryHost(domain: string): string {
  return domain === DEFAULT_DOMAIN ? "registry-1.docker.io" : domain;
}

/** Plain http only for hosts on this machine, or hosts the user marked insecure (HULL_INSECURE_REGISTRIES, or the config's registries.insecure). */
export function registryScheme(domain: string, insecure: string[] = insecureRegistries()): "http" | "https" {
  const host = domain.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
  if (host === "localhost" || host === "127.0.0.1" || host === "::1" || /^127\./.test(host)) return "http";
  return insecure.includes(domain) ? "http" : "https";
}

function insecureRegistries(): string[] {
  const { loadConfig } = require("../store/config") as typeof import("../store/config");
  return [
    ...(process.env.HULL_INSECURE_REGISTRIES ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
    ...(loadConfig().config.registries?.insecure ?? []),
  ];
}

/** NAME has no registry host of its own (busybox, team/app): docker's short names. */
export function isShortName(name: string): boolean {
  const rest = name.split("@")[0] as string;
  const slash = rest.indexOf("/");
  if (slash < 0) return true;
  const first = rest.slice(0, slash);
  return !(first.includes(".") || first.includes(":") || first === "localhost");
}

/**
 * The full names a short NAME stands for, in the order they are tried: one per registry of the
 * config's registries.search (podman's unqualified-search-registries), else docker's one, docker.io.
 * A name with its registry stands for itself.
 */
export function nameCandidates(name: string): string[] {
  // (an image id is looked for before a name, by findImage; `cafe` is a name here, and a pull never
  // means an id: a short name of hex letters must not slip past the search list to docker.io)
  if (!isShortName(name)) return [name];
  const { loadConfig } = require("../store/config") as typeof import("../store/config");
  const search = loadConfig().config.registries?.search;
  if (!search) return [name];
  return search.map((domain) => `${domain}/${name}`);
}
