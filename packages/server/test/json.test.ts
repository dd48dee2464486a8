/** MLflow's JSON conventions: doubles through protobuf JSON and back, and the offset pages. */
import { likeMatcher } from "@runledger/search-syntax"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { MlflowError } from "../src/mlflow/errors.ts"
import { double, page, requireDouble, requireInt } from "../src/mlflow/json.ts"
import { nameFilter } from "../src/mlflow/name-filter.ts"

describe("doubles as protobuf JSON writes them", () => {
  it("every double survives the wire: written, sent as JSON text, read back (-0 becomes 0, as in JSON)", () => {
    fc.assert(
      fc.property(fc.double(), (x) => {
        const wire = JSON.parse(JSON.stringify({ value: double(x) })) as { value: unknown }
        expect(Object.is(requireDouble(wire, "value"), Object.is(x, -0) ? 0 : x)).toBe(true)
      }),
      { numRuns: 2000 }
    )
  })

  it("writes the non-finite ones as MLflow does", () => {
    expect([double(NaN), double(Infinity), double(-Infinity), double(1.5)]).toEqual(["NaN", "Infinity", "-Infinity", 1.5])
  })

  it("refuses what is not a number, naming the field", () => {
    for (const bad of ["high", "", true, {}, [1]]) {
      expect(() => requireDouble({ value: bad }, "value")).toThrow(MlflowError)
      expect(() => requireDouble({ value: bad }, "value")).toThrow(/'value'/)
    }
  })

  it("reads int64 as a number or a string of digits, and nothing else", () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), (n) => {
        expect(requireInt({ t: n }, "t")).toBe(n)
        expect(requireInt({ t: String(n) }, "t")).toBe(n)
      })
    )
    for (const bad of [1.5, "1.5", "1e3", "x", Number.MAX_SAFE_INTEGER + 2]) expect(() => requireInt({ t: bad }, "t")).toThrow(MlflowError)
  })
})

describe("pages of a list held in full", () => {
  it("following next tokens gives the whole list once, in order, in pages of at most max_results", () => {
    fc.assert(
      fc.property(fc.array(fc.integer(), { maxLength: 200 }), fc.integer({ min: 1, max: 50 }), (items, max) => {
        const seen: number[] = []
        let token: string | undefined
        let pages = 0
        do {
          const p = page(items, { max_results: max, ...(token !== undefined ? { page_token: token } : {}) }, 1000)
          expect(p.items.length).toBeLessThanOrEqual(max)
          for (const x of p.items) seen.push(x)
          token = p.next
          pages++
        } while (token !== undefined)
        expect(seen).toEqual(items)
        expect(pages).toBe(Math.max(1, Math.ceil(items.length / max)))
      })
    )
  })

  it("refuses a token it did not make", () => {
    expect(() => page([1, 2, 3], { page_token: "not-a-token" }, 10)).toThrow(/Invalid page token/)
    expect(() => page([1, 2, 3], { max_results: 0 }, 10)).toThrow(/max_results/)
  })
})

const named = (name: string, tags: Record<string, string> = {}) => ({ name, tags })

describe("name and tag filters (experiments/search, registered-models/search)", () => {
  it("= and LIKE without wildcards match exactly the name, whatever its characters", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (name, other) => {
        const quoted = name.replaceAll("'", "''")
        const literal = !/[%_]/.test(name)
        expect(nameFilter(`name = '${quoted}'`, "x")(named(name))).toBe(true)
        expect(nameFilter(`name = '${quoted}'`, "x")(named(other))).toBe(other === name)
        if (literal) expect(nameFilter(`name LIKE '${quoted}'`, "x")(named(other))).toBe(other === name)
      })
    )
  })

  it("takes % and _ as MLflow does, ILIKE ignoring case; refuses any other filter", () => {
    expect(nameFilter("name LIKE 'exp-%'", "x")(named("exp-12"))).toBe(true)
    expect(nameFilter("name LIKE 'exp-%'", "x")(named("Exp-12"))).toBe(false)
    expect(nameFilter("name ILIKE 'exp-%'", "x")(named("Exp-12"))).toBe(true)
    expect(nameFilter("name LIKE 'a_c'", "x")(named("abc"))).toBe(true)
    expect(nameFilter("name LIKE 'a_c'", "x")(named("abbc"))).toBe(false)
    expect(nameFilter("name != 'a'", "x")(named("b"))).toBe(true)
    expect(nameFilter(undefined, "x")(named("anything"))).toBe(true)
    expect(() => nameFilter("params.lr = 'a'", "experiments")).toThrow(/filters experiments by name and tags only/)
    expect(() => nameFilter("name = 'a' OR name = 'b'", "experiments")).toThrow(/by name and tags only/)
    expect(() => nameFilter("name = 'a' AND", "experiments")).toThrow(/by name and tags only/)
  })

  it("takes tag comparisons joined by AND; a comparison on a missing tag is false", () => {
    const vision = named("vision", { team: "cv", "my key": "x" })
    const plain = named("plain")
    expect(nameFilter("tags.team = 'cv'", "x")(vision)).toBe(true)
    expect(nameFilter("tags.team != 'cv'", "x")(vision)).toBe(false)
    expect(nameFilter("tags.team != 'nlp'", "x")(plain)).toBe(false)
    expect(nameFilter("tags.`my key` LIKE '_'", "x")(vision)).toBe(true)
    expect(nameFilter("name ILIKE 'VIS%' AND tags.team = 'cv'", "x")(vision)).toBe(true)
    expect(nameFilter("name ILIKE 'VIS%' and tags.team = 'nlp'", "x")(vision)).toBe(false)
  })

  it("LIKE is search-syntax's: the same answer as its likeMatcher for any name and pattern", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom("a", "b", "%", "_", "'") }), fc.string({ unit: fc.constantFrom("a", "b", "A") }), (pattern, name) => {
        const quoted = pattern.replaceAll("'", "''")
        expect(nameFilter(`name LIKE '${quoted}'`, "x")(named(name))).toBe(likeMatcher(pattern, false)(name))
        expect(nameFilter(`tags.t ILIKE '${quoted}'`, "x")(named("n", { t: name }))).toBe(likeMatcher(pattern, true)(name))
      })
    )
  })
})
