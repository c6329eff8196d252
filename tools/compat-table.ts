// Prints docs/compatibility.md: bun tools/compat-table.ts > docs/compatibility.md
import { renderCompatibility } from "../test/compat/render";

process.stdout.write(renderCompatibility());
