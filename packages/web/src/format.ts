/** How values read in the UI: times in the viewer's locale, durations short, numbers compact. */
export const time = (ms: number | null | undefined): string => (ms === null || ms === undefined ? "—" : new Date(ms).toLocaleString())

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
