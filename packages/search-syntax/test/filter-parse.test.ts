/**
 * Parsing filters and order_by: MLflow's documented examples, aliases, precedence, error
 * positions and messages, and print/parse round trips on random ASTs.
 */
import { Effect, Result } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  and,
  attribute,
  compareNumber,
  compareString,
  FilterParseError,
  inList,
  metric,
  not,
  or,
  OrderByParseError,
  param,
  parseFilter,
  parseFilterResult,
  parseFilterSync,
  parseOrderBy,
  parseOrderByResult,
  parseOrderBySync,
  printFilter,
  printOrderBy,
  tag,
  type Filter
} from "../src/index.ts"
import { orderByArb, wideFilterArb } from "./arbitraries.ts"

const parseError = (input: string): FilterParseError => {
  const result = parseFilterResult(input)
  if (Result.isSuccess(result)) throw new Error(`expected ${JSON.stringify(input)} to fail`)
  return result.failure
}

describe("MLflow's documented examples (search-runs guide)", () => {
  const examples: ReadonlyArray<readonly [string, Filter]> = [
    ["metrics.accuracy > 0.72", compareNumber(metric("accuracy"), ">", 0.72)],
    ["metrics.\"accuracy\" > 0.72", compareNumber(metric("accuracy"), ">", 0.72)],
    ["metrics.loss <= 0.15", compareNumber(metric("loss"), "<=", 0.15)],
    ["metrics.`log-scale-loss` <= 0", compareNumber(metric("log-scale-loss"), "<=", 0)],
    ["metrics.`f1 score` >= 0.5", compareNumber(metric("f1 score"), ">=", 0.5)],
    ["metrics.`cross-entropy-loss` < 0.5", compareNumber(metric("cross-entropy-loss"), "<", 0.5)],
    [
      "metrics.accuracy > 0.72 AND metrics.loss <= 0.15",
      and(compareNumber(metric("accuracy"), ">", 0.72), compareNumber(metric("loss"), "<=", 0.15))
    ],
    ["params.batch_size = \"2\"", compareString(param("batch_size"), "=", "2")],
    ["params.model LIKE \"GPT%\"", compareString(param("model"), "LIKE", "GPT%")],
    ["params.model ILIKE \"gPt%\"", compareString(param("model"), "ILIKE", "gPt%")],
    ["params.`1st_iteration_timestamp` = \"2022-01-01\"", compareString(param("1st_iteration_timestamp"), "=", "2022-01-01")],
    ["params.batch_size != \"None\"", compareString(param("batch_size"), "!=", "None")],
    [
      "params.model = \"LogisticRegression\" and params.lambda = \"0.001\" and metrics.error <= 0.05",
      and(
        and(compareString(param("model"), "=", "LogisticRegression"), compareString(param("lambda"), "=", "0.001")),
        compareNumber(metric("error"), "<=", 0.05)
      )
    ],
    ["tags.\"environment\" = \"notebook\"", compareString(tag("environment"), "=", "notebook")],
    ["tags.environment = \"notebook\"", compareString(tag("environment"), "=", "notebook")],
    ["tags.task ILIKE \"classif%\"", compareString(tag("task"), "ILIKE", "classif%")],
    ["tag.`test` = 'abc'", compareString(tag("test"), "=", "abc")],
    ["tag.\"test\" = \"abc\"", compareString(tag("test"), "=", "abc")],
    ["attributes.status = \"FAILED\"", compareString(attribute("status"), "=", "FAILED")],
    ["attributes.run_name = \"my-run\"", compareString(attribute("run_name"), "=", "my-run")],
    ["attributes.run_id = \"a1b2c3d4\"", compareString(attribute("run_id"), "=", "a1b2c3d4")],
    ["attributes.run_id IN ('a1b2c3d4', 'e5f6g7h8')", inList(attribute("run_id"), ["a1b2c3d4", "e5f6g7h8"])],
    ["attributes.start_time >= 1664067852747", compareNumber(attribute("start_time"), ">=", 1664067852747)],
    ["attributes.end_time < 1664067852747", compareNumber(attribute("end_time"), "<", 1664067852747)],
    ["attributes.created > 1664067852747", compareNumber(attribute("start_time"), ">", 1664067852747)],
    [
      "metrics.loss <= 0.15 AND metrics.loss >= 0.1",
      and(compareNumber(metric("loss"), "<=", 0.15), compareNumber(metric("loss"), ">=", 0.1))
    ],
    [
      "\nattributes.run_id IN ('22db81f0','c3680e37')\n  AND metrics.loss > 0.3\n  AND metrics.\"f1 score\" < 0.5\n  AND params.model LIKE \"GPT%\"\n",
      and(
        and(
          and(inList(attribute("run_id"), ["22db81f0", "c3680e37"]), compareNumber(metric("loss"), ">", 0.3)),
          compareNumber(metric("f1 score"), "<", 0.5)
        ),
        compareString(param("model"), "LIKE", "GPT%")
      )
    ],
    [
      "metrics.rmse < 0.9 and tags.production = 'true'",
      and(compareNumber(metric("rmse"), "<", 0.9), compareString(tag("production"), "=", "true"))
    ],
    ["metrics.accuracy_score < 99.90", compareNumber(metric("accuracy_score"), "<", 99.9)]
  ]
  it.each(examples)("%s", (input, expected) => {
    expect(parseFilterSync(input)).toEqual(expected)
  })
})

describe("aliases, quoting, literals", () => {
  it.each([
    ["metric.a = 1", compareNumber(metric("a"), "=", 1)],
    ["param.a = 'x'", compareString(param("a"), "=", "x")],
    ["parameter.a = 'x'", compareString(param("a"), "=", "x")],
    ["parameters.a = 'x'", compareString(param("a"), "=", "x")],
    ["attribute.status = 'x'", compareString(attribute("status"), "=", "x")],
    ["attr.status = 'x'", compareString(attribute("status"), "=", "x")],
    ["run.status = 'x'", compareString(attribute("status"), "=", "x")],
    ["status = 'x'", compareString(attribute("status"), "=", "x")],
    ["experiment_id = '3'", compareString(attribute("experiment_id"), "=", "3")],
    ["attributes.`Run name` = 'x'", compareString(attribute("run_name"), "=", "x")],
    ["tags.`mlflow.runName` = 'x'", compareString(attribute("run_name"), "=", "x")],
    ["tags.mlflow.runName IN ('x')", inList(attribute("run_name"), ["x"])],
    ["params.model IN ('cnn', 'mlp')", inList(param("model"), ["cnn", "mlp"])],
    ["tags.team NOT IN ('a')", inList(tag("team"), ["a"], true)],
    ["tags.mlflow.user = 'x'", compareString(tag("mlflow.user"), "=", "x")],
    ["params.`lr.x` = 'x'", compareString(param("lr.x"), "=", "x")],
    ["metrics.`a``b` = 1", compareNumber(metric("a`b"), "=", 1)],
    ["metrics.\"a\"\"b\" = 1", compareNumber(metric("a\"b"), "=", 1)],
    ["params.p = 'it''s'", compareString(param("p"), "=", "it's")],
    ["params.p = \"say \"\"hi\"\"\"", compareString(param("p"), "=", "say \"hi\"")],
    ["params.p = ''", compareString(param("p"), "=", "")],
    ["metrics.m = -1.5e-3", compareNumber(metric("m"), "=", -0.0015)],
    ["metrics.m = .5", compareNumber(metric("m"), "=", 0.5)],
    ["metrics.m = 2E+10", compareNumber(metric("m"), "=", 2e10)],
    ["metrics.m>=-3", compareNumber(metric("m"), ">=", -3)],
    ["attributes.status NOT IN ('A','B')", inList(attribute("status"), ["A", "B"], true)],
    ["attributes.status not in (\"A\")", inList(attribute("status"), ["A"], true)],
    ["attributes.run_name in ('a')", inList(attribute("run_name"), ["a"])],
    ["params.p like 'a%'", compareString(param("p"), "LIKE", "a%")]
  ] as const)("%s", (input, expected) => {
    expect(parseFilterSync(input)).toEqual(expected)
  })

  it("treats an empty or blank filter as no filter", () => {
    expect(parseFilterSync("")).toBeUndefined()
    expect(parseFilterSync("  \n\t")).toBeUndefined()
    expect(printFilter(undefined)).toBe("")
  })
})

describe("OR, NOT, parentheses", () => {
  const a = compareNumber(metric("a"), "=", 1)
  const b = compareNumber(metric("b"), "=", 2)
  const c = compareNumber(metric("c"), "=", 3)
  it.each([
    ["metrics.a = 1 OR metrics.b = 2 AND metrics.c = 3", or(a, and(b, c))],
    ["metrics.a = 1 AND metrics.b = 2 OR metrics.c = 3", or(and(a, b), c)],
    ["(metrics.a = 1 OR metrics.b = 2) AND metrics.c = 3", and(or(a, b), c)],
    ["NOT metrics.a = 1 AND metrics.b = 2", and(not(a), b)],
    ["NOT (metrics.a = 1 AND metrics.b = 2)", not(and(a, b))],
    ["not not metrics.a = 1", not(not(a))],
    ["metrics.a = 1 or metrics.b = 2 or metrics.c = 3", or(or(a, b), c)],
    ["((metrics.a = 1))", a],
    ["metrics.a = 1 AND (metrics.b = 2 AND metrics.c = 3)", and(a, and(b, c))],
    ["NOT(metrics.a = 1)", not(a)]
  ] as const)("%s", (input, expected) => {
    expect(parseFilterSync(input)).toEqual(expected)
  })

  it("prints with only the parentheses the tree needs", () => {
    expect(printFilter(or(a, and(b, c)))).toBe("metrics.a = 1 OR metrics.b = 2 AND metrics.c = 3")
    expect(printFilter(and(or(a, b), c))).toBe("(metrics.a = 1 OR metrics.b = 2) AND metrics.c = 3")
    expect(printFilter(and(a, and(b, c)))).toBe("metrics.a = 1 AND (metrics.b = 2 AND metrics.c = 3)")
    expect(printFilter(not(or(a, b)))).toBe("NOT (metrics.a = 1 OR metrics.b = 2)")
  })
})

describe("errors name the position and what was expected", () => {
  it.each([
    ["metrics.acc foo", 12, "expected a comparator (=, !=, <, <=, >, >=) after 'metrics.acc', found 'foo'"],
    ["metrics.acc > 1 AND metrics.acc foo", 32, "after 'metrics.acc', found 'foo'"],
    ["metrics.acc LIKE 'x'", 12, "comparator LIKE is not supported for metrics.acc: metrics are compared as numbers; use =, !=, <, <=, >, >="],
    ["params.lr > 1", 10, "comparator > is not supported for params.lr: params are compared as strings, as in MLflow; use =, !=, LIKE, ILIKE, IN, NOT IN"],
    ["tags.t <= 'a'", 7, "tags are compared as strings, as in MLflow"],
    ["params.lr = 0.1", 12, "expected a quoted string after 'params.lr =', found '0.1' (params are compared as strings, as in MLflow: write params.lr = '0.1')"],
    ["metrics.acc > '0.5'", 14, "expected a number after 'metrics.acc >', found \"'0.5'\" (metrics are compared as numbers: drop the quotes)"],
    ["metrics.accuracy != \"None\"", 20, "expected a number"],
    ["attributes.start_time LIKE '1%'", 22, "comparator LIKE is not supported for attributes.start_time"],
    ["attributes.status > 'A'", 18, "the string attribute status is compared as strings; use =, !=, LIKE, ILIKE, IN, NOT IN"],
    ["metrics.m IN ('a')", 10, "comparator IN is not supported for metrics.m: IN / NOT IN compares strings (params, tags and the attributes run_id, run_name, status, experiment_id); metrics are compared as numbers: use =, !=, <, <=, >, >="],
    ["attributes.start_time NOT IN ('1')", 22, "IN / NOT IN compares strings"],
    ["attributes.user_id LIKE \"user1\"", 11, "unknown attribute 'user_id': expected one of run_id, run_name, status, experiment_id, start_time, end_time"],
    ["foo = 'x'", 0, "unknown identifier 'foo'"],
    ["foo.bar = 1", 0, "unknown entity type 'foo': expected metrics., params., tags. or attributes."],
    ["datasets.name = 'x'", 0, "dataset filters (datasets.…) are not supported"],
    ["metrics.cross-entropy-loss < 0.5", 13, "found '-' (quote keys containing special characters, e.g. metrics.`f1-score`)"],
    ["tag.'test' = 'abc'", 4, "single quotes are for values, quote keys with backticks or double quotes"],
    ["tag.`test` = `abc`", 13, "expected a quoted string after 'tag.`test` =', found '`abc`'"],
    ["tag.`test` = abc", 13, "expected a quoted string after 'tag.`test` =', found 'abc'"],
    ["metrics. = 1", 8, "expected a key after 'metrics.'"],
    ["metrics.`` = 1", 8, "expected a non-empty key after 'metrics.'"],
    ["metrics.`abc = 1", 8, "expected a closing ` for the quoted key starting here, found end of input"],
    ["params.x = 'abc", 11, "expected a closing ' for the string starting here, found end of input"],
    ["metrics.a == 1", 10, "found '==' (use = for equality)"],
    ["metrics.a > 1 metrics.b > 2", 14, "expected AND, OR or end of input, found 'metrics.b'"],
    ["metrics.a > 1 AND", 17, "expected a comparison such as metrics.acc > 0.9, NOT or '(', found end of input"],
    ["(metrics.a > 1", 14, "expected AND, OR or ')' to close the '(' at position 0, found end of input"],
    ["metrics.a > 1)", 13, "expected AND, OR or end of input, found ')'"],
    ["()", 1, "expected a comparison"],
    ["metrics.a > 1e999", 12, "number 1e999 is out of range"],
    ["metrics.a > 1.2.3", 12, "expected a number, found '1.2.3'"],
    ["metrics.a > 12abc", 12, "expected a number, found '12abc'"],
    ["attributes.status NOT LIKE 'x'", 22, "expected IN after 'attributes.status NOT', found 'LIKE'"],
    ["attributes.run_id IN 'a'", 21, "expected '(' and a list of quoted strings after 'attributes.run_id IN'"],
    ["attributes.run_id IN ()", 22, "expected a quoted string in the list"],
    ["attributes.run_id IN ('a',)", 26, "expected a quoted string in the list"],
    ["attributes.run_id IN ('a' 'b')", 26, "expected ',' or ')' in the list"],
    ["Metrics.acc > 1", 0, "unknown entity type 'Metrics'"]
  ] as const)("%s", (input, position, detail) => {
    const error = parseError(input)
    expect(error._tag).toBe("FilterParseError")
    expect(error).toBeInstanceOf(FilterParseError)
    expect(error.position).toBe(position)
    expect(error.input).toBe(input)
    expect(error.message).toContain(`Invalid filter at position ${position}: `)
    expect(error.message).toContain(detail)
  })

  it("fails the Effect with the tagged error", async () => {
    const error = await Effect.runPromise(Effect.flip(parseFilter("metrics.acc foo")))
    expect(error.message).toBe(
      "Invalid filter at position 12: expected a comparator (=, !=, <, <=, >, >=) after 'metrics.acc', found 'foo'"
    )
    const handled = await Effect.runPromise(
      parseFilter("params.lr > 1").pipe(
        Effect.map(() => "parsed"),
        Effect.catchTag("FilterParseError", (e) => Effect.succeed(`caught at ${e.position}`))
      )
    )
    expect(handled).toBe("caught at 10")
    expect(() => parseFilterSync("metrics.acc foo")).toThrow(FilterParseError)
  })

  it("never throws anything but the tagged error, and positions stay inside the input", () => {
    const fragments = fc.constantFrom(
      "metrics.a", "params.`k`", "tags.\"t\"", "attributes.status", " = ", " != ", " > ", " LIKE ", " IN ", " NOT ",
      "(", ")", " AND ", " OR ", "'x'", "\"y\"", "1.5", "-2", ",", "`", "'", "\"", "=", "!"
    )
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.array(fragments, { maxLength: 8 }).map((xs) => xs.join(""))), (input) => {
        const result = parseFilterResult(input)
        if (Result.isFailure(result)) {
          expect(result.failure.position).toBeGreaterThanOrEqual(0)
          expect(result.failure.position).toBeLessThanOrEqual(input.length)
          expect(result.failure.message).toMatch(/^Invalid filter at position \d+: /)
        }
      }),
      { numRuns: 2000 }
    )
  })
})

describe("print/parse round trip", () => {
  it("parse(print(ast)) is ast, for random ASTs with arbitrary keys and strings", () => {
    fc.assert(
      fc.property(wideFilterArb, (filter) => {
        expect(parseFilterSync(printFilter(filter))).toEqual(filter)
      }),
      { numRuns: 1000 }
    )
  })

  it("printing is canonical: spelling variants print the same", () => {
    const variants = [
      "metric.acc > 1 and not (param.`lr` = \"0.1\" or attr.status in ('A'))",
      "metrics.\"acc\" > 1 AND NOT (parameters.lr = '0.1' OR run.status IN (\"A\"))",
      "(metrics.acc>1)AND NOT(params.lr='0.1' OR attributes.status IN('A'))"
    ]
    const printed = variants.map((v) => printFilter(parseFilterSync(v)))
    expect(new Set(printed).size).toBe(1)
    expect(printed[0]).toBe("metrics.acc > 1 AND NOT (params.lr = '0.1' OR attributes.status IN ('A'))")
  })
})

describe("order_by", () => {
  it("parses MLflow order_by lists", () => {
    expect(parseOrderBySync(["metrics.accuracy DESC", "params.lr DESC", "attributes.start_time", "tags.t asc"])).toEqual([
      { target: metric("accuracy"), direction: "DESC" },
      { target: param("lr"), direction: "DESC" },
      { target: attribute("start_time"), direction: "ASC" },
      { target: tag("t"), direction: "ASC" }
    ])
    expect(parseOrderBySync("metrics.`f1 score` desc, start_time, tags.mlflow.runName DESC")).toEqual([
      { target: metric("f1 score"), direction: "DESC" },
      { target: attribute("start_time"), direction: "ASC" },
      { target: attribute("run_name"), direction: "DESC" }
    ])
    expect(parseOrderBySync([])).toEqual([])
    expect(parseOrderBySync(["", "  "])).toEqual([])
  })

  it.each([
    ["metrics.acc DESCENDING", 12, "Invalid order_by at position 12: expected ASC, DESC, ',' or end of input after 'metrics.acc', found 'DESCENDING'"],
    ["metrics.acc DESC,", 17, "Invalid order_by at position 17: expected an identifier such as metrics.acc or attributes.start_time, found end of input"],
    ["attributes.artifact_uri", 11, "Invalid order_by at position 11: unknown attribute 'artifact_uri'"]
  ] as const)("%s fails at %i", async (input, position, message) => {
    const result = parseOrderByResult(input)
    expect(Result.isFailure(result)).toBe(true)
    if (Result.isFailure(result)) {
      expect(result.failure).toBeInstanceOf(OrderByParseError)
      expect(result.failure.position).toBe(position)
      expect(result.failure.message).toContain(message)
    }
    const error = await Effect.runPromise(Effect.flip(parseOrderBy(input)))
    expect(error._tag).toBe("OrderByParseError")
  })

  it("names the failing clause of a list", () => {
    const result = parseOrderByResult(["metrics.a", "metrics.b sideways"])
    expect(Result.isFailure(result) && result.failure.message).toBe(
      "Invalid order_by[1] at position 10: expected ASC, DESC, ',' or end of input after 'metrics.b', found 'sideways'"
    )
  })

  it("round-trips through printOrderBy", () => {
    fc.assert(
      fc.property(orderByArb, (terms) => {
        expect(parseOrderBySync(printOrderBy(terms))).toEqual(terms)
        expect(parseOrderBySync(printOrderBy(terms).join(", "))).toEqual(terms)
      }),
      { numRuns: 300 }
    )
  })
})
