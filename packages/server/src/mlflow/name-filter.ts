/**
 * The part of MLflow's search filters this server takes for experiments and registered models:
 * one comparison on the name (`=`, `!=`, `LIKE`, `ILIKE`; `%` any text, `_` one character). Any
 * other filter is refused, never ignored.
 */
import { invalidParameter } from "./errors.ts"

/** MLflow's filters on names as far as this server takes them: `name = '...'`, `name LIKE '...'`, `name ILIKE '...'`. */
export const nameFilter = (filter: string | undefined, what: string): ((name: string) => boolean) => {
  if (filter === undefined || filter.trim() === "") return () => true
  const m = /^\s*name\s*(=|!=|LIKE|ILIKE)\s*'((?:[^']|'')*)'\s*$/i.exec(filter)
  if (m === null) throw invalidParameter(`This server filters ${what} by name only (name = '...', name LIKE '...', name ILIKE '...'); got ${JSON.stringify(filter)}.`)
  const op = m[1].toUpperCase()
  const value = m[2].replaceAll("''", "'")
  if (op === "=") return (n) => n === value
  if (op === "!=") return (n) => n !== value
  const source = value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replaceAll("%", ".*").replaceAll("_", ".")
  const re = new RegExp(`^${source}$`, op === "ILIKE" ? "is" : "s")
  return (n) => re.test(n)
}

