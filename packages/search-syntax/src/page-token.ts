/**
 * Page tokens: opaque strings that carry the offset of the next page and a fingerprint of the
 * query they belong to, so a token from a different query (another filter, order_by or scope)
 * is refused instead of silently paging through the wrong result.
 *
 * Format (not a contract; clients must treat tokens as opaque): base64url, without padding,
 * of the JSON `{"v":1,"offset":<n>,"query":"<fingerprint>"}`. The fingerprint is a 64-bit
 * FNV-1a hash (hex) of the canonical filter and order_by text and the scope, so spelling
 * differences that parse to the same query (`metric.acc` vs `metrics.acc`, `and` vs `AND`) do
 * not invalidate a token. It guards against mistakes, not tampering.
 */
import { Effect, Result } from "effect"
import { PageTokenError } from "./errors.ts"
import type { Filter } from "./filter/ast.ts"
import { printFilter } from "./filter/print.ts"
import type { OrderByTerm } from "./order-by/order-by.ts"
import { printOrderBy } from "./order-by/order-by.ts"

export interface QueryIdentity {
  readonly filter?: Filter | undefined
  readonly orderBy?: ReadonlyArray<OrderByTerm> | undefined
  /** Anything else the result depends on, e.g. the experiment ids searched, joined. */
  readonly scope?: string | undefined
}

const FNV_OFFSET = 0xcbf29ce484222325n
const FNV_PRIME = 0x100000001b3n
const MASK_64 = (1n << 64n) - 1n

const fnv1a64 = (text: string): string => {
  let h = FNV_OFFSET
  for (const byte of new TextEncoder().encode(text)) {
    h ^= BigInt(byte)
    h = (h * FNV_PRIME) & MASK_64
  }
  return h.toString(16).padStart(16, "0")
}

/** The fingerprint a page token carries: a hash of the canonical filter, order_by and scope. */
export const queryFingerprint = (query: QueryIdentity): string =>
  fnv1a64(JSON.stringify(["runledger.page.v1", printFilter(query.filter), printOrderBy(query.orderBy ?? []), query.scope ?? ""]))

const toBase64Url = (ascii: string): string => btoa(ascii).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "")

/** A token for the page starting at `offset` (a non-negative integer) of `query`. */
export const encodePageToken = (offset: number, query: QueryIdentity): string => {
  if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`page offset must be a non-negative integer, got ${offset}`)
  return toBase64Url(JSON.stringify({ v: 1, offset, query: queryFingerprint(query) }))
}

const malformed = (detail: string) =>
  Result.fail(new PageTokenError({ reason: "Malformed", message: `Invalid page token: ${detail}` }))

/**
 * The offset a page token stands for; an absent or empty token means the first page (0).
 * Fails with `PageTokenError` if the token is not one of ours or belongs to another query.
 */
export const decodePageTokenResult = (
  token: string | null | undefined,
  query: QueryIdentity
): Result.Result<number, PageTokenError> => {
  if (token === undefined || token === null || token === "") return Result.succeed(0)
  if (!/^[A-Za-z0-9_-]+$/.test(token)) return malformed("not base64url text")
  let json: unknown
  try {
    const base64 = token.replaceAll("-", "+").replaceAll("_", "/")
    json = JSON.parse(atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4)))
  } catch {
    return malformed("not a runledger page token")
  }
  if (typeof json !== "object" || json === null) return malformed("not a runledger page token")
  const { v, offset, query: fingerprint } = json as Record<string, unknown>
  if (v !== 1 || typeof fingerprint !== "string" || typeof offset !== "number" || !Number.isSafeInteger(offset) || offset < 0) {
    return malformed("not a runledger page token")
  }
  if (fingerprint !== queryFingerprint(query)) {
    return Result.fail(
      new PageTokenError({
        reason: "QueryMismatch",
        message: "Invalid page token: it belongs to a different query (filter, order_by or scope changed); start again from the first page"
      })
    )
  }
  return Result.succeed(offset)
}

/** Effect version of `decodePageTokenResult`. */
export const decodePageToken = (
  token: string | null | undefined,
  query: QueryIdentity
): Effect.Effect<number, PageTokenError> => Effect.suspend(() => Effect.fromResult(decodePageTokenResult(token, query)))
