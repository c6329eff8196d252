// Manifests as registries serve them: OCI image manifest and index, Docker schema 2 manifest and
// manifest list. Parsed by schema; the index is resolved to one platform.
import * as v from "valibot";
import { lazily } from "../sys/lazy-schema";
import { schemaProblem } from "./schema-problem";

export const MEDIA = {
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
} as const;

export const ACCEPT = [MEDIA.ociIndex, MEDIA.ociManifest, MEDIA.dockerList, MEDIA.dockerManifest].join(", ");

const Descriptor = lazily(() =>
  v.object({
    mediaType: v.string(),
    digest: v.pipe(v.string(), v.regex(/^sha256:[a-f0-9]{64}$/, "a sha256 digest")),
    size: v.pipe(v.number(), v.integer(), v.minValue(0)),
    platform: v.optional(v.object({ os: v.string(), architecture: v.string(), variant: v.optional(v.string()) })),
  }),
);
export type Descriptor = v.InferOutput<typeof Descriptor>;

const ImageManifest = lazily(() =>
  v.object({
    schemaVersion: v.literal(2),
    mediaType: v.optional(v.string()),
    config: Descriptor,
    layers: v.array(Descriptor),
  }),
);
export type ImageManifest = v.InferOutput<typeof ImageManifest>;

const ImageIndex = lazily(() =>
  v.object({
    schemaVersion: v.literal(2),
    mediaType: v.optional(v.string()),
    manifests: v.array(Descriptor),
  }),
);
export type ImageIndex = v.InferOutput<typeof ImageIndex>;

export type Parsed = { kind: "manifest"; manifest: ImageManifest } | { kind: "index"; index: ImageIndex };

export function parseManifest(bytes: Uint8Array, contentType: string, origin: string): Parsed {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new Error(`manifest of ${origin} is not JSON`);
  }
  const mediaType = (json as { mediaType?: string }).mediaType ?? contentType.split(";")[0]?.trim();
  const isIndex =
    mediaType === MEDIA.ociIndex ||
    mediaType === MEDIA.dockerList ||
    (!mediaType && Array.isArray((json as { manifests?: unknown }).manifests));
  if (isIndex) {
    const r = v.safeParse(ImageIndex, json);
    if (!r.success) throw new Error(`image index of ${origin} is invalid: ${schemaProblem(r.issues)}`);
    return { kind: "index", index: r.output };
  }
  if (mediaType && mediaType !== MEDIA.ociManifest && mediaType !== MEDIA.dockerManifest) {
    throw new Error(
      `manifest of ${origin} has media type ${mediaType}, which hull cannot run (schema 1 or an artifact?)`,
    );
  }
  const r = v.safeParse(ImageManifest, json);
  if (!r.success) throw new Error(`manifest of ${origin} is invalid: ${schemaProblem(r.issues)}`);
  return { kind: "manifest", manifest: r.output };
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

const ARCH: Record<string, string> = {
  x64: "amd64",
  arm64: "arm64",
  arm: "arm",
  ia32: "386",
  ppc64: "ppc64le",
  s390x: "s390x",
};

export function hostPlatform(): Platform {
  return { os: "linux", architecture: ARCH[process.arch] ?? process.arch };
}

/** "linux/arm64/v8" -> Platform */
export function parsePlatform(s: string): Platform {
  const [os, architecture, variant] = s.split("/");
  if (!os || !architecture) throw new Error(`--platform takes os/arch[/variant], like linux/amd64, not ${s}`);
  return { os, architecture, variant };
}

export function selectPlatform(index: ImageIndex, want: Platform, origin: string): Descriptor {
  const candidates = index.manifests.filter(
    (m) => m.platform?.os === want.os && m.platform?.architecture === want.architecture,
  );
  const exact = candidates.find((m) => !want.variant || m.platform?.variant === want.variant);
  const found = exact ?? (want.variant ? undefined : candidates[0]);
  if (!found) {
    const offered = index.manifests
      .map((m) =>
        m.platform ? [m.platform.os, m.platform.architecture, m.platform.variant].filter(Boolean).join("/") : "?",
      )
      .join(", ");
    const w = [want.os, want.architecture, want.variant].filter(Boolean).join("/");
    throw new Error(`${origin} has no image for ${w} (it offers ${offered}); choose one with --platform`);
  }
  return found;
}
