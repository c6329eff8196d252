// docs/commands.md, from the command table: bun tools/commands-doc.ts > docs/commands.md
import { commandsMarkdown, walkCommands } from "../src/cli/reference";

const { leaves } = await walkCommands();
process.stdout.write(commandsMarkdown(leaves));
