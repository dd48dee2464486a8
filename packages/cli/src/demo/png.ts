/**
 * A minimal PNG encoder (8-bit RGB, no interlace), so the demo can log a real image artifact
 * drawn in code: node:zlib supplies the deflate and the CRC-32 the format needs.
 */
import { crc32, deflateSync } from "node:zlib"

const SIGNATURE = Uint8Array.of(137, 80, 78, 71, 13, 10, 26, 10)

const chunk = (type: string, data: Uint8Array): Buffer => {
  const body = Buffer.concat([Buffer.from(type, "latin1"), data])
  const out = Buffer.alloc(12 + data.length)
  out.writeUInt32BE(data.length, 0)
  body.copy(out, 4)
  out.writeUInt32BE(crc32(body), 8 + data.length)
  return out
}

/** Encodes `pixel(x, y)` ([r, g, b], 0-255 each) over a width x height image. */
export const encodePng = (width: number, height: number, pixel: (x: number, y: number) => readonly [number, number, number]): Uint8Array => {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`a PNG needs a positive integer width and height, got ${width} x ${height}`)
  }
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header.set([8, 2, 0, 0, 0], 8) // bit depth 8, color type 2 (RGB), deflate, adaptive filter, no interlace
  const stride = 1 + 3 * width // each row starts with its filter type, 0 (none)
  const rows = Buffer.alloc(height * stride)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) rows.set(pixel(x, y), y * stride + 1 + 3 * x)
  }
  return new Uint8Array(Buffer.concat([SIGNATURE, chunk("IHDR", header), chunk("IDAT", deflateSync(rows)), chunk("IEND", Buffer.alloc(0))]))
}

/**
 * A confusion matrix as a heatmap: one `cell`-pixel square per (true, predicted) pair, from white
 * (none of the row's samples) to deep blue (all of them), rows being true classes.
 */
export const confusionHeatmapPng = (matrix: ReadonlyArray<ReadonlyArray<number>>, cell = 32): Uint8Array => {
  const k = matrix.length
  const rowSums = matrix.map((row) => row.reduce((a, b) => a + b, 0))
  return encodePng(k * cell, k * cell, (x, y) => {
    const i = Math.floor(y / cell)
    const j = Math.floor(x / cell)
    const share = rowSums[i] === 0 ? 0 : matrix[i][j] / rowSums[i]
    // White to #0b4f8a, linearly per channel.
    return [Math.round(255 - share * (255 - 11)), Math.round(255 - share * (255 - 79)), Math.round(255 - share * (255 - 138))]
  })
}
