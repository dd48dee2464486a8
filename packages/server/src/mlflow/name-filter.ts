/**
 * The part of MLflow's search filters this server takes for experiments and registered models:
 * comparisons joined by AND, each on the name or on a tag (`name = 'a'`, `tags.team LIKE 'v%'`,
 * ``tags.`my key` != 'x'``), with `=`, `!=`, `LIKE` or `ILIKE`. LIKE is the run filter's
 * (search-syntax's `likeMatcher`: `%` any text, `_` one character, no escape). A comparison on a
 * tag the item lacks is false, as in MLflow's store (which joins the tags table). Any other filter
 * is refused, never ignored.
 */
import { likeMatcher } from "@runledger/search-syntax"
import { invalidParameter } from "./errors.ts"

/** What these filters look at: an experiment or a registered model. */
export interface Named {
  readonly name: string
  readonly tags: Readonly<Record<string, string>>
}

// One comparison, anchored where the last one ended (sticky): the name or a tag, an operator, a quoted value.
const COMPARISON = /\s*(?:(name)|tags\.(?:`([^`]+)`|([\w.-]+)))\s*(=|!=|LIKE|ILIKE)\s*'((?:[^']|'')*)'\s*/iy
const AND = /AND\b/iy

const matcher = (op: string, value: string): ((s: string) => boolean) => {
  if (op === "=") return (s) => s === value
  if (op === "!=") return (s) => s !== value
  return likeMatcher(value, op === "ILIKE")
}

/** MLflow's `name`/`tags.` filters as a predicate; an empty filter keeps everything. */
export const nameFilter = (filter: string | undefined, what: string): ((item: Named) => boolean) => {
  if (filter === undefined || filter.trim() === "") return () => true
  const refuse = () =>
    invalidParameter(
      `This server filters ${what} by name and tags only: comparisons joined by AND, such as name = '...', name LIKE '...', tags.team ILIKE '...' (operators =, !=, LIKE, ILIKE); got ${JSON.stringify(filter)}.`
    )
  const tests: Array<(item: Named) => boolean> = []
  let pos = 0
  for (;;) {
    COMPARISON.lastIndex = pos
    const m = COMPARISON.exec(filter)
    if (m === null) throw refuse()
    const test = matcher(m[4].toUpperCase(), m[5].replaceAll("''", "'"))
    const tag = m[2] ?? m[3]
    tests.push(tag === undefined ? (item) => test(item.name) : (item) => Object.hasOwn(item.tags, tag) && test(item.tags[tag]))
    pos = COMPARISON.lastIndex
    if (pos === filter.length) break
    AND.lastIndex = pos
    if (AND.exec(filter) === null) throw refuse()
    pos = AND.lastIndex
  }
  return (item) => tests.every((t) => t(item))
}
