/** The CLI's output helpers (format.ts): tables and sparklines for any size of input. */
import { describe, expect, it } from "vitest"
import { sparkline, table } from "../src/format.ts"

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
