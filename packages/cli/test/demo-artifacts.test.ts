/**
 * The pieces the demo adds for its sweep: the per-batch losses a model reports while it trains, and
 * the PNG encoder behind its confusion-matrix heatmaps (decoded here with node:zlib alone).
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { crc32, inflateSync } from "node:zlib"
import { createRng, logisticRegression, makeClassification, mlp } from "../src/demo/ml.ts"
import { confusionHeatmapPng, encodePng } from "../src/demo/png.ts"

/** The chunks of a PNG, each checked against its CRC; throws on a bad signature or CRC. */
const chunks = (png: Uint8Array): Array<{ type: string; data: Buffer }> => {
  const b = Buffer.from(png)
  expect([...b.subarray(0, 8)]).toEqual([137, 80, 78, 71, 13, 10, 26, 10])
  const out: Array<{ type: string; data: Buffer }> = []
  for (let at = 8; at < b.length; ) {
    const length = b.readUInt32BE(at)
    const body = b.subarray(at + 4, at + 8 + length)
    expect(b.readUInt32BE(at + 8 + length)).toBe(crc32(body))
    out.push({ type: body.subarray(0, 4).toString("latin1"), data: body.subarray(4) })
    at += 12 + length
  }
  return out
}

/** Decodes what encodePng writes (8-bit RGB, filter 0 on every row) back to its pixels. */
const decode = (png: Uint8Array) => {
  const parts = chunks(png)
  expect(parts.map((c) => c.type)).toEqual(["IHDR", "IDAT", "IEND"])
  const header = parts[0].data
  const width = header.readUInt32BE(0)
  const height = header.readUInt32BE(4)
  expect([...header.subarray(8)]).toEqual([8, 2, 0, 0, 0])
  const rows = inflateSync(parts[1].data)
  expect(rows.length).toBe(height * (1 + 3 * width))
  const pixel = (x: number, y: number) => {
    const at = y * (1 + 3 * width)
    expect(rows[at]).toBe(0)
    return [...rows.subarray(at + 1 + 3 * x, at + 4 + 3 * x)]
  }
  return { width, height, pixel }
}

describe("encodePng", () => {
  it("round-trips: any size and pixels decode back to exactly what was drawn", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 24 }), fc.integer({ min: 1, max: 24 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), (w, h, seed) => {
        const color = (x: number, y: number): [number, number, number] => [(x * 37 + seed) & 255, (y * 91 + (seed >> 8)) & 255, (x * y + (seed >> 16)) & 255]
        const png = decode(encodePng(w, h, color))
        expect([png.width, png.height]).toEqual([w, h])
        for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) expect(png.pixel(x, y)).toEqual(color(x, y))
      }),
      { numRuns: 50 }
    )
  })

  it("refuses a size that is not a positive whole number, saying what it got", () => {
    for (const [w, h] of [[0, 3], [3, -1], [2.5, 2], [Number.NaN, 1]]) {
      expect(() => encodePng(w, h, () => [0, 0, 0])).toThrow(`a PNG needs a positive integer width and height, got ${w} x ${h}`)
    }
  })
})

describe("confusionHeatmapPng", () => {
  it("one square per cell, white for none of a row's samples, deep blue for all of them", () => {
    const png = decode(confusionHeatmapPng([[10, 0], [5, 5]], 4))
    expect([png.width, png.height]).toEqual([8, 8])
    expect(png.pixel(0, 0)).toEqual([11, 79, 138]) // row 0: all in column 0
    expect(png.pixel(7, 3)).toEqual([255, 255, 255]) // row 0, column 1: none
    expect(png.pixel(1, 6)).toEqual([133, 167, 197]) // row 1: half in each
    expect(png.pixel(6, 5)).toEqual([133, 167, 197])
    // A row with no samples is white, not NaN.
    expect(decode(confusionHeatmapPng([[0, 0], [1, 1]], 1)).pixel(0, 0)).toEqual([255, 255, 255])
  })
})

describe("trainEpoch's onBatch", () => {
  const data = makeClassification({ samples: 103, features: 5, informative: 3, classes: 3, seed: 9 })
  for (const [name, make] of [
    ["logistic regression", (batchSize: number) => logisticRegression({ features: 5, classes: 3, learningRate: 0.1, batchSize, seed: 1 })],
    ["MLP", (batchSize: number) => mlp({ features: 5, hidden: 6, classes: 3, learningRate: 0.1, batchSize, seed: 1 })]
  ] as const) {
    it(`${name}: hears one mean loss per mini-batch, and they average (by batch size) to the epoch's loss; training is the same with or without it`, () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 40 }), (batchSize) => {
          const heard: number[] = []
          const withHook = make(batchSize).trainEpoch(data.X, data.y, createRng(3), (loss) => heard.push(loss))
          const without = make(batchSize).trainEpoch(data.X, data.y, createRng(3))
          expect(withHook.loss).toBe(without.loss)
          expect(heard).toHaveLength(Math.ceil(103 / batchSize))
          const sizes = heard.map((_, i) => Math.min(batchSize, 103 - i * batchSize))
          const weighted = heard.reduce((sum, loss, i) => sum + loss * sizes[i], 0) / 103
          expect(weighted).toBeCloseTo(withHook.loss, 10)
        }),
        { numRuns: 20 }
      )
    })
  }
})
