/** The CLI's output helpers (format.ts): tables and sparklines of any size, terminal safety, exact JSON. */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { safe, sparkline, table, toJson } from "../src/format.ts"

describe("table and sparkline", () => {
  it("lay out a million rows and sketch a million points (no spread of an array into a call)", () => {
    const n = 1_000_000
    const rows: string[][] = new Array(n)
    const values = new Array<number>(n)
    for (let i = 0; i < n; i++) {
      rows[i] = [String(i), i % 2 === 0 ? "even" : "odd"]
      values[i] = n - i
    }
    const text = table(["STEP", "KIND"], rows)
    const lines = text.split("\n")
    expect(lines).toHaveLength(n + 1)
    expect(lines[0]).toBe("  STEP  KIND")
    expect(lines[n]).toBe(`${n - 1}  odd`)
    const sketch = sparkline(values)
    expect([...sketch]).toHaveLength(24)
    expect(sketch.startsWith("█")).toBe(true)
    expect(sketch.endsWith("▁")).toBe(true)
  })
})

describe("safe and toJson: no terminal control character reaches the terminal; JSON stays exact", () => {
  // C0, DEL, C1, the line/paragraph separators and the bidi controls.
  const controls = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/

  it("safe writes every control character as an escape and leaves other text alone; it is idempotent", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (text) => {
        const shown = safe(text)
        expect(controls.test(shown)).toBe(false)
        expect(safe(shown)).toBe(shown)
        if (!controls.test(text)) expect(shown).toBe(text)
      }),
      { numRuns: 500 }
    )
    expect(safe("red\x1b[31m\x07\x9b2J\u202eevil\nnext\ttab\r\x7f")).toBe("red\\x1b[31m\\x07\\x9b2J\\u202eevil\\nnext\\ttab\\r\\x7f")
    expect(safe("ünïcödé 🚀 ok")).toBe("ünïcödé 🚀 ok")
  })

  it("a table escapes its cells and headers, and still aligns", () => {
    expect(table(["K\x1b", "V"], [["a\x9bb", "1"], ["c", "22"]]).split("\n")).toEqual(["K\\x1b    V", "a\\x9bb   1", "c       22"])
  })

  it("toJson keeps every string exact (it parses back equal) with no raw control character in the text", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ unit: "binary" }), fc.string({ unit: "binary" })), (value) => {
        const json = toJson(value)
        expect(controls.test(json.replaceAll("\n", ""))).toBe(false)
        expect(JSON.parse(json)).toEqual(value)
      }),
      { numRuns: 300 }
    )
  })
  it("keeps an id column left-aligned, even of all-digit ids, and never reads a hex id as a number", () => {
    expect(table(["ID", "RUNS"], [["123456789012", "3"], ["0193e4567890", "12"]]).split("\n")).toEqual(["ID            RUNS", "123456789012     3", "0193e4567890    12"])
    expect(table(["NAME", "VALUE"], [["a", "0193e4567890"], ["b", "1"]]).split("\n")).toEqual(["NAME  VALUE", "a     0193e4567890", "b     1"])
    expect(table(["NAME", "VALUE"], [["a", "1.5e-7"], ["b", "1e+21"], ["c", "-2"]]).split("\n")).toEqual(["NAME   VALUE", "a     1.5e-7", "b      1e+21", "c         -2"])
  })
})
