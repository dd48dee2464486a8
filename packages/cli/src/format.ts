/**
 * Output for people (aligned tables, short numbers and times) and for scripts (JSON that keeps
 * NaN, +/-Infinity and -0, which plain JSON cannot: they are written as the strings "NaN",
 * "Infinity", "-Infinity" and "-0").
 */

/**
 * Characters that act on a terminal instead of showing: C0 controls (ESC starts the sequences
 * that move the cursor, clear the screen or set the title), DEL, C1 controls (U+009B is a
 * one-character CSI), the line and paragraph separators, and the bidirectional overrides and
 * isolates that reorder what follows them. Stored names, tags, params and messages may hold any
 * of them (an import, a hostile script), and none may reach the terminal raw.
 */
// eslint-disable-next-line no-control-regex
const TERMINAL_CONTROLS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

const hex = (code: number, digits: number): string => code.toString(16).padStart(digits, "0")

/**
 * Text from the store made safe to print on a terminal: each control character written as an
 * escape (\n, \r, \t, \x1b, \u202e), everything else unchanged. Every table and line the CLI prints
 * for people goes through it; --json does not (it stays exact, see toJson).
 */
export const safe = (text: string): string =>
  text.replace(TERMINAL_CONTROLS, (c) => {
    const code = c.charCodeAt(0)
    return c === "\n" ? "\\n" : c === "\r" ? "\\r" : c === "\t" ? "\\t" : code < 0x100 ? `\\x${hex(code, 2)}` : `\\u${hex(code, 4)}`
  })

/**
 * JSON keeps every string exact, but JSON.stringify leaves DEL, C1 controls and the separators
 * and bidi controls raw; written as \u escapes they decode to the same strings and cannot act on
 * a terminal that shows the JSON. (C0 controls are already escaped by JSON.stringify.)
 */
const escapeJsonControls = (json: string): string => json.replace(JSON_RAW_CONTROLS, (c) => `\\u${hex(c.charCodeAt(0), 4)}`)

/** TERMINAL_CONTROLS less C0, which JSON.stringify escapes inside strings (a raw newline is indentation). */
const JSON_RAW_CONTROLS = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

export const toJson = (value: unknown, indent = 2): string =>
  escapeJsonControls(JSON.stringify(
    value,
    (_key, v) => {
      if (typeof v === "number") {
        if (Number.isNaN(v)) return "NaN"
        if (v === Infinity) return "Infinity"
        if (v === -Infinity) return "-Infinity"
        if (v === 0 && 1 / v < 0) return "-0"
      }
      if (typeof v === "bigint") return v.toString()
      // Decoded metric columns are Float64Arrays; JSON has no typed arrays.
      if (v instanceof Float64Array) return Array.from(v)
      return v
    },
    indent
  ))

/**
 * The one JSON shape of every listing (`runs`, `experiments`, `models`, `models versions`,
 * `history`, `rank`): an object holding the items under their plural name and `nextPageToken`
 * (a string when another page follows, else null), so a script reads every listing the same way,
 * paged or not, and a listing can gain fields (e.g. what it left out) without changing shape.
 */
export const listingJson = <K extends string>(
  kind: K,
  items: ReadonlyArray<unknown>,
  options: { readonly nextPageToken?: string | null; readonly extra?: Record<string, unknown> } = {}
): string => toJson({ [kind]: items, nextPageToken: options.nextPageToken ?? null, ...options.extra })

export const formatNumber = (x: number): string => {
  if (Number.isNaN(x)) return "NaN"
  if (!Number.isFinite(x)) return x > 0 ? "Infinity" : "-Infinity"
  if (x === 0) return 1 / x < 0 ? "-0" : "0"
  if (Number.isInteger(x) && Math.abs(x) < 1e15) return String(x)
  const a = Math.abs(x)
  if (a >= 1e6 || a < 1e-4) return x.toExponential(4)
  return String(Number(x.toPrecision(6)))
}

export const formatTime = (epochMs: number | null): string => {
  if (epochMs === null) return "-"
  const d = new Date(epochMs)
  const pad = (n: number) => String(n).padStart(2, "0")
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}

export const formatDuration = (ms: number | null): string => {
  if (ms === null || ms < 0) return "-"
  if (ms < 1000) return `${Math.round(ms)}ms`
  const s = ms / 1000
  if (s < 60) return `${s.toFixed(1)}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m${String(Math.round(s % 60)).padStart(2, "0")}s`
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`
}

export const formatBytes = (n: number): string =>
  n < 1024 ? `${n} B` : n < 1 << 20 ? `${(n / 1024).toFixed(1)} KiB` : n < 1 << 30 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${(n / (1 << 30)).toFixed(2)} GiB`

/** Code points, not UTF-16 units: a character outside the BMP takes one column. */
const width = (s: string): number => {
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0xd800 || c > 0xdbff || i + 1 === s.length) n++
    else {
      n++
      i++
    }
  }
  return n
}

// An exponent always has its sign, as JavaScript writes one ("1.5e-7", "1e+21"): a hex id such as
// 0193e4567890 is not a number.
const NUMERIC_CELL = /^-?[\d.,]+(e[+-]\d+)?%?$|^NaN$|^-?Infinity$|^-$/
/** Columns of identifiers stay left-aligned even when every id in view happens to be all digits. */
const ID_HEADERS = new Set(["ID", "RUN ID"])

/** Aligned columns; numeric-looking columns (judged on `rows`) are right-aligned. */
const align = (rows: ReadonlyArray<ReadonlyArray<string>>, header?: ReadonlyArray<string>): string => {
  // Every cell is made safe here, so no table can carry a terminal control sequence.
  const all = (header === undefined ? rows : [header, ...rows]).map((r) => r.map(safe))
  // One pass over every cell, in loops: a spread of a million rows into Math.max overflows the stack.
  const widths: number[] = []
  const numeric: boolean[] = []
  for (const r of all) {
    for (let i = 0; i < r.length; i++) {
      widths[i] = Math.max(widths[i] ?? 0, width(r[i]))
    }
  }
  for (let i = 0; i < widths.length; i++) {
    let every = rows.length > 0 && !(header !== undefined && ID_HEADERS.has(header[i] ?? ""))
    for (const r of rows) {
      if (!NUMERIC_CELL.test(r[i] ?? "")) {
        every = false
        break
      }
    }
    numeric[i] = every
  }
  const line = (cells: ReadonlyArray<string>) =>
    cells
      .map((c, i) => {
        const pad = " ".repeat(widths[i] - width(c))
        return numeric[i] ? pad + c : c + pad
      })
      .join("  ")
      .trimEnd()
  return all.map(line).join("\n")
}

/** An aligned table with a header row; numeric-looking columns are right-aligned. */
export const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => align(rows, header)

/** Aligned rows without a header (label / value lines). */
export const columns = (rows: ReadonlyArray<ReadonlyArray<string>>): string => align(rows)

/** Every line moved right by two spaces (a section's body under its title). */
export const indent = (text: string): string => text.split("\n").map((l) => `  ${l}`).join("\n")

/** A one-line sketch of a series with block characters. */
export const sparkline = (values: ReadonlyArray<number>, maxWidth = 24): string => {
  let lo = Infinity
  let hi = -Infinity
  // A loop, not a spread into Math.min: a series of millions of points would overflow the stack.
  for (const v of values) {
    if (!Number.isFinite(v)) continue
    if (v < lo) lo = v
    if (v > hi) hi = v
  }
  if (lo === Infinity) return ""
  const step = Math.max(1, Math.ceil(values.length / maxWidth))
  const sampled: number[] = []
  for (let i = 0; i < values.length; i += step) sampled.push(values[Math.min(values.length - 1, i + step - 1)])
  const bars = "▁▂▃▄▅▆▇█"
  return sampled.map((v) => (Number.isFinite(v) ? bars[hi === lo ? 3 : Math.round(((v - lo) / (hi - lo)) * 7)] : "·")).join("")
}
