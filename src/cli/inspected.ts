// What every inspect prints: the objects found as one JSON array (docker's default, and --format
// json), or a --format template applied to each, a line each (`{{.State.Running}}`).
import { formatArg } from "./listing";
import { print } from "./output";
import { parseTemplate, TemplateError } from "./template";

export const formatFlag = {
  format: { type: "string", alias: "f", description: "A Go template applied to each ({{.State.Running}}), or json" },
} as const;

/** Parsed before anything is looked up: a bad template is an error of its own, exit 125. */
export function inspectPrinter(format: unknown): (found: unknown[]) => void {
  const f = formatArg(format);
  if (f === undefined || f === "" || f === "json") return (found) => print(JSON.stringify(found, null, 2));
  const tpl = parseTemplate(f.replace(/\\t/g, "\t").replace(/\\n/g, "\n"));
  return (found) => {
    for (const o of found) {
      try {
        print(tpl.execute(o));
      } catch (e) {
        if (e instanceof TemplateError) throw new TemplateError(`template: ${e.message}`);
        throw e;
      }
    }
  };
}
