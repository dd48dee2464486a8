/**
 * Input rules shared by every command: keys, names, values, steps and artifact paths.
 * Each check returns an InvalidInput whose message says what was wrong and what to do.
 */
import { invalid, type InvalidInput } from "./errors.ts"
import type { DatasetInput, ParamValue } from "./events.ts"

export const MAX_KEY_LENGTH = 250
export const MAX_PARAM_LENGTH = 6000
export const MAX_TAG_LENGTH = 8000

const KEY_CHARS = /^[\p{L}\p{N}_\-. /]+$/u

const show = (s: string): string => JSON.stringify(s.length > 60 ? `${s.slice(0, 60)}...` : s)

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/**
 * Text is stored exactly or refused, never altered. A lone UTF-16 surrogate has no UTF-8 form, so
 * the read model (and any UTF-8 store) would replace it. A leading byte-order mark is stored
 * exactly, but DuckDB's Node client drops it from the start of every string it returns, so the
 * read model (sql, exports) would hand back other text than was logged.
 */
export const checkText = (field: string, what: string, s: string): InvalidInput | undefined => {
  const lone = LONE_SURROGATE.exec(s)
  if (lone) {
    const code = lone[0].charCodeAt(0).toString(16).toUpperCase()
    return invalid(field, `The ${what} has a lone UTF-16 surrogate (U+${code} at index ${lone.index}), which no UTF-8 text can hold; it is usually half of an emoji cut in two. Fix the string.`)
  }
  if (s.charCodeAt(0) === 0xfeff) {
    return invalid(field, `The ${what} starts with a byte-order mark (U+FEFF), which the analytics read model cannot return intact; remove it.`)
  }
  return undefined
}

/** Keys of params, metrics and tags: 1..250 of letters, digits, `_ - . / space`; no `..` segment. */
export const checkKey = (kind: string, key: unknown): InvalidInput | undefined => {
  if (typeof key !== "string") return invalid(`${kind} key`, `A ${kind} key must be a string, got ${typeof key}.`)
  if (key.length === 0) return invalid(`${kind} key`, `A ${kind} key must not be empty.`)
  if (key.length > MAX_KEY_LENGTH) {
    return invalid(`${kind} key`, `The ${kind} key ${show(key)} has ${key.length} characters; the limit is ${MAX_KEY_LENGTH}.`)
  }
  if (!KEY_CHARS.test(key)) {
    return invalid(
      `${kind} key`,
      `The ${kind} key ${show(key)} has a character outside letters, digits, '_', '-', '.', '/' and space.`
    )
  }
  if (key.split("/").includes("..")) {
    return invalid(`${kind} key`, `The ${kind} key ${show(key)} has a '..' segment; use another name.`)
  }
  return undefined
}

/** Experiment and run names: any text but blank, at most 250 characters, no control characters. */
export const checkName = (kind: string, name: unknown): InvalidInput | undefined => {
  if (typeof name !== "string") return invalid(`${kind} name`, `The ${kind} name must be a string, got ${typeof name}.`)
  if (name.trim().length === 0) return invalid(`${kind} name`, `The ${kind} name must not be empty.`)
  if (name.length > MAX_KEY_LENGTH) {
    return invalid(`${kind} name`, `The ${kind} name has ${name.length} characters; the limit is ${MAX_KEY_LENGTH}.`)
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) {
    return invalid(`${kind} name`, `The ${kind} name ${show(name)} has a control character; remove it.`)
  }
  return checkText(`${kind} name`, `${kind} name`, name)
}

export const checkParamValue = (key: string, value: unknown): InvalidInput | undefined => {
  if (typeof value === "string") {
    return value.length > MAX_PARAM_LENGTH
      ? invalid("param value", `The value of param ${show(key)} has ${value.length} characters; the limit is ${MAX_PARAM_LENGTH}.`)
      : checkText("param value", `value of param ${show(key)}`, value)
  }
  if (typeof value === "boolean") return undefined
  if (typeof value === "number") {
    return Number.isFinite(value)
      ? undefined
      : invalid("param value", `The value of param ${show(key)} is ${value}; a number param must be finite (log it as a string if you mean it).`)
  }
  return invalid(
    "param value",
    `The value of param ${show(key)} is ${value === null ? "null" : typeof value}; use a string, a finite number or a boolean (JSON.stringify structured values).`
  )
}

export const checkTagValue = (key: string, value: unknown): InvalidInput | undefined => {
  if (typeof value !== "string") {
    return invalid("tag value", `The value of tag ${show(key)} is ${value === null ? "null" : typeof value}; tags are strings.`)
  }
  return value.length > MAX_TAG_LENGTH
    ? invalid("tag value", `The value of tag ${show(key)} has ${value.length} characters; the limit is ${MAX_TAG_LENGTH}.`)
    : checkText("tag value", `value of tag ${show(key)}`, value)
}

export const checkMetricValue = (key: string, value: unknown): InvalidInput | undefined =>
  typeof value === "number"
    ? undefined
    : invalid(
      "metric value",
      `The value of metric ${show(key)} is ${value === null ? "null" : typeof value} (${show(String(value))}); metric values must be numbers (NaN and Infinity are fine).`
    )

export const checkStep = (key: string, step: unknown): InvalidInput | undefined =>
  typeof step === "number" && Number.isSafeInteger(step) && step >= 0
    ? undefined
    : invalid("metric step", `The step of metric ${show(key)} is ${String(step)}; steps are whole numbers >= 0.`)

/**
 * The latest metric timestamp: JavaScript's Date range (year 275760), in epoch milliseconds. Every
 * store and the read model hold it exactly: a safe integer, a DuckDB BIGINT, and in microseconds
 * (8.64e18) still inside a DuckDB TIMESTAMP.
 */
export const MAX_TIMESTAMP_MS = 8.64e15

/** A metric timestamp is whole epoch milliseconds in 0 ..= MAX_TIMESTAMP_MS. */
export const isTimestamp = (t: unknown): t is number => typeof t === "number" && Number.isSafeInteger(t) && t >= 0 && t <= MAX_TIMESTAMP_MS

export const checkTimestamp = (key: string, timestamp: unknown): InvalidInput | undefined =>
  isTimestamp(timestamp)
    ? undefined
    : invalid(
      "metric timestamp",
      `The timestamp of metric ${show(key)} is ${String(timestamp)}; use whole epoch milliseconds from 0 to ${MAX_TIMESTAMP_MS} (what Date.now() gives).`
    )

/** An artifact's logical path inside its run: relative, no `..`, `.` or empty segments, no NUL or backslash. */
export const checkArtifactPath = (path: unknown): InvalidInput | undefined => {
  if (typeof path !== "string" || path.length === 0) return invalid("artifact path", "The artifact path must be a non-empty string.")
  if (path.length > 1024) return invalid("artifact path", `The artifact path has ${path.length} characters; the limit is 1024.`)
  if (path.includes("\u0000")) return invalid("artifact path", "The artifact path contains a NUL character.")
  if (path.startsWith("/") || /^[A-Za-z]:/.test(path)) {
    return invalid("artifact path", `The artifact path ${show(path)} is absolute; give a path relative to the run, e.g. "model/weights.json".`)
  }
  if (path.includes("\\")) return invalid("artifact path", `The artifact path ${show(path)} has a backslash; use '/' between folders.`)
  const badText = checkText("artifact path", "artifact path", path)
  if (badText) return badText
  const segments = path.split("/")
  if (segments.includes("..")) {
    return invalid("artifact path", `The artifact path ${show(path)} climbs out of the run with '..'; keep it inside the run.`)
  }
  if (segments.some((s) => s === "" || s === ".")) {
    return invalid("artifact path", `The artifact path ${show(path)} has an empty or '.' segment; write it as "folder/file".`)
  }
  // Downloads write each segment as a file or folder name, and file systems allow 255 bytes.
  const long = segments.find((s) => utf8Length(s) > MAX_SEGMENT_BYTES)
  if (long !== undefined) {
    return invalid("artifact path", `The artifact path segment ${show(long)} is ${utf8Length(long)} bytes in UTF-8; file systems allow ${MAX_SEGMENT_BYTES} per name. Shorten it.`)
  }
  return undefined
}

/** The longest name of one file or folder on common file systems (ext4, APFS, NTFS), in bytes. */
export const MAX_SEGMENT_BYTES = 255

const utf8 = new TextEncoder()
const utf8Length = (s: string): number => utf8.encode(s).length

/**
 * A run's artifacts download into one folder tree, so no path may be both a file and a folder:
 * `x/y` and `x/y/z` in one run cannot both be written. Storing the same path again replaces it.
 */
export const checkArtifactPlace = (stored: ReadonlyMap<string, unknown>, path: string): InvalidInput | undefined => {
  for (const p of stored.keys()) {
    if (p.startsWith(`${path}/`)) {
      return invalid("artifact path", `This run already stores ${show(p)}, so ${show(path)} is a folder, not a file; store it under another name.`)
    }
    if (path.startsWith(`${p}/`)) {
      return invalid("artifact path", `This run already stores the file ${show(p)}, so it cannot be a folder of ${show(path)}; store it under another name.`)
    }
  }
  return undefined
}

/** Params as accepted from callers: checked key by key; the first problem is reported. */
export const checkParams = (params: Record<string, unknown>): InvalidInput | undefined => {
  if (typeof params !== "object" || params === null) return invalid("params", "Params must be an object of key -> value.")
  for (const [k, v] of Object.entries(params)) {
    const bad = checkKey("param", k) ?? checkParamValue(k, v)
    if (bad) return bad
  }
  return undefined
}

export const checkTags = (tags: Record<string, unknown>): InvalidInput | undefined => {
  if (typeof tags !== "object" || tags === null) return invalid("tags", "Tags must be an object of key -> string.")
  for (const [k, v] of Object.entries(tags)) {
    const bad = checkKey("tag", k) ?? checkTagValue(k, v)
    if (bad) return bad
  }
  return undefined
}

export const sameParam = (a: ParamValue, b: ParamValue): boolean => Object.is(a, b)

/**
 * The sizes MLflow's tracking store holds for a dataset input; a client that logs within them to
 * MLflow logs within them here. Schema and profile are JSON text the client computed, kept verbatim.
 */
export const DATASET_LIMITS = {
  name: 500,
  digest: 36,
  sourceType: 36,
  source: 65535,
  schema: 1048575,
  profile: 16777215,
  tagValue: 500
} as const

const checkDatasetField = (input: DatasetInput, field: keyof typeof DATASET_LIMITS, value: unknown, required: boolean): InvalidInput | undefined => {
  const what = `dataset ${field}`
  if (value === undefined && !required) return undefined
  if (typeof value !== "string") return invalid(what, `The ${what} must be a string, got ${value === null ? "null" : typeof value}.`)
  if (required && value.length === 0) return invalid(what, `The ${what} must not be empty; say what the dataset is and where it came from.`)
  const limit = DATASET_LIMITS[field]
  if (value.length > limit) {
    return invalid(what, `The ${what}${field === "name" ? "" : ` of dataset ${show(String(input.name))}`} has ${value.length} characters; the limit is ${limit}.`)
  }
  return checkText(what, what, value)
}

/** A dataset input: name, digest, source type and source given; every field and tag within its limit. */
export const checkDatasetInput = (input: DatasetInput): InvalidInput | undefined => {
  if (typeof input !== "object" || input === null) return invalid("dataset", "A dataset input must be an object with name, digest, sourceType and source.")
  const bad = checkDatasetField(input, "name", input.name, true) ??
    checkDatasetField(input, "digest", input.digest, true) ??
    checkDatasetField(input, "sourceType", input.sourceType, true) ??
    checkDatasetField(input, "source", input.source, true) ??
    checkDatasetField(input, "schema", input.schema, false) ??
    checkDatasetField(input, "profile", input.profile, false)
  if (bad) return bad
  if (typeof input.tags !== "object" || input.tags === null) return invalid("dataset tags", "A dataset input's tags must be an object of key -> string.")
  for (const [k, v] of Object.entries(input.tags)) {
    const badTag = checkKey("input tag", k) ?? checkTagValue(k, v)
    if (badTag) return badTag
    if ((v as string).length > DATASET_LIMITS.tagValue) {
      return invalid("input tag value", `The value of input tag ${show(k)} has ${(v as string).length} characters; the limit is ${DATASET_LIMITS.tagValue}.`)
    }
  }
  return undefined
}
