import { describe, expect, it } from "vitest"
import { newId, uuidv7 } from "../src/ids.ts"

describe("ids", () => {
  it("ids drawn well past one pool of random bytes are all distinct and keep their layout (UUIDv7 with dashes; 32 hex digits, UUIDv4 bits)", () => {
    // 4096 bytes a pool, 16 an id: 3000 of each crosses a refill more than twenty times.
    const events = Array.from({ length: 3000 }, () => uuidv7(1_700_000_000_000))
    const runs = Array.from({ length: 3000 }, () => newId())
    expect(new Set(events).size).toBe(events.length)
    expect(new Set(runs).size).toBe(runs.length)
    for (const id of events) expect(id).toMatch(/^018bcfe5-6800-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    for (const id of runs) expect(id).toMatch(/^[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}$/)
    // Their random parts alone are distinct too: a slice of the pool used twice would repeat one.
    const randomTails = new Set(events.map((id) => id.slice(-12)))
    expect(randomTails.size).toBe(events.length)
  })
})
