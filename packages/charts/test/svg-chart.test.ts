/**
 * The SVG line chart: output is well-formed standalone XML for any input (checked with a small
 * strict XML tokenizer, since Node has no DOMParser), user text is escaped, gaps and log scales
 * behave, and the tick helpers produce 1/2/5 x 10^k and decade ticks.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { CHART_PALETTE, lineChartSvg, type ChartSeries } from "../src/svg-chart.ts"
import { logTicks, niceTicks } from "../src/ticks.ts"
import { escapeXml } from "../src/xml-text.ts"

const NAME = /[A-Za-z_][\w.:-]*/y
const ENTITY = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/y
// XML 1.0 Char production (minus surrogates, which must come in pairs).
const ILLEGAL_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/**
 * Strict enough for generated SVG: balanced and properly nested elements, one root, quoted
 * attributes without duplicates, no raw `<` or stray `&` in text or attribute values, only legal
 * characters. Returns the root element's name and attributes.
 */
const parseXml = (xml: string): { root: string; rootAttributes: Map<string, string> } => {
  if (ILLEGAL_CHAR.test(xml)) throw new Error("illegal XML character")
  const stack: string[] = []
  let root: string | undefined
  let rootAttributes = new Map<string, string>()
  let i = 0
  const fail = (why: string): never => {
    throw new Error(`${why} at ${i}: ${JSON.stringify(xml.slice(Math.max(0, i - 40), i + 40))}`)
  }
  const readName = (): string => {
    NAME.lastIndex = i
    const m = NAME.exec(xml)
    if (!m) fail("expected a name")
    i += m![0].length
    return m![0]
  }
  const skipSpace = () => {
    while (i < xml.length && /\s/.test(xml[i])) i++
  }
  const checkText = (text: string) => {
    for (let j = 0; j < text.length; j++) {
      if (text[j] === "<") fail("raw < in text")
      if (text[j] === "&") {
        ENTITY.lastIndex = j
        if (!ENTITY.test(text)) fail("stray &")
      }
    }
  }
  while (i < xml.length) {
    if (xml[i] !== "<") {
      const next = xml.indexOf("<", i)
      const text = xml.slice(i, next === -1 ? xml.length : next)
      if (stack.length === 0 && text.trim() !== "") fail("text outside the root element")
      checkText(text)
      i += text.length
      continue
    }
    if (xml.startsWith("</", i)) {
      i += 2
      const name = readName()
      skipSpace()
      if (xml[i] !== ">") fail("malformed end tag")
      i++
      if (stack.pop() !== name) fail(`mismatched </${name}>`)
      continue
    }
    i++
    const name = readName()
    const attributes = new Map<string, string>()
    for (;;) {
      const before = i
      skipSpace()
      if (xml.startsWith("/>", i) || xml[i] === ">") break
      if (i === before) fail("expected whitespace before attribute")
      const attribute = readName()
      if (attributes.has(attribute)) fail(`duplicate attribute ${attribute}`)
      if (xml[i] !== "=" || xml[i + 1] !== '"') fail("expected =\"")
      const end = xml.indexOf('"', i + 2)
      if (end === -1) fail("unterminated attribute")
      const value = xml.slice(i + 2, end)
      checkText(value)
      attributes.set(attribute, value)
      i = end + 1
    }
    if (stack.length === 0) {
      if (root !== undefined) fail("second root element")
      root = name
      rootAttributes = attributes
    }
    if (xml.startsWith("/>", i)) i += 2
    else {
      i++
      stack.push(name)
    }
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack.join("> <")}>`)
  if (root === undefined) throw new Error("no root element")
  return { root, rootAttributes }
}

const expectStandaloneSvg = (svg: string) => {
  const { root, rootAttributes } = parseXml(svg)
  expect(root).toBe("svg")
  expect(rootAttributes.get("xmlns")).toBe("http://www.w3.org/2000/svg")
  // Coordinates and tick values never leak non-numbers.
  expect(svg).not.toMatch(/NaN|Infinity|undefined/)
}

const count = (svg: string, needle: string): number => svg.split(needle).length - 1

/** data-value attributes of the ticks in one axis group. */
const tickValues = (svg: string, axis: "x-axis" | "y-axis"): number[] => {
  const start = svg.indexOf(`class="axis ${axis}`)
  expect(start).toBeGreaterThan(0)
  // Each axis group is closed by a "</g>" on its own line; ticks close theirs inline.
  const group = svg.slice(start, svg.indexOf("\n</g>", start))
  return [...group.matchAll(/data-value="([^"]*)"/g)].map((m) => Number(m[1]))
}

const line = (label: string, values: number[]): ChartSeries => ({
  label,
  points: values.map((value, step) => ({ step, value }))
})

const anyNumber = fc.oneof(
  { weight: 6, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(Number.NaN, Infinity, -Infinity, 0, -0, 1e300, -1e300, 5e-324) },
  { weight: 1, arbitrary: fc.double() }
)
const arbitrarySeries = fc.record({
  label: fc.string({ unit: "binary", maxLength: 60 }),
  points: fc.array(
    fc.record(
      { step: anyNumber, value: anyNumber, min: anyNumber, max: anyNumber },
      { requiredKeys: ["step", "value"] }
    ),
    { maxLength: 40 }
  )
})

describe("lineChartSvg", () => {
  it("is well-formed standalone SVG with no NaN/Infinity for any input", () => {
    fc.assert(
      fc.property(
        fc.array(arbitrarySeries, { maxLength: 12 }),
        fc.boolean(),
        fc.option(fc.string({ unit: "binary", maxLength: 30 }), { nil: undefined }),
        (series, logScale, title) => {
          const svg = lineChartSvg({ series, logScale, title, yLabel: title, xLabel: title })
          expectStandaloneSvg(svg)
          expect(count(svg, 'class="legend-item"')).toBe(series.length)
        }
      ),
      { numRuns: 200 }
    )
  })

  it("escapes user text in labels, title and axis names", () => {
    const nasty = `</text></svg><script>alert("x")</script> & 'q' < >`
    const svg = lineChartSvg({
      series: [line(nasty, [1, 2, 3])],
      title: `title <&"`,
      xLabel: `x & <y>`,
      yLabel: `"quoted"`
    })
    expectStandaloneSvg(svg)
    expect(svg).not.toContain("<script>")
    expect(svg).toContain("&lt;/text&gt;&lt;/svg&gt;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &apos;q&apos; &lt; &gt;")
    expect(svg).toContain("title &lt;&amp;&quot;")
    expect(svg).toContain("x &amp; &lt;y&gt;")
    expect(svg).toContain("&quot;quoted&quot;")
  })

  it("replaces characters XML cannot carry instead of producing an unparsable file", () => {
    const svg = lineChartSvg({ series: [line("bell\u0007 nul\u0000 lone\uD800 ok\uD83D\uDE00", [1, 2])] })
    expectStandaloneSvg(svg)
    expect(svg).toContain("bell\uFFFD nul\uFFFD lone\uFFFD ok\uD83D\uDE00")
  })

  it("has one legend entry per series with distinct colours", () => {
    const series = Array.from({ length: 8 }, (_, i) => line(`run-${i}`, [i, i + 1, i + 3]))
    const svg = lineChartSvg({ series })
    expectStandaloneSvg(svg)
    expect(count(svg, 'class="legend-item"')).toBe(8)
    for (let i = 0; i < 8; i++) expect(svg).toContain(`>run-${i}</text>`)
    const strokes = [...svg.matchAll(/<polyline stroke="(#[0-9A-Fa-f]{6})"/g)].map((m) => m[1])
    expect(new Set(strokes).size).toBe(8)
    expect(new Set(CHART_PALETTE).size).toBe(CHART_PALETTE.length)
    // Beyond the palette, series are told apart by dash patterns.
    const many = lineChartSvg({ series: Array.from({ length: 10 }, (_, i) => line(`r${i}`, [1, 2])) })
    expect(count(many, "stroke-dasharray")).toBeGreaterThanOrEqual(4)
  })

  it("breaks the line at non-finite values instead of drawing through them", () => {
    const svg = lineChartSvg({ series: [line("gappy", [1, 2, Number.NaN, 4, 5, Infinity, 7])] })
    expectStandaloneSvg(svg)
    expect(count(svg, "<polyline")).toBe(2)
    // The isolated last point is still visible, as a dot.
    expect(count(svg, "<circle")).toBe(1)
  })

  it("draws a min/max band behind the line where both bounds are present", () => {
    const points = [0, 1, 2, 3, 4].map((step) => ({ step, value: step, min: step - 1, max: step + 1 }))
    points.push({ step: 5, value: 5 } as (typeof points)[number])
    const svg = lineChartSvg({ series: [{ label: "banded", points }] })
    expectStandaloneSvg(svg)
    expect(count(svg, "<polygon")).toBe(1)
    expect(svg.indexOf("<polygon")).toBeLessThan(svg.indexOf("<polyline"))
    const polygon = /<polygon[^>]*points="([^"]*)"/.exec(svg)![1]
    expect(polygon.split(" ").length).toBe(10) // 5 upper + 5 lower vertices
  })

  it("uses nice 1/2/5 x 10^k ticks covering the data on a linear scale", () => {
    const svg = lineChartSvg({ series: [line("a", [0.13, 0.52, 0.97])] })
    const ys = tickValues(svg, "y-axis")
    expect(ys[0]).toBeLessThanOrEqual(0.13)
    expect(ys[ys.length - 1]).toBeGreaterThanOrEqual(0.97)
    const xs = tickValues(svg, "x-axis")
    expect(xs[0]).toBeLessThanOrEqual(0)
    expect(xs[xs.length - 1]).toBeGreaterThanOrEqual(2)
  })

  it("uses log ticks (at least 3) enclosing the data on a log scale, and notes skipped values <= 0", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 1e-12, max: 1e12, noNaN: true }), { minLength: 1, maxLength: 30 }),
        (values) => {
          const svg = lineChartSvg({ series: [line("loss", values)], logScale: true })
          expectStandaloneSvg(svg)
          const ticks = tickValues(svg, "y-axis")
          expect(ticks.length).toBeGreaterThanOrEqual(3)
          expect(ticks[0]).toBeLessThanOrEqual(Math.min(...values))
          expect(ticks[ticks.length - 1]).toBeGreaterThanOrEqual(Math.max(...values))
          expect(svg).not.toContain('class="note"')
        }
      ),
      { numRuns: 100 }
    )
    const svg = lineChartSvg({ series: [line("loss", [1, 0.1, 0, -3, 0.01])], logScale: true })
    expectStandaloneSvg(svg)
    expect(svg).toMatch(/class="note"[^>]*>Log scale: 2 values ≤ 0 not shown\.</)
    expect(count(svg, "<polyline")).toBe(1)
    expect(count(svg, "<circle")).toBe(1)
  })

  it("says why when there is nothing to draw", () => {
    const none = lineChartSvg({ series: [], title: "Empty" })
    expectStandaloneSvg(none)
    expect(none).toContain("No series to plot.")
    const noFinite = lineChartSvg({ series: [line("diverged", [Number.NaN, Infinity]), { label: "empty", points: [] }] })
    expectStandaloneSvg(noFinite)
    expect(noFinite).toContain("No finite values to plot.")
    expect(noFinite).toContain(">empty (no data)</text>")
    const negative = lineChartSvg({ series: [line("neg", [-1, 0])], logScale: true })
    expectStandaloneSvg(negative)
    expect(negative).toContain("No positive values to plot on a log scale.")
  })

  it("handles constant and single-point series and sorts unsorted points", () => {
    expectStandaloneSvg(lineChartSvg({ series: [line("flat", [3, 3, 3])] }))
    expectStandaloneSvg(lineChartSvg({ series: [{ label: "one", points: [{ step: 7, value: 0 }] }] }))
    const unsorted = lineChartSvg({ series: [{ label: "u", points: [{ step: 2, value: 1 }, { step: 0, value: 3 }, { step: 1, value: 2 }] }] })
    const xs = /<polyline[^>]*points="([^"]*)"/.exec(unsorted)![1].split(" ").map((p) => Number(p.split(",")[0]))
    expect([...xs].sort((a, b) => a - b)).toEqual(xs)
  })

  it("rejects non-positive sizes", () => {
    expect(() => lineChartSvg({ series: [], width: 0 })).toThrow(/width must be a positive number/)
    expect(() => lineChartSvg({ series: [], height: Number.NaN })).toThrow(RangeError)
  })
})

describe("ticks", () => {
  it("niceTicks: evenly spaced 1/2/5 x 10^k steps covering [min, max]", () => {
    fc.assert(
      fc.property(
        fc.double({ min: -1e9, max: 1e9, noNaN: true }),
        fc.double({ min: 0, max: 1e9, noNaN: true }),
        fc.integer({ min: 2, max: 12 }),
        (min, span, target) => {
          const max = min + span
          const t = niceTicks(min, max, target)
          expect(t.lo).toBeLessThanOrEqual(min)
          expect(t.hi).toBeGreaterThanOrEqual(max)
          expect(t.values.length).toBeGreaterThanOrEqual(2)
          expect(t.values.length).toBeLessThanOrEqual(3 * target + 2)
          expect(t.labels.length).toBe(t.values.length)
          // Differences of tick values carry their rounding (up to ~1e-3 of the step for axes
          // zoomed 1e12-fold), so "nice" is checked to 1%.
          const step = t.values[1] - t.values[0]
          const mantissa = step / 10 ** Math.floor(Math.log10(step))
          expect([1, 2, 5, 10].some((m) => Math.abs(mantissa - m) < 1e-2 * m)).toBe(true)
          for (let i = 1; i < t.values.length; i++) {
            expect(Math.abs(t.values[i] - t.values[i - 1] - step)).toBeLessThan(step * 1e-2)
          }
          expect(new Set(t.labels).size).toBe(t.labels.length)
        }
      )
    )
    expect(niceTicks(0, 1, 5).labels).toEqual(["0", "0.2", "0.4", "0.6", "0.8", "1.0"])
    expect(niceTicks(0, 10_000, 5).labels).toEqual(["0", "2000", "4000", "6000", "8000", "10000"])
  })

  it("logTicks: for any positive range, at least 3 ticks on an axis fitted to the data, which lies inside it", () => {
    const positive = fc.double({ min: Number.MIN_VALUE, max: Number.MAX_VALUE, noNaN: true, noDefaultInfinity: true })
    // Ranges of every width: anywhere in the doubles, and narrow ones (a factor of 1 + 1e-9 .. 100).
    const anyRange = fc.tuple(positive, positive).map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as const)
    const narrowRange = fc.tuple(fc.double({ min: 1e-30, max: 1e30, noNaN: true }), fc.double({ min: 0, max: 2, noNaN: true }))
      .map(([a, decades]) => [a, Math.min(Number.MAX_VALUE, a * 10 ** (decades ** 3))] as const)
    fc.assert(
      fc.property(fc.oneof(anyRange, narrowRange), fc.integer({ min: 2, max: 12 }), ([min, max], target) => {
        const t = logTicks(min, max, target)
        expect(t.values.length).toBeGreaterThanOrEqual(3)
        expect(t.labels.length).toBe(t.values.length)
        expect(new Set(t.labels).size).toBe(t.labels.length)
        for (let i = 1; i < t.values.length; i++) expect(t.values[i]).toBeGreaterThan(t.values[i - 1])
        expect(t.values[0]).toBeGreaterThan(0)
        expect([t.lo, t.hi]).toEqual([t.values[0], t.values[t.values.length - 1]])
        expect(t.lo).toBeLessThanOrEqual(min)
        expect(t.hi).toBeGreaterThanOrEqual(max)
        expect(t.hi).toBeGreaterThan(t.lo)
        expect([t.loExponent, t.hiExponent]).toEqual([Math.log10(t.lo), Math.log10(t.hi)])
      }),
      { numRuns: 2000 }
    )
    // The range of the report: 0.26-0.58 showed only the ticks 1 and 0.1.
    expect(logTicks(0.26, 0.58).labels).toEqual(["0.2", "0.3", "0.4", "0.5", "0.6"])
    expect(logTicks(0.9, 11).labels).toEqual(["0.5", "1", "2", "5", "10", "20"])
    expect(logTicks(0.95, 0.99).labels).toEqual(["0.94", "0.95", "0.96", "0.97", "0.98", "0.99"])
    // Over many decades, powers of ten.
    expect(logTicks(0.003, 42).labels).toEqual(["0.001", "0.01", "0.1", "1", "10", "100"])
    expect(logTicks(1e-30, 1e30).values.length).toBeLessThanOrEqual(12)
  })

  it("escapeXml escapes the five markup characters", () => {
    expect(escapeXml(`<a href="x">&'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;")
  })
})
