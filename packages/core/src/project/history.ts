/**
 * Metric histories with resume semantics. A RunResumed(fromStep) sets aside the points logged
 * before it at steps >= fromStep: projections take the newer points instead. Nothing is deleted:
 * `all` returns every point with `superseded` marked, as `runledger history --all` shows.
 */
import { Schema } from "effect"
import type { Event } from "../events.ts"
import { MetricValue } from "../metric-value.ts"

export const HistoryPoint = Schema.Struct({
  step: Schema.Number,
  value: MetricValue,
  timestamp: Schema.Number,
  /** Set aside by a later resume (only reported with `all`). */
  superseded: Schema.optionalKey(Schema.Boolean)
}).annotate({ identifier: "MetricPoint" })
export type HistoryPoint = typeof HistoryPoint.Type

/**
 * A point logged after `era` resumes is superseded when some later resume starts at or below its
 * step: with `fromAfter[era]` the smallest fromStep among resumes number era, era+1, ..., that is
 * `step >= fromAfter[era]`.
 */
export const metricHistoryOf = (events: Iterable<Event>, key: string, options: { readonly all?: boolean } = {}): HistoryPoint[] => {
  // The key's points as columns first (an object a point only in the answer): a chart of a past
  // moment folds 100 runs of 100k points here.
  const steps: number[] = []
  const values: number[] = []
  const timestamps: number[] = []
  const eras: number[] = []
  const resumes: number[] = []
  for (const e of events) {
    if (e.type === "RunResumed") resumes.push(e.data.fromStep)
    else if (e.type === "MetricsLogged") {
      const d = e.data
      for (let i = 0; i < d.keys.length; i++) {
        if (d.keys[i] !== key) continue
        steps.push(d.steps[i])
        values.push(d.values[i])
        timestamps.push(d.timestamps[i])
        eras.push(resumes.length)
      }
    }
  }
  const fromAfter = new Array<number>(resumes.length + 1).fill(Infinity)
  for (let k = resumes.length - 1; k >= 0; k--) fromAfter[k] = Math.min(resumes[k], fromAfter[k + 1])
  const out: HistoryPoint[] = []
  let sorted = true
  for (let i = 0; i < steps.length; i++) {
    const superseded = steps[i] >= fromAfter[eras[i]]
    if (superseded && !options.all) continue
    if (out.length > 0 && steps[i] < out[out.length - 1].step) sorted = false
    out.push(superseded ? { step: steps[i], value: values[i], timestamp: timestamps[i], superseded: true } : { step: steps[i], value: values[i], timestamp: timestamps[i] })
  }
  // By step; points at the same step keep their log order (the sort is stable). Usually logged in order already.
  return sorted ? out : out.sort((a, b) => a.step - b.step)
}

/** The latest effective value of every key of a run: the highest step, then the latest timestamp. */
export const latestMetricsOf = (events: ReadonlyArray<Event>, keys: Iterable<string>): Map<string, HistoryPoint> => {
  const latest = new Map<string, HistoryPoint>()
  for (const key of keys) {
    let best: HistoryPoint | undefined
    for (const p of metricHistoryOf(events, key)) {
      if (best === undefined || p.step > best.step || (p.step === best.step && p.timestamp >= best.timestamp)) best = p
    }
    if (best !== undefined) latest.set(key, best)
  }
  return latest
}
