import type { HullCommand } from "../command";
import { inspectPrinter } from "../inspected";
import { print } from "../output";
import { ABI } from "../../runtime/abi";
import { VERSION } from "../version";

/** What `--format` sees: docker's Client and Server (hull has no daemon: both are this executable) */
export function versionInfo() {
  const arch = ({ x64: "amd64", arm64: "arm64" } as Record<string, string>)[process.arch] ?? process.arch;
  const side = {
    Version: VERSION,
    ApiVersion: "1.41",
    Os: process.platform,
    Arch: arch,
    BunVersion: Bun.version,
    ShimAbi: ABI.HULL_ABI_VERSION,
  };
  return { Client: side, Server: side };
}

const command: HullCommand = {
  meta: { name: "version", description: "Show hull's version: hull version [--format '{{.Client.Version}}'|json]" },
  takes: 0,
  args: {
    format: { type: "string", alias: "f", description: "A Go template ({{.Client.Version}}), or json" },
  },
  run({ args }) {
    if (args.format === undefined) {
      print(`hull ${VERSION}\nshim abi ${ABI.HULL_ABI_VERSION}\nbun ${Bun.version}`);
      return;
    }
    const info = versionInfo();
    if (args.format === "json") print(JSON.stringify(info));
    else inspectPrinter(args.format)([info]);
  },
};
export default command;
