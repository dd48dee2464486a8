/**
 * Time travel's address as text, one rule for every front end: digits are a log position, anything
 * else must parse as a date/time (the CLI's --as-of, the HTTP API's asOf, the remote client).
 */
import { invalid } from "@runledger/core"
import type { AsOf } from "@runledger/tracker"

/** `text` as an AsOf; `label` names the input in the error (`--as-of`, `asOf`). */
export const parseAsOf = (text: string, label = "asOf"): AsOf => {
  const t = text.trim()
  if (/^\d+$/.test(t)) return { position: Number(t) }
  const time = Date.parse(t)
  if (Number.isNaN(time)) throw invalid(label.replace(/^-+/, ""), `${label} ${JSON.stringify(t)} is neither a log position (a whole number) nor a date/time such as 2026-11-16 or 2026-11-16T09:30.`)
  return { time }
}

/** The text `parseAsOf` reads back as `asOf`: the position's digits, or the time in ISO form. */
export const asOfText = (asOf: AsOf): string => ("position" in asOf ? String(asOf.position) : new Date(asOf.time).toISOString())
