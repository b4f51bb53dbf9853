// CSV (RFC 4180): fields with a comma, quote, or line break are quoted, and
// quotes inside are doubled; lines end with CRLF. Text that a spreadsheet
// would run as a formula (= + - @ at the start, or a tab/CR) gets a leading
// apostrophe, so a display name cannot become a formula in Excel.
export type CsvValue = string | number | bigint | boolean;

export function csvField(value: CsvValue, { text = true } = {}): string {
  let s = typeof value === "boolean" ? (value ? "yes" : "no") : String(value);
  if (text && typeof value === "string" && /^[=+\-@\t\r]/.test(s)) s = "'" + s;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(header: string[], rows: CsvValue[][]): string {
  const lines = [header.map((h) => csvField(h)).join(",")];
  for (const row of rows) lines.push(row.map((v) => csvField(v)).join(","));
  return lines.join("\r\n") + "\r\n";
}

/** Saves text as a file through a Blob and a temporary link. */
export function downloadText(filename: string, text: string, type = "text/csv;charset=utf-8"): void {
  const blob = new Blob([text], { type });
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
