import { Schema } from "effect"

/**
 * A filter string that does not parse or does not type-check (unknown attribute, comparator
 * that MLflow does not allow for that kind of identifier, value of the wrong type).
 * `message` reads `Invalid filter at position <n>: <what was expected>, found <what was there>`;
 * `position` is the 0-based index into `input` (UTF-16 code units).
 */
export class FilterParseError extends Schema.TaggedError<FilterParseError>()("FilterParseError", {
  message: Schema.String,
  input: Schema.String,
  position: Schema.Number
}) {}

/** An order_by clause that does not parse; `position` is the 0-based index into `input`. */
export class OrderByParseError extends Schema.TaggedError<OrderByParseError>()("OrderByParseError", {
  message: Schema.String,
  input: Schema.String,
  position: Schema.Number
}) {}

/**
 * A page token that is not one of ours (`Malformed`), or was issued for a different
 * filter / order_by / scope (`QueryMismatch`).
 */
export class PageTokenError extends Schema.TaggedError<PageTokenError>()("PageTokenError", {
  message: Schema.String,
  reason: Schema.Literals(["Malformed", "QueryMismatch"])
}) {}
