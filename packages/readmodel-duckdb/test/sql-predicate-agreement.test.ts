/**
 * The two compilations of a filter (DuckDB SQL and the in-memory predicate) and of an order_by
 * (ORDER BY and the comparator) must agree: checked on fixed examples of the tricky semantics,
 * on random runs × random filters / orderings, and against SQL injection.
 */
import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api"
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  filterToSql,
  orderByToSql,
  parseFilterSync,
  parseOrderBySync,
  toComparator,
  toPredicate,
  toTruthFunction,
  type Filter,
  type OrderByTerm,
  type RunView
} from "../../search-syntax/src/index.ts"
import {
  JoinedTargets
} from "../src/index.ts"
import { searchSql } from "../src/queries/search.ts"
import { filterArb, orderByArb, runsArb } from "../../search-syntax/test/arbitraries.ts"
import { createReadModel, loadRuns } from "./duckdb-read-model.ts"

let db: DuckDBInstance
let conn: DuckDBConnection

beforeAll(async () => {
  db = await DuckDBInstance.create(":memory:")
  conn = await db.connect()
  await createReadModel(conn)
})
afterAll(() => {
  conn.closeSync()
  db.closeSync()
})

/** What the SQL WHERE expression evaluates to for each run: true, false or null. */
const sqlTruth = async (filter: Filter | undefined): Promise<Map<string, boolean | null>> => {
  const joins = new JoinedTargets()
  const { where, params } = filterToSql(filter, { joins })
  const reader = await conn.runAndReadAll(`SELECT r.run_id AS id, (${where}) AS v FROM runs r ${joins.joins.join(" ")}`, params)
  return new Map(reader.getRowObjectsJS().map((row) => [row.id as string, row.v as boolean | null]))
}

interface SelectQuery {
  readonly filter?: Filter | undefined
  readonly orderBy?: ReadonlyArray<OrderByTerm>
  readonly limit?: number
  readonly offset?: number
}

/** The run ids searchRuns' statement selects (over every experiment); a page is cut as searchRunIds cuts it. */
const sqlSelect = async ({ filter, orderBy = [], limit, offset = 0 }: SelectQuery): Promise<Array<string>> => {
  const page = limit === undefined ? undefined : { limit, offset }
  const { sql, params } = searchSql({}, filter, orderBy, page)
  const ids = (await conn.runAndReadAll(sql, params)).getRowObjectsJS().map((row) => row.run_id) as Array<string>
  // searchSql fetches one row past the page, to know whether another page follows
  return limit === undefined ? ids : ids.slice(0, limit)
}

const memoryTruth = (runs: ReadonlyArray<RunView>, filter: Filter | undefined): Map<string, boolean | null> => {
  const truth = toTruthFunction(filter)
  return new Map(runs.map((r) => [r.id, truth(r)]))
}

const memorySelect = (
  runs: ReadonlyArray<RunView>,
  filter: Filter | undefined,
  orderBy: ReadonlyArray<OrderByTerm>
): Array<string> => runs.filter(toPredicate(filter)).sort(toComparator(orderBy)).map((r) => r.id)

const run = (id: string, fields: Partial<RunView> = {}): RunView => ({
  id,
  experimentId: "0",
  name: id,
  status: "FINISHED",
  startTime: 1,
  endTime: null,
  params: {},
  tags: {},
  metrics: {},
  ...fields
})

describe("fixed examples (both engines must give the expected runs)", () => {
  const runs: ReadonlyArray<RunView> = [
    run("a", { metrics: { acc: 0.9, loss: Number.NaN }, params: { lr: 0.1, opt: "Adam" }, tags: { team: "ML" }, startTime: 10, endTime: 20 }),
    run("b", { metrics: { acc: 0.5, loss: 1 }, params: { lr: "0.01", opt: "adam" }, status: "FAILED", startTime: 30 }),
    run("c", { metrics: { loss: Number.POSITIVE_INFINITY }, params: { path: "C:\\tmp\\x_1", flag: true }, tags: { team: "ml-ops" }, startTime: 20 }),
    run("d", { name: "Δelta", status: "RUNNING", tags: { "my key": "it's" }, startTime: 20 })
  ]
  beforeAll(() => loadRuns(conn, runs))

  const cases: ReadonlyArray<readonly [string, ReadonlyArray<string>]> = [
    ["", ["a", "b", "c", "d"]],
    ["metrics.acc > 0.6", ["a"]],
    // missing metric: neither = nor != holds, and NOT does not make it true (three-valued logic)
    ["metrics.acc != 0.9", ["b"]],
    ["NOT metrics.acc = 0.9", ["b"]],
    ["NOT (metrics.acc = 0.9 OR metrics.acc < 1)", []],
    ["metrics.acc = 0.9 OR NOT metrics.acc = 0.9", ["a", "b"]],
    // NaN is larger than every number (DuckDB), and not equal to any number
    ["metrics.loss > 1e308", ["a", "c"]],
    ["metrics.loss != 1", ["a", "c"]],
    ["metrics.loss >= 1", ["a", "b", "c"]],
    ["metrics.loss < 0", []],
    // params compare as strings: String(0.1) = '0.1', String(true) = 'true'
    ["params.lr = '0.1'", ["a"]],
    ["params.lr LIKE '0.%'", ["a", "b"]],
    ["params.flag = 'true'", ["c"]],
    ["params.opt = 'adam'", ["b"]],
    ["params.opt ILIKE 'ADAM'", ["a", "b"]],
    ["params.opt LIKE 'A%'", ["a"]],
    // backslash is not an escape; _ is one character
    ["params.path LIKE 'C:\\tmp\\x_1'", ["c"]],
    ["params.path LIKE '%x\\_1'", []],
    ["tags.team ILIKE 'ml%'", ["a", "c"]],
    ["tags.`my key` = 'it''s'", ["d"]],
    ["tags.\"my key\" LIKE '%''%'", ["d"]],
    ["attributes.run_name ILIKE 'δ%'", ["d"]],
    ["tags.`mlflow.runName` = 'Δelta'", ["d"]],
    ["attributes.status IN ('FAILED', 'RUNNING')", ["b", "d"]],
    ["attributes.status NOT IN ('FAILED', 'RUNNING')", ["a", "c"]],
    ["attributes.run_id IN ('a', 'c') AND NOT params.path LIKE '%x%'", []],
    // IN on params and tags: strings, like =; a run without the key is neither IN nor NOT IN
    ["params.opt IN ('Adam', 'adam')", ["a", "b"]],
    ["params.lr IN ('0.1', '0.01')", ["a", "b"]],
    ["params.flag IN ('true')", ["c"]],
    ["params.opt NOT IN ('Adam')", ["b"]],
    ["NOT params.opt IN ('Adam')", ["b"]],
    ["tags.team IN ('ML', 'ml-ops') AND NOT tags.team NOT IN ('ML')", ["a"]],
    ["attributes.end_time > 0", ["a"]],
    ["NOT attributes.end_time > 100", ["a"]],
    ["attributes.start_time >= 20 AND attributes.start_time < 30", ["c", "d"]],
    ["created = 10", ["a"]],
    ["metrics.acc > 0.6 or metrics.loss = 1 and attributes.status = 'FAILED'", ["a", "b"]],
    ["(metrics.acc > 0.6 or metrics.loss = 1) and attributes.status = 'FINISHED'", ["a"]]
  ]
  it.each(cases)("%s", async (text, expected) => {
    const filter = parseFilterSync(text)
    const bySql = await sqlSelect({ filter, orderBy: parseOrderBySync("attributes.run_id") })
    const byPredicate = memorySelect(runs, filter, parseOrderBySync("attributes.run_id"))
    expect(bySql).toEqual(expected)
    expect(byPredicate).toEqual(expected)
  })

  it.each([
    // missing values last in both directions; NaN after numbers, before missing
    ["metrics.loss ASC", ["b", "c", "a", "d"]],
    ["metrics.loss DESC", ["c", "b", "a", "d"]],
    ["metrics.acc DESC", ["a", "b", "c", "d"]],
    ["metrics.acc ASC", ["b", "a", "c", "d"]],
    // ties: start_time DESC, then run id ASC
    ["attributes.status", ["b", "c", "a", "d"]],
    ["", ["b", "c", "d", "a"]],
    ["attributes.end_time DESC", ["a", "b", "c", "d"]],
    ["params.opt DESC, metrics.acc", ["b", "a", "c", "d"]],
    ["tags.team", ["a", "c", "b", "d"]]
  ] as const)("order_by %s", async (text, expected) => {
    const orderBy = parseOrderBySync(text)
    expect(await sqlSelect({ orderBy })).toEqual(expected)
    expect(memorySelect(runs, undefined, orderBy)).toEqual(expected)
  })

  it("pages with LIMIT/OFFSET in order", async () => {
    const orderBy = parseOrderBySync("metrics.loss DESC")
    expect(await sqlSelect({ orderBy, limit: 2 })).toEqual(["c", "b"])
    expect(await sqlSelect({ orderBy, limit: 2, offset: 2 })).toEqual(["a", "d"])
    expect(await sqlSelect({ orderBy, limit: 2, offset: 4 })).toEqual([])
  })
})

describe("random runs and filters", () => {
  it("the SQL expression and the predicate have the same three-valued truth for every run", async () => {
    await fc.assert(
      fc.asyncProperty(runsArb, fc.array(filterArb, { minLength: 1, maxLength: 6 }), async (runs, filters) => {
        await loadRuns(conn, runs)
        for (const filter of filters) {
          expect(await sqlTruth(filter)).toEqual(memoryTruth(runs, filter))
        }
      }),
      { numRuns: 80 }
    )
  })

  it("SQL selects and orders (with paging) exactly like predicate + comparator", async () => {
    await fc.assert(
      fc.asyncProperty(
        runsArb,
        fc.array(fc.tuple(fc.option(filterArb, { nil: undefined }), orderByArb), { minLength: 1, maxLength: 4 }),
        fc.option(fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 5 })), { nil: undefined }),
        async (runs, queries, page) => {
          await loadRuns(conn, runs)
          for (const [filter, orderBy] of queries) {
            const expected = memorySelect(runs, filter, orderBy)
            expect(await sqlSelect({ filter, orderBy })).toEqual(expected)
            if (page !== undefined) {
              const [limit, offset] = page
              expect(await sqlSelect({ filter, orderBy, limit, offset })).toEqual(expected.slice(offset, offset + limit))
            }
          }
        }
      ),
      { numRuns: 80 }
    )
  })
})

describe("SQL injection", () => {
  const payload = "a'; DROP TABLE runs; --"
  const runs = [run("x", { params: { [payload]: payload, x: payload }, metrics: { [payload]: 1 } })]
  beforeAll(() => loadRuns(conn, runs))

  it("binds values and keys as data", async () => {
    const filters = [
      "params.x = 'a''; DROP TABLE runs; --'",
      "params.`a'; DROP TABLE runs; --` = \"a'; DROP TABLE runs; --\"",
      "metrics.`a'; DROP TABLE runs; --` = 1 AND attributes.run_id IN ('x', ''');DROP TABLE runs;--')",
      "params.x LIKE '%DROP TABLE%' OR tags.`); DELETE FROM runs; --` = '1'"
    ]
    for (const text of filters) {
      const filter = parseFilterSync(text)
      const { where, params } = filterToSql(filter, { joins: new JoinedTargets() })
      expect(where).not.toMatch(/DROP|DELETE|--/)
      expect(params).toContain(text.includes("tags") ? "); DELETE FROM runs; --" : payload)
      expect(await sqlSelect({ filter })).toEqual(["x"])
    }
    const orderBy = parseOrderBySync("params.`a'; DROP TABLE runs; --` DESC")
    expect(orderByToSql(orderBy, { joins: new JoinedTargets() }).orderBy).not.toMatch(/DROP/)
    expect(await sqlSelect({ orderBy })).toEqual(["x"])
    // the tables are all still there
    const count = await conn.runAndReadAll("SELECT count(*)::INTEGER AS n FROM runs")
    expect(count.getRowObjectsJS()).toEqual([{ n: 1 }])
  })
})
