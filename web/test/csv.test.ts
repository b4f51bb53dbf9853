import { describe, expect, it } from "vitest";
import { csvField, toCsv } from "../src/csv.js";

describe("CSV", () => {
  it("quotes fields with commas, quotes and line breaks (RFC 4180)", () => {
    expect(csvField("plain")).toBe("plain");
    expect(csvField("Okafor, Amara")).toBe('"Okafor, Amara"');
    expect(csvField('Dr. "Erik" Lindqvist')).toBe('"Dr. ""Erik"" Lindqvist"');
    expect(csvField("two\nlines")).toBe('"two\nlines"');
    expect(csvField(12n)).toBe("12");
    expect(csvField(true)).toBe("yes");
  });
  it("keeps a spreadsheet from running a name as a formula", () => {
    expect(csvField("=HYPERLINK(\"http://x\")")).toBe("\"'=HYPERLINK(\"\"http://x\"\")\"");
    expect(csvField("+1")).toBe("'+1");
    expect(csvField("@cmd")).toBe("'@cmd");
    expect(csvField(-3)).toBe("-3"); // numbers stay numbers
  });
  it("ends every line with CRLF", () => {
    expect(toCsv(["a", "b"], [[1, "x,y"]])).toBe('a,b\r\n1,"x,y"\r\n');
  });
});
