// The /etc/hostname, /etc/hosts and /etc/resolv.conf a container gets: files in its directory that
// the shim binds over the image's (plan.ts), for `hull run` and for a build's RUN alike.
import { join } from "node:path";
import { writeNewFile } from "../store/atomic";
import { readFileText } from "../sys/libc";

export interface EtcFiles {
  hostname: string;
  hosts: string;
  resolvConf: string;
}

function hostFile(path: string): string {
  try {
    return readFileText(path) ?? "";
  } catch {
    return "";
  }
}

/**
 * Write them into DIR, which is new and private until the shim starts (plain writes suffice). With
 * the host's network the host's /etc/hosts; else localhost and HOSTNAME. resolv.conf is the host's.
 */
export function writeEtcFiles(dir: string, hostname: string, network: "none" | "host"): EtcFiles {
  const files = { hostname: join(dir, "hostname"), hosts: join(dir, "hosts"), resolvConf: join(dir, "resolv.conf") };
  writeNewFile(files.hostname, `${hostname}\n`);
  writeNewFile(
    files.hosts,
    network === "host"
      ? hostFile("/etc/hosts")
      : `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t${hostname}\n`,
  );
  writeNewFile(files.resolvConf, hostFile("/etc/resolv.conf"));
  return files;
}
