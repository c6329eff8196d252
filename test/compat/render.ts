// docs/compatibility.md from test/compat/cases.ts: test/compat.test.ts checks that the file is what
// this renders, and `bun tools/compat-table.ts` writes it.
import { CASES, type Case } from "./cases";

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

export function counts(cases: Case[] = CASES): Record<Case["verdict"], number> {
  const c = { works: 0, differs: 0, missing: 0 };
  for (const x of cases) c[x.verdict]++;
  return c;
}

export function renderCompatibility(cases: Case[] = CASES): string {
  const c = counts(cases);
  const rows = cases.map(
    (x) =>
      `| \`${cell(x.docker)}\` | ${x.verdict} | ${cell(x.note ?? "as docker")} | ${x.test ? `\`${x.test}\`` : "`test/compat.test.ts`"} |`,
  );
  return `# Docker command lines under hull

Generated from \`test/compat/cases.ts\` by \`bun tools/compat-table.ts > docs/compatibility.md\`;
\`test/compat.test.ts\` runs every line below, in this order, as it is written, with a \`docker\` on
PATH that runs hull, and fails when a line no longer behaves as its row says or this file is not what
the cases render. \`$DIR\` is a directory of small files, \`$REG\` a registry on 127.0.0.1.

- **works**: what docker does, as a script sees it (exit status, output);
- **differs**: it runs, and the row says what differs;
- **missing**: refused with one line that says why (exit 125), and nothing done.

${cases.length} command lines: ${c.works} work, ${c.differs} differ, ${c.missing} missing.

| docker command line | hull | how | test |
|---|---|---|---|
${rows.join("\n")}
`;
}
