/**
 * MLflow's JSON conventions (protobuf JSON as MLflow's client and server write it): snake_case
 * fields, int64 as numbers (strings accepted, as protobuf JSON allows), enums by name, and the
 * non-finite doubles as the strings "NaN", "Infinity", "-Infinity".
 *
 * Readers take a request's fields (a JSON body, or a GET's query string, whose values are all
 * strings) and refuse a missing or mistyped field with MLflow's own message.
 */
import { invalidParameter, MlflowError } from "./errors.ts"

export type Fields = Readonly<Record<string, unknown>>

const DOCS = "See the API docs for more information about request parameters."

const missing = (name: string): MlflowError => invalidParameter(`Missing value for required parameter '${name}'. ${DOCS}`)

const badValue = (name: string, value: unknown, expected: string): MlflowError =>
  invalidParameter(`Invalid value ${JSON.stringify(value)} for parameter '${name}' supplied: expected ${expected}. ${DOCS}`)

const absent = (v: unknown): boolean => v === undefined || v === null

export const optionalString = (f: Fields, name: string): string | undefined => {
  const v = f[name]
  if (absent(v)) return undefined
  if (typeof v !== "string") throw badValue(name, v, "a string")
  return v
}

/** A required string; MLflow counts "" as missing too. */
export const requireString = (f: Fields, name: string): string => {
  const v = optionalString(f, name)
  if (v === undefined || v === "") throw missing(name)
  return v
}

/** MLflow's run id field, under its current name or the deprecated `run_uuid`. */
export const runIdOf = (f: Fields): string => {
  const id = optionalString(f, "run_id") || optionalString(f, "run_uuid")
  if (id === undefined || id === "") throw missing("run_id")
  return id
}

/** An int64: a JSON number, or a string of digits (protobuf JSON, and every GET query value). */
export const optionalInt = (f: Fields, name: string): number | undefined => {
  const v = f[name]
  if (absent(v)) return undefined
  const n = typeof v === "number" ? v : typeof v === "string" && /^-?\d+$/.test(v.trim()) ? Number(v) : NaN
  if (!Number.isSafeInteger(n)) throw badValue(name, v, "a whole number")
  return n
}

export const requireInt = (f: Fields, name: string): number => {
  const n = optionalInt(f, name)
  if (n === undefined) throw missing(name)
  return n
}

const NON_FINITE: Readonly<Record<string, number>> = { NaN: NaN, Infinity: Infinity, "-Infinity": -Infinity }

/** A double: a number, "NaN", "Infinity", "-Infinity", or a numeric string. */
export const requireDouble = (f: Fields, name: string): number => {
  const v = f[name]
  if (absent(v)) throw missing(name)
  if (typeof v === "number") return v
  if (typeof v === "string") {
    if (Object.hasOwn(NON_FINITE, v)) return NON_FINITE[v]
    const n = Number(v)
    if (v.trim() !== "" && !Number.isNaN(n)) return n
  }
  throw badValue(name, v, "a number, \"NaN\", \"Infinity\" or \"-Infinity\"")
}

export const optionalBoolean = (f: Fields, name: string): boolean | undefined => {
  const v = f[name]
  if (absent(v)) return undefined
  if (typeof v === "boolean") return v
  if (v === "true" || v === "false") return v === "true"
  throw badValue(name, v, "true or false")
}

/** A repeated string field (a GET repeats the query parameter). */
export const stringList = (f: Fields, name: string): ReadonlyArray<string> => {
  const v = f[name]
  if (absent(v)) return []
  const list = Array.isArray(v) ? v : [v]
  for (const x of list) if (typeof x !== "string") throw badValue(name, v, "a list of strings")
  return list as ReadonlyArray<string>
}

/** A repeated message field: a list of objects. */
export const objectList = (f: Fields, name: string): ReadonlyArray<Fields> => {
  const v = f[name]
  if (absent(v)) return []
  if (!Array.isArray(v)) throw badValue(name, v, "a list")
  for (const x of v) if (typeof x !== "object" || x === null || Array.isArray(x)) throw badValue(name, x, "a list of objects")
  return v as ReadonlyArray<Fields>
}

/** A required message field: one object. */
export const requireObject = (f: Fields, name: string): Fields => {
  const v = f[name]
  if (absent(v)) throw missing(name)
  if (typeof v !== "object" || Array.isArray(v)) throw badValue(name, v, "an object")
  return v as Fields
}

/** `[{ key, value }]` (params, tags) as entries, in order; each value a string as MLflow sends it. */
export const keyValues = (f: Fields, name: string): ReadonlyArray<readonly [string, string]> =>
  objectList(f, name).map((kv) => [requireString(kv, "key"), optionalString(kv, "value") ?? ""] as const)

/** A double as protobuf JSON writes it. */
export const double = (x: number): number | string => (Number.isFinite(x) ? x : Number.isNaN(x) ? "NaN" : x > 0 ? "Infinity" : "-Infinity")

/** MLflow's view types by name, as runledger's. */
export const viewTypeOf = (f: Fields, name: string): "active" | "deleted" | "all" => {
  const v = f[name]
  if (absent(v) || v === "ACTIVE_ONLY" || v === 1) return "active"
  if (v === "DELETED_ONLY" || v === 2) return "deleted"
  if (v === "ALL" || v === 3) return "all"
  throw badValue(name, v, "ACTIVE_ONLY, DELETED_ONLY or ALL")
}

/**
 * One page of a list held in full (experiments, a metric's history): the token is the offset of
 * the next page, base64 so a client treats it as opaque, as MLflow's are.
 */
export const page = <A>(items: ReadonlyArray<A>, f: Fields, defaultMax: number): { readonly items: ReadonlyArray<A>; readonly next: string | undefined } => {
  const max = optionalInt(f, "max_results") ?? defaultMax
  if (max < 1) throw badValue("max_results", f.max_results, "a whole number >= 1")
  const token = optionalString(f, "page_token")
  let offset = 0
  if (token !== undefined && token !== "") {
    const decoded = Buffer.from(token, "base64").toString("utf8")
    offset = /^offset:\d+$/.test(decoded) ? Number(decoded.slice("offset:".length)) : NaN
    if (!Number.isSafeInteger(offset)) throw invalidParameter(`Invalid page token ${JSON.stringify(token)}: pass the next_page_token of an earlier response.`)
  }
  const end = offset + max
  return { items: items.slice(offset, end), next: end < items.length ? Buffer.from(`offset:${end}`).toString("base64") : undefined }
}
