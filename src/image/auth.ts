// Registry credentials, from the files Docker and podman keep (both in Docker's format): hull's own
// ($XDG_CONFIG_HOME/hull/auth.json, written by `hull login`), podman's
// ($XDG_RUNTIME_DIR/containers/auth.json) and Docker's (~/.docker/config.json), first match wins.
import { homeDir } from "../sys/home";
import { join } from "../sys/path";
import * as v from "valibot";
import { lazily } from "../sys/lazy-schema";
import { readFileText } from "../sys/libc";

export interface Credentials {
  username: string;
  password: string;
}

const AuthFile = lazily(() =>
  v.object({
    auths: v.optional(v.record(v.string(), v.object({ auth: v.optional(v.string()) }))),
  }),
);

export function authFiles(): string[] {
  const config = process.env.XDG_CONFIG_HOME || join(homeDir(), ".config");
  // only the caller's own: after su, XDG_RUNTIME_DIR may still name the other user's
  const { userRuntimeDir } = require("../runtime/runtime-dir") as typeof import("../runtime/runtime-dir");
  const runtime = userRuntimeDir()?.dir;
  return [
    process.env.HULL_AUTH_FILE || join(config, "hull", "auth.json"),
    ...(runtime ? [join(runtime, "containers", "auth.json")] : []),
    join(homeDir(), ".docker", "config.json"),
  ];
}

function keysFor(domain: string): string[] {
  if (domain === "docker.io")
    return ["docker.io", "index.docker.io", "https://index.docker.io/v1/", "registry-1.docker.io"];
  return [domain, `https://${domain}`, `http://${domain}`];
}

export function credentialsFor(domain: string, files = authFiles()): Credentials | undefined {
  for (const file of files) {
    const text = readFileText(file);
    if (!text) continue;
    let parsed: v.InferOutput<typeof AuthFile>;
    try {
      parsed = v.parse(AuthFile, JSON.parse(text));
    } catch {
      throw new Error(`${file} is not a valid auth file (Docker's config.json format)`);
    }
    for (const key of keysFor(domain)) {
      const auth = parsed.auths?.[key]?.auth;
      if (!auth) continue;
      const decoded = Buffer.from(auth, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon < 0) throw new Error(`${file}: the credentials for ${key} are not user:password in base64`);
      return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
  }
  return undefined;
}
