/** Go's time.Time as docker prints it in listings: "2006-01-02 15:04:05 -0700 MST" (in UTC). */
export function goTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return `${d.toISOString().slice(0, 19).replace("T", " ")} +0000 UTC`;
}
