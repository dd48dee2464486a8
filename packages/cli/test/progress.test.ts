import { describe, expect, it } from "vitest"
import { progressBar } from "../src/progress.ts"

/** A stderr stand-in: what the bar wrote, on a terminal or not. */
const stream = (isTTY: boolean) => {
  const written: string[] = []
  return { written, stream: { isTTY, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream }
}

describe("progressBar", () => {
  it("draws on a terminal, erases itself once the work is done (before the command prints), and erases only once", () => {
    const t = stream(true)
    const bar = progressBar("catching up the read model", t.stream)
    bar.update(10, 100)
    expect(t.written).toHaveLength(1)
    expect(t.written[0]).toMatch(/^\rcatching up the read model \[#+\.+\]  10% 10 \/ 100 events\x1b\[K$/)
    bar.update(100, 100)
    expect(t.written.at(-1)).toBe("\r\x1b[K")
    const after = t.written.length
    bar.done()
    bar.done()
    expect(t.written).toHaveLength(after)
  })

  it("a bar that finishes at once, or never starts, writes nothing; a pipe or a file never sees one", () => {
    const quick = stream(true)
    const done = progressBar("x", quick.stream)
    done.update(5, 5)
    done.done()
    expect(quick.written).toEqual([])
    const piped = stream(false)
    const bar = progressBar("x", piped.stream)
    bar.update(1, 10)
    bar.update(10, 10)
    bar.done()
    expect(piped.written).toEqual([])
  })
})
