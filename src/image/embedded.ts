// The default image, built by rootfs/build.sh and embedded in the binary, so that `hull run busybox`
// works offline on a fresh machine.
import layerPath from "../../build/busybox-image/layer.tar" with { type: "file" };
import configText from "../../build/busybox-image/config" with { type: "text" };

/** Docker spellings of the embedded image's name. */
const ALIASES = new Set([
  "busybox",
  "busybox:latest",
  "library/busybox",
  "library/busybox:latest",
  "docker.io/library/busybox",
  "docker.io/library/busybox:latest",
]);

export function isEmbedded(name: string): boolean {
  return ALIASES.has(name);
}

/** The config exactly as built, byte for byte: its sha256 is the image id. */
export function embeddedConfigText(): string {
  return configText;
}

export function embeddedLayer(): ReadableStream<Uint8Array> {
  return Bun.file(layerPath).stream();
}
