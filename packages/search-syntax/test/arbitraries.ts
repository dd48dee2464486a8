/**
 * fast-check arbitraries shared by the query tests: runs drawn from small pools (so filters
 * actually hit, tie and miss), and filter / order_by ASTs over the same pools.
 */
import fc from "fast-check"
import {
  and,
  attribute,
  compareNumber,
  compareString,
  inList,
  metric,
  not,
  numericComparators,
  or,
  param,
  stringComparators,
  tag,
  type Filter,
  type NumericTarget,
  type OrderByTerm,
  type RunView,
  type StringAttributeKey,
  type StringTarget,
  type Target
} from "../src/index.ts"

/** Keys that need quoting, look like prototype members, contain dots or non-ASCII. */
export const keyPool = ["acc", "loss", "lr", "a.b", "my key", "x`y", "it's", "d\"q", "constructor", "ünï", "1st"]

/** Characters for values and LIKE patterns: wildcards, quotes, backslash, case pairs, non-ASCII. */
const chars = ["a", "b", "A", "B", "%", "_", "\\", "'", "\"", " ", "é", "É", "1", ".", "\n", "😀", "\uFB01"]
export const smallText = fc.string({ unit: fc.constantFrom(...chars), maxLength: 4 })
const statusPool = ["RUNNING", "FINISHED", "FAILED", "KILLED", "finished"]
const experimentPool = ["0", "1", "exp-a"]
/** Values used both in runs and in filters, so `=` and `IN` sometimes hit. */
const stringValue = fc.oneof(smallText, fc.constantFrom(...statusPool, ...experimentPool, "a", "1", "true", "0.1", "1e+21"))

const key = fc.constantFrom(...keyPool)
const startTime = fc.oneof(fc.integer({ min: 0, max: 4 }), fc.constant(1_700_000_000_000))
const metricValue = fc.oneof(
  fc.constantFrom(0, -0, 1, -1, 0.5, 2, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e300),
  fc.integer({ min: -3, max: 3 }),
  fc.double()
)
/** A number literal as it can appear in a filter (finite). */
const literalNumber = fc.oneof(
  fc.constantFrom(0, -0, 1, -1, 0.5, 2, 4, 1e20, 1_700_000_000_000),
  fc.integer({ min: -3, max: 5 }),
  fc.double({ noNaN: true, noDefaultInfinity: true })
)
const paramValue = fc.oneof(stringValue, fc.integer({ min: -2, max: 2 }), fc.boolean(), fc.constantFrom(0.1, 1e21))

const runFields = fc.record({
  experimentId: fc.constantFrom(...experimentPool),
  name: stringValue,
  status: fc.constantFrom(...statusPool),
  startTime,
  endTime: fc.option(startTime, { nil: null }),
  params: fc.dictionary(key, paramValue, { maxKeys: 4 }),
  tags: fc.dictionary(key, stringValue, { maxKeys: 4 }),
  metrics: fc.dictionary(key, metricValue, { maxKeys: 4 })
})

export const runsArb: fc.Arbitrary<ReadonlyArray<RunView>> = fc
  .uniqueArray(fc.string({ unit: fc.constantFrom("a", "b", "B", "é", "😀", "\uFB01", "_"), minLength: 1, maxLength: 3 }), {
    maxLength: 10
  })
  .chain((ids) => fc.tuple(...ids.map((id) => runFields.map((fields): RunView => ({ id, ...fields })))))

// Filters -------------------------------------------------------------------------------------

const stringAttributeKey = fc.constantFrom<StringAttributeKey>("run_id", "run_name", "status", "experiment_id")

const numericTargetFrom = (keys: fc.Arbitrary<string>): fc.Arbitrary<NumericTarget> =>
  fc.oneof(keys.map(metric), fc.constantFrom(attribute("start_time"), attribute("end_time")))
const stringTargetFrom = (keys: fc.Arbitrary<string>): fc.Arbitrary<StringTarget> =>
  fc.oneof(keys.map(param), keys.map(tag), stringAttributeKey.map((k) => attribute(k)))

const filterFrom = (
  keys: fc.Arbitrary<string>,
  text: fc.Arbitrary<string>,
  number: fc.Arbitrary<number>,
  maxDepth: number
): fc.Arbitrary<Filter> => {
  const comparison: fc.Arbitrary<Filter> = fc.oneof(
    fc.tuple(numericTargetFrom(keys), fc.constantFrom(...numericComparators), number).map(([t, op, v]) =>
      compareNumber(t, op, v)
    ),
    fc.tuple(stringTargetFrom(keys), fc.constantFrom(...stringComparators), text).map(([t, op, v]) =>
      compareString(t, op, v)
    ),
    fc.tuple(stringTargetFrom(keys), fc.array(text, { minLength: 1, maxLength: 3 }), fc.boolean()).map(([t, vs, neg]) =>
      inList(t, vs as unknown as readonly [string, ...Array<string>], neg)
    )
  )
  const { filter } = fc.letrec<{ filter: Filter }>((tie) => ({
    filter: fc.oneof(
      { maxDepth, depthIdentifier: "filter" },
      comparison,
      fc.tuple(tie("filter"), tie("filter")).map(([l, r]) => and(l, r)),
      fc.tuple(tie("filter"), tie("filter")).map(([l, r]) => or(l, r)),
      tie("filter").map(not)
    )
  }))
  return filter
}

/** Filters over the run pools, for comparing SQL with the predicate. */
export const filterArb = filterFrom(key, stringValue, literalNumber, 4)

/** Filters with arbitrary keys and strings (any code point), for print/parse round trips. */
export const wideFilterArb = filterFrom(
  fc.oneof(key, fc.string({ unit: "binary", minLength: 1, maxLength: 6 })).filter((k) => k !== "mlflow.runName"),
  fc.oneof(stringValue, fc.string({ unit: "binary", maxLength: 8 })),
  fc.oneof(literalNumber, fc.double({ noNaN: true, noDefaultInfinity: true })),
  5
)

// order_by ------------------------------------------------------------------------------------

const targetArb: fc.Arbitrary<Target> = fc.oneof(numericTargetFrom(key), stringTargetFrom(key))

export const orderByArb: fc.Arbitrary<ReadonlyArray<OrderByTerm>> = fc.array(
  fc.record({ target: targetArb, direction: fc.constantFrom("ASC" as const, "DESC" as const) }),
  { maxLength: 3 }
)
