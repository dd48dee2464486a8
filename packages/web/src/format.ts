/** How values read in the UI: times in the viewer's time zone, durations short, numbers compact. */

const two = (n: number): string => String(n).padStart(2, "0")

/**
 * A moment as the viewer's local date and time, largest unit first (2026-12-02 18:05:09): one
 * reading in every locale, and sorted text sorts in time. Built from the Date's own fields, not
 * `toLocaleString`: its first call in a page loads ICU's date patterns, 50-65 ms of every runs
 * table's first paint in headless Chromium.
 */
export const time = (ms: number | null | undefined): string => {
  if (ms === null || ms === undefined) return "—"
  const d = new Date(ms)
  if (Number.isNaN(d.getTime())) return "—"
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`
}

export const duration = (start: number, end: number | null, now = Date.now()): string => {
  const s = Math.max(0, ((end ?? now) - start) / 1000)
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)}s`
  if (s < 3600) return `${Math.floor(s / 60)}m ${Math.round(s % 60)}s`
  return `${Math.floor(s / 3600)}h ${Math.round((s % 3600) / 60)}m`
}

/**
 * A run's duration as of `asOf` (the URL's value): a run still running at a date-time ran until
 * then; at a log position, which has no time, how long it had run cannot be told ("—").
 */
export const durationAt = (start: number, end: number | null, asOf: string | undefined): string => {
  if (end !== null || asOf === undefined) return duration(start, end)
  const t = /^\d+$/.test(asOf.trim()) ? Number.NaN : Date.parse(asOf)
  return Number.isNaN(t) ? "—" : duration(start, null, t)
}

export const value = (v: unknown): string => {
  if (v === null || v === undefined) return ""
  if (typeof v === "number") {
    if (!Number.isFinite(v)) return String(v)
    if (Number.isInteger(v)) return String(v)
    const a = Math.abs(v)
    return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(3) : String(Number(v.toPrecision(5)))
  }
  return String(v)
}

export const bytes = (n: number): string => (n < 1024 ? `${n} B` : n < 1 << 20 ? `${(n / 1024).toFixed(1)} KB` : `${(n / (1 << 20)).toFixed(1)} MB`)
