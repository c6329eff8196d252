import type { HullCommand } from "../command";
import { print } from "../output";
import { ABI } from "../../runtime/abi";
import { VERSION } from "../version";

const command: HullCommand = {
  meta: { name: "version", description: "Show hull's version" },
  takes: 0,
  run() {
    print(`hull ${VERSION}\nshim abi ${ABI.HULL_ABI_VERSION}\nbun ${Bun.version}`);
  },
};
export default command;
