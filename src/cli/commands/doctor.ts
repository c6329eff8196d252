import type { HullCommand } from "../command";
import { print } from "../output";
import { apparmorProfile, hostChecks } from "../../runtime/host";
import { storePaths, storeRoot } from "../../store/paths";

const command: HullCommand = {
  meta: { name: "doctor", description: "Show what this host offers hull, and how to fix what is missing" },
  takes: 0,
  args: {
    root: { type: "string", description: "Store directory to probe" },
    json: { type: "boolean", description: "Print the checks as JSON" },
    "apparmor-profile": {
      type: "boolean",
      description:
        "Print the AppArmor profile that lets this hull make user namespaces (Ubuntu 23.10+), and nothing else",
    },
  },
  async run({ args }) {
    if (args["apparmor-profile"]) {
      process.stdout.write(apparmorProfile());
      return;
    }
    const root = typeof args.root === "string" ? args.root : undefined;
    const paths = storePaths(storeRoot(root));
    const checks = await hostChecks(paths.root, paths.tmp);
    if (args.json) {
      print(JSON.stringify(checks, null, 2));
    } else {
      const w = Math.max(...checks.map((c) => c.name.length));
      const lines = checks.map((c) => {
        const head = `${c.ok ? "ok  " : c.required ? "FAIL" : "no  "}  ${c.name.padEnd(w)}  ${c.detail}`;
        return c.fix && !c.ok ? `${head}\n${" ".repeat(w + 8)}fix: ${c.fix}` : head;
      });
      print(lines.join("\n"));
    }
    if (checks.some((c) => c.required && !c.ok)) process.exitCode = 1;
  },
};
export default command;
