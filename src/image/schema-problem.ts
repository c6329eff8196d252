// Outside data that fails its schema, said in one line: the first problem with where it is
// (valibot's summary is one multi-line block per issue, which buried the one that mattered).
import * as v from "valibot";

export function schemaProblem(issues: readonly v.BaseIssue<unknown>[]): string {
  const first = issues[0];
  if (!first) return "it does not match its schema";
  const where = v.getDotPath(first);
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? "s" : ""})` : "";
  return `${where ? `${where}: ` : ""}${first.message}${more}`;
}
