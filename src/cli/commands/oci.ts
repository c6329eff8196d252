import type { HullCommand } from "../command";

// runc's command line, parsed as runc parses it (global flags before the command): src/oci/cli.ts
const command: HullCommand = {
  meta: {
    name: "oci",
    description:
      "The OCI runtime command line on bundles (runc's): hull oci spec|create|start|run|state|kill|delete|list|ps|features",
  },
  ownArgs: true,
  async run({ rawArgs }) {
    const { ociMain } = await import("../../oci/cli");
    process.exitCode = await ociMain(rawArgs);
  },
};
export default command;
