import { Effect, Result } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  decodePageToken,
  decodePageTokenResult,
  encodePageToken,
  PageTokenError,
  parseFilterSync,
  parseOrderBySync,
  queryFingerprint,
  type QueryIdentity
} from "../src/index.ts"

const query: QueryIdentity = {
  filter: parseFilterSync("metrics.acc > 0.9 AND params.model = 'cnn'"),
  orderBy: parseOrderBySync(["metrics.acc DESC"]),
  scope: "experiments:1,2"
}

const failure = (token: string, q: QueryIdentity = query): PageTokenError => {
  const result = decodePageTokenResult(token, q)
  if (Result.isSuccess(result)) throw new Error("expected the token to be refused")
  return result.failure
}

describe("page tokens", () => {
  it("round-trip the offset for the same query", () => {
    fc.assert(
      fc.property(fc.nat(), (offset) => {
        const token = encodePageToken(offset, query)
        expect(token).toMatch(/^[A-Za-z0-9_-]+$/)
        expect(decodePageTokenResult(token, query)).toEqual(Result.succeed(offset))
      })
    )
  })

  it("treats a missing or empty token as the first page", async () => {
    expect(await Effect.runPromise(decodePageToken(undefined, query))).toBe(0)
    expect(await Effect.runPromise(decodePageToken("", query))).toBe(0)
    expect(await Effect.runPromise(decodePageToken(null, query))).toBe(0)
  })

  it("accepts the token for the same query spelled differently", () => {
    const token = encodePageToken(50, query)
    const respelled: QueryIdentity = {
      filter: parseFilterSync("(metric.`acc` > 0.9) and param.model = \"cnn\""),
      orderBy: parseOrderBySync("metrics.acc desc"),
      scope: "experiments:1,2"
    }
    expect(decodePageTokenResult(token, respelled)).toEqual(Result.succeed(50))
  })

  it("refuses a token from a different filter, order_by or scope", async () => {
    const token = encodePageToken(50, query)
    for (const other of [
      { ...query, filter: parseFilterSync("metrics.acc > 0.8 AND params.model = 'cnn'") },
      { ...query, filter: undefined },
      { ...query, orderBy: parseOrderBySync("metrics.acc ASC") },
      { ...query, orderBy: [] },
      { ...query, scope: "experiments:1" }
    ]) {
      const error = failure(token, other)
      expect(error).toBeInstanceOf(PageTokenError)
      expect(error.reason).toBe("QueryMismatch")
      expect(error.message).toBe(
        "Invalid page token: it belongs to a different query (filter, order_by or scope changed); start again from the first page"
      )
    }
    const error = await Effect.runPromise(Effect.flip(decodePageToken(token, { filter: undefined })))
    expect(error._tag).toBe("PageTokenError")
  })

  it("refuses tokens that are not ours", () => {
    const b64 = (json: unknown) => btoa(JSON.stringify(json)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "")
    const fp = queryFingerprint(query)
    for (const token of [
      "not a token!",
      "abc",
      b64({ offset: 10 }),
      b64({ v: 1, offset: -1, query: fp }),
      b64({ v: 1, offset: 1.5, query: fp }),
      b64({ v: 2, offset: 1, query: fp }),
      b64([1, 2]),
      b64("x")
    ]) {
      const error = failure(token)
      expect(error.reason).toBe("Malformed")
      expect(error.message).toMatch(/^Invalid page token: /)
    }
    expect(decodePageTokenResult(b64({ v: 1, offset: 7, query: fp }), query)).toEqual(Result.succeed(7))
  })

  it("rejects a negative or fractional offset when encoding", () => {
    expect(() => encodePageToken(-1, query)).toThrow(RangeError)
    expect(() => encodePageToken(0.5, query)).toThrow(RangeError)
  })
})
