/**
 * End-to-end tests of the analytics commands of the `runledger` executable: `runs --filter
 * --order-by --max --page-token --json --csv`, `compare`, `rank`, `stats`, `plot`, `sql` and
 * `export`. Every check spawns the bin (the published bundle, harness.ts) against one store made by
 * `demo --epochs 3` (six runs: three logistic regressions, three MLPs) and looks at what a user
 * sees (stdout, stderr, exit status) and what lands on disk.
 *
 * DuckDB lets one process hold the read model's file at a time; a process holds it only while it
 * answers, and another one asking meanwhile waits its turn. Independent invocations run side by
 * side on copies of the store (cheap: a few hundred KB) so they do not take turns, except in the
 * tests that share one store on purpose.
 */
import { beforeAll, describe, expect, it } from "vitest"
import { spawn } from "node:child_process"
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { createInterface } from "node:readline"
import { join, resolve } from "node:path"

import { cli, type CliResult, expectOk, expectUsageError, freshRoot, lines, repoRoot, storeCopies } from "./harness.ts"
import { parseCsv, parseListing, type RunJson } from "./formats.ts"




/**
 * A small well-formedness check for the SVG the chart writes: one root element, every tag closed
 * in order, attributes quoted, no stray `<` or `&` in text. Returns the element names seen.
 */
const checkWellFormedXml = (xml: string): string[] => {
  const names: string[] = []
  const stack: string[] = []
  const token = /<\?[^>]*\?>|<!--[\s\S]*?-->|<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>|([^<]+)/gy
  let at = 0
  let roots = 0
  for (let m = token.exec(xml); m !== null && at < xml.length; m = token.exec(xml)) {
    at = token.lastIndex
    const [, closing, name, , selfClosing, text] = m
    if (text !== undefined) {
      if (stack.length === 0) expect(text.trim(), "text outside the root element").toBe("")
      expect(/&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(text), `a bare & in ${JSON.stringify(text.slice(0, 40))}`).toBe(false)
      continue
    }
    if (name === undefined) continue
    if (closing) {
      expect(stack.pop(), `</${name}> closes the open element`).toBe(name)
    } else {
      names.push(name)
      if (stack.length === 0) roots++
      if (!selfClosing) stack.push(name)
    }
  }
  expect(at, `unparsed text at ${at}: ${JSON.stringify(xml.slice(at, at + 60))}`).toBe(xml.length)
  expect(stack, "unclosed elements").toEqual([])
  expect(roots).toBe(1)
  return names
}

const mean = (xs: ReadonlyArray<number>) => xs.reduce((a, b) => a + b, 0) / xs.length

// ---------------------------------------------------------------------------------------------

describe("analytics commands on a demo store", () => {
  let root: string
  let store: string
  let runs: RunJson[]
  /** A page token of the first test's query, for the test of a token used with another query. */
  let token: string | undefined
  /** A copy of the store (read model included), for an invocation that runs beside others. */
  const copy = storeCopies(() => root, () => store)

  beforeAll(async () => {
    root = freshRoot()
    store = join(root, "runledger")
    const demo = await cli(["demo", "--epochs", "3", "--dir", store])
    expect(demo.status, demo.stderr).toBe(0)
    // The first analytics command builds the read model next to the log.
    const [listed, counted] = await Promise.all([cli(["runs", "--json", "--dir", store]), cli(["sql", "SELECT count(*) AS n FROM runs", "--dir", store])])
    expectOk(listed)
    expectOk(counted)
    runs = parseListing<RunJson>(listed.stdout, "runs")
    // Six candidates, and the sweep: its parent (which has no val_* metrics of its own) and three children.
    expect(runs).toHaveLength(10)
    expect(existsSync(join(store, "readmodel.duckdb"))).toBe(true)
  })

  it("runs --filter --order-by --max: a page as a table with the next page's token; the tokens visit every match once, in order; --json gives { runs, nextPageToken }", async () => {
    const filter = "(params.model = 'mlp' OR params.model = 'logistic-regression') AND metrics.val_loss > 0"
    const expected = runs.filter((r) => r.metrics.val_loss !== undefined).sort((a, b) => a.metrics.val_loss - b.metrics.val_loss)
    expect(expected).toHaveLength(9)
    const pageCount = Math.ceil(expected.length / 2)
    const base = ["runs", "--filter", filter, "--order-by", "metrics.val_loss", "--max", "2"]
    const jsonStore = copy()
    let firstToken: string | undefined
    const textPages = async () => {
      const pages: CliResult[] = []
      let token: string | undefined
      do {
        const r = await cli([...base, ...(token ? ["--page-token", token] : []), "--dir", store])
        pages.push(r)
        token = /^More runs: add --page-token (\S+)$/m.exec(r.stdout)?.[1]
        if (pages.length === 1) firstToken = token
      } while (token !== undefined && pages.length < pageCount + 1)
      return pages
    }
    const [text, first] = await Promise.all([textPages(), cli(["runs", "--filter", filter, "--order-by", "metrics.val_loss", "--max", "4", "--json", "--dir", jsonStore])])

    expect(text).toHaveLength(pageCount)
    text.forEach((r, i) => {
      expectOk(r)
      const rows = lines(r.stdout)
      expect(rows[0]).toMatch(/^ID\s+NAME\s+EXPERIMENT\s+STATUS\s+STARTED\s+DURATION\s+METRICS$/)
      const page = expected.slice(2 * i, 2 * i + 2)
      expect(rows.slice(1, 3).map((l) => l.slice(0, 12))).toEqual(page.map((run) => run.id.slice(0, 12)))
      rows.slice(1, 1 + page.length).forEach((l, j) => expect(l).toMatch(new RegExp(`^[0-9a-f]{12}\\s+${page[j].name.replaceAll(".", "\\.")}\\s+demo-classification\\s+FINISHED\\s`)))
      if (i < pageCount - 1) {
        expect(rows).toHaveLength(4)
        expect(rows[3]).toMatch(/^More runs: add --page-token [A-Za-z0-9_-]+$/)
      } else expect(rows).toHaveLength(1 + page.length) // the last page says nothing more
    })

    token = firstToken

    // --json: { runs, nextPageToken }, the runs as `runs --json` shows them.
    expectOk(first)
    const page = JSON.parse(first.stdout) as { runs: RunJson[]; nextPageToken: string | null }
    expect(Object.keys(page).sort()).toEqual(["nextPageToken", "runs"])
    expect(page.runs).toEqual(expected.slice(0, 4))
    expect(page.nextPageToken).toMatch(/^[A-Za-z0-9_-]+$/)
  })

  it("runs --csv prints a header and one row per run; a malformed filter or a token of another query exits 2 with one line", async () => {
    expect(token).toBeDefined()
    const [csv, badFilter, foreign] = await Promise.all([
      cli(["runs", "--filter", "params.model = 'mlp'", "--order-by", "metrics.val_accuracy DESC", "--csv", "--dir", copy()]),
      cli(["runs", "--filter", "metrics.val_loss >", "--dir", copy()]),
      cli(["runs", "--filter", "params.model = 'mlp'", "--order-by", "metrics.val_loss", "--max", "2", "--page-token", token!, "--dir", copy()])
    ])
    expectOk(csv)
    const table = parseCsv(csv.stdout)
    const mlps = runs.filter((r) => r.params.model === "mlp").sort((a, b) => b.metrics.val_accuracy - a.metrics.val_accuracy)
    expect(table).toHaveLength(1 + mlps.length)
    const header = table[0]
    expect(header.slice(0, 6)).toEqual(["run_id", "run_name", "experiment", "status", "start_time", "end_time"])
    const paramKeys = [...new Set(mlps.flatMap((r) => Object.keys(r.params)))].sort()
    expect(header.slice(6)).toEqual([
      ...paramKeys.map((k) => `params.${k}`),
      ...["train_loss", "val_accuracy", "val_f1", "val_loss"].map((k) => `metrics.${k}`),
      "tags.model",
      "tags.source"
    ])
    table.slice(1).forEach((row, i) => {
      const r = mlps[i]
      expect(row).toHaveLength(header.length)
      expect(row.slice(0, 6)).toEqual([r.id, r.name, "demo-classification", "FINISHED", String(r.startTime), String(r.endTime)])
      expect(row[header.indexOf("params.model")]).toBe("mlp")
      expect(row[header.indexOf("params.hidden")]).toBe(String(r.params.hidden))
      expect(Number(row[header.indexOf("metrics.val_accuracy")])).toBe(r.metrics.val_accuracy)
      expect(row[header.indexOf("tags.source")]).toBe("runledger demo")
    })

    expectUsageError(badFilter, /^runledger: Invalid filter at position 18: expected a number after 'metrics\.val_loss >', found end of input/)
    expectUsageError(foreign, "Invalid page token: it belongs to a different query")
  })

  it("compare A B: params side by side with the differing ones marked *, and each metric's last [min .. max]", async () => {
    const a = runs.find((r) => r.name === "logreg-lr0.01")!
    const b = runs.find((r) => r.name === "mlp-64-tanh")!
    const text = await cli(["compare", a.name, b.id.slice(0, 12), "--dir", copy()])
    expectOk(text)
    const out = lines(text.stdout)
    expect(out[0]).toMatch(/^\s+logreg-lr0\.01\s+mlp-64-tanh$/)
    expect(out[1]).toMatch(new RegExp(`^id\\s+${a.id.slice(0, 12)}\\s+${b.id.slice(0, 12)}$`))
    expect(out).toContain("Params (* differs)")
    const keys = [...new Set([...Object.keys(a.params), ...Object.keys(b.params)])].sort()
    const paramLines = out.slice(out.indexOf("Params (* differs)") + 2, out.indexOf("Params (* differs)") + 2 + keys.length)
    expect(paramLines.map((l) => l.slice(2).split(/\s+/)[0])).toEqual(keys)
    for (const [i, key] of keys.entries()) {
      const va = key in a.params ? String(a.params[key]) : null
      const vb = key in b.params ? String(b.params[key]) : null
      expect(paramLines[i].startsWith(va === vb ? "  " : "* "), paramLines[i]).toBe(true)
      expect(paramLines[i]).toMatch(new RegExp(`\\s${(va ?? "-").replaceAll(".", "\\.")}\\s+${(vb ?? "-").replaceAll(".", "\\.")}$`))
    }
    expect(paramLines.filter((l) => l.startsWith("* ")).map((l) => l.slice(2).split(/\s+/)[0])).toEqual(expect.arrayContaining(["model", "learningRate", "hidden", "activation"]))
    expect(out).toContain("Metrics (last  [min .. max])")
    expect(out.filter((l) => /^(train_loss|val_accuracy|val_f1|val_loss)\s/.test(l))).toHaveLength(4)
    expect(out.find((l) => l.startsWith("val_loss"))).toMatch(/^val_loss\s+\S+ {2}\[\S+ \.\. \S+\]\s+\S+ {2}\[\S+ \.\. \S+\]$/)
  })

  it("rank --metric val_loss --goal min --normalize zscore --json: every run, best first, with z-scores (higher is better)", async () => {
    const r = await cli(["rank", "--metric", "val_loss", "--goal", "min", "--normalize", "zscore", "--json", "--dir", store])
    expectOk(r)
    const ranked = parseListing<{ rank: number; runId: string; runName: string; experimentId: string; score: number; normalized: number | null }>(r.stdout, "runs")
    // The sweep's parent has no val_loss: it is not ranked.
    const expected = runs.filter((x) => x.metrics.val_loss !== undefined).sort((x, y) => x.metrics.val_loss - y.metrics.val_loss)
    expect(ranked.map((x) => x.runId)).toEqual(expected.map((x) => x.id))
    expect(ranked.map((x) => x.rank)).toEqual(expected.map((_, i) => i + 1))
    expect(ranked.map((x) => x.score)).toEqual(expected.map((x) => x.metrics.val_loss))
    expect(ranked.map((x) => x.runName)).toEqual(expected.map((x) => x.name))
    const scores = expected.map((x) => x.metrics.val_loss)
    const m = mean(scores)
    const sd = Math.sqrt(mean(scores.map((s) => (s - m) ** 2)))
    ranked.forEach((x, i) => expect(x.normalized).toBeCloseTo(-(scores[i] - m) / sd, 9))
    for (let i = 1; i < ranked.length; i++) expect(ranked[i].normalized!).toBeLessThanOrEqual(ranked[i - 1].normalized!)
  })

  it("stats --a --b --metric val_accuracy --json: both groups, Welch's test and a bootstrap interval containing the difference", async () => {
    const args = ["stats", "--a", "params.model = 'logistic-regression'", "--b", "params.model = 'mlp'", "--metric", "val_accuracy"]
    const [json, tooFew] = await Promise.all([
      cli([...args, "--json", "--dir", copy()]),
      cli(["stats", "--a", "params.model = 'mlp'", "--b", "attributes.run_name = 'mlp-64-tanh'", "--metric", "val_accuracy", "--dir", copy()])
    ])
    expectOk(json)
    const s = JSON.parse(json.stdout) as {
      metric: string
      by: string
      a: { filter: string; runs: number; mean: number }
      b: { filter: string; runs: number; mean: number }
      welch: { meanA: number; meanB: number; difference: number; t: number; df: number; pValue: number; nA: number; nB: number }
      bootstrap: { difference: number; lower: number; upper: number; confidence: number; resamples: number; nA: number; nB: number }
    }
    expect(s.metric).toBe("val_accuracy")
    expect(s.by).toBe("last")
    // The sweep's parent matches group a's filter but has no val_accuracy: it is not a sample.
    const accuracy = (model: string) => runs.filter((r) => r.params.model === model && r.metrics.val_accuracy !== undefined).map((r) => r.metrics.val_accuracy)
    expect(accuracy("logistic-regression")).toHaveLength(6) // three candidates, three sweep children
    expect(s.a).toEqual({ filter: "params.model = 'logistic-regression'", runs: 6, mean: expect.closeTo(mean(accuracy("logistic-regression")), 12), excluded: 0 })
    expect(s.b).toEqual({ filter: "params.model = 'mlp'", runs: 3, mean: expect.closeTo(mean(accuracy("mlp")), 12), excluded: 0 })
    expect(s.welch).toMatchObject({ nA: 6, nB: 3 })
    expect(s.welch.difference).toBeCloseTo(s.b.mean - s.a.mean, 12)
    expect(s.welch.pValue).toBeGreaterThanOrEqual(0)
    expect(s.welch.pValue).toBeLessThanOrEqual(1)
    expect(s.welch.df).toBeGreaterThan(0)
    expect(Math.sign(s.welch.t)).toBe(Math.sign(s.welch.difference))
    expect(s.bootstrap).toMatchObject({ confidence: 0.95, resamples: 10_000, nA: 6, nB: 3 })
    expect(s.bootstrap.difference).toBeCloseTo(s.welch.difference, 12)
    expect(s.bootstrap.lower).toBeLessThanOrEqual(s.bootstrap.difference)
    expect(s.bootstrap.difference).toBeLessThanOrEqual(s.bootstrap.upper)

    expectUsageError(tooFew, `Group b ("attributes.run_name = 'mlp-64-tanh'") has 1 run(s) with a value of val_accuracy; a test needs at least 2.`)
  })

  it("plot RUN RUN --metric val_loss --out x.svg: a well-formed SVG with both runs' labels; --log draws a log axis", async () => {
    const a = runs.find((r) => r.name === "logreg-lr0.01")!
    const b = runs.find((r) => r.name === "mlp-64-tanh")!
    const linear = join(root, "x.svg")
    const log = join(root, "charts", "..", "y.svg")
    const [one, two] = await Promise.all([
      cli(["plot", a.name, b.id, "--metric", "val_loss", "--out", linear, "--dir", copy()]),
      cli(["plot", a.id.slice(0, 8), b.name, "--metric", "val_loss", "--log", "--out", log, "--dir", copy()])
    ])
    for (const [r, file] of [[one, linear], [two, resolve(log)]] as const) {
      expectOk(r)
      expect(r.stdout).toBe(`Wrote ${file} (2 run(s)).\n`)
      const svg = readFileSync(file, "utf8")
      expect(svg.startsWith("<svg xmlns=\"http://www.w3.org/2000/svg\"")).toBe(true)
      const names = checkWellFormedXml(svg)
      expect(names[0]).toBe("svg")
      for (const run of [a, b]) expect(svg).toContain(`>${run.name} (${run.id.slice(0, 8)})</text>`)
      expect(svg).toContain(">val_loss</text>")
      // One line per run, and no NaN or Infinity in any coordinate.
      expect(names.filter((n) => n === "polyline" || n === "path").length).toBeGreaterThanOrEqual(2)
      expect(svg).not.toMatch(/NaN|Infinity/)
    }
    expect(readFileSync(linear, "utf8")).not.toContain('class="axis y-axis log"')
    expect(readFileSync(log, "utf8")).toContain('class="axis y-axis log"')
  })

  it("plot --as-of draws the runs as they were: before a run logged its metric there is nothing to draw; after, its line", async () => {
    const a = runs.find((r) => r.name === "logreg-lr0.01")!
    const listed = await cli(["events", "--json", "--dir", store])
    expectOk(listed)
    const events = lines(listed.stdout).map((l) => JSON.parse(l) as { type: string; stream: string; position: number; data: { keys?: string[] } })
    const ofA = events.filter((e) => e.stream === `run-${a.id}`)
    const started = ofA.find((e) => e.type === "RunStarted")!.position
    const logged = ofA.find((e) => e.type === "MetricsLogged" && e.data.keys!.includes("val_loss"))!.position
    const [before, after, bad] = await Promise.all([
      cli(["plot", a.id, "--metric", "val_loss", "--as-of", String(started), "--out", "-", "--dir", copy()]),
      cli(["plot", a.id, "--metric", "val_loss", "--as-of", String(logged), "--out", "-", "--dir", copy()]),
      cli(["plot", a.id, "--metric", "val_loss", "--as-of", "last tuesday", "--out", "-", "--dir", store])
    ])
    expectUsageError(before, 'None of these runs logged "val_loss".')
    expectOk(after)
    expect(after.stdout).toContain(`>${a.name} (${a.id.slice(0, 8)})</text>`)
    expect(checkWellFormedXml(after.stdout).filter((n) => n === "polyline" || n === "path").length).toBeGreaterThanOrEqual(1)
    expectUsageError(bad, /--as-of "last tuesday" is neither a log position/)
  })

  it("sql: a SELECT as a table or --json; DROP TABLE exits 2 (the table is still there at the end)", async () => {
    const [count, json, drop] = await Promise.all([
      cli(["sql", "SELECT count(*) AS n FROM runs", "--dir", copy()]),
      cli(["sql", "--json", "SELECT run_name, p.value AS model FROM runs JOIN params p USING (run_id) WHERE p.key = 'model' ORDER BY run_name", "--dir", copy()]),
      cli(["sql", "DROP TABLE runs", "--dir", store])
    ])
    expectOk(count)
    expect(lines(count.stdout)).toEqual([" n", "10", "(1 row)"])
    expectOk(json)
    expect(JSON.parse(json.stdout)).toEqual([...runs].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0)).map((r) => ({ run_name: r.name, model: r.params.model })))
    expectUsageError(drop, /^runledger: Only SELECT queries are allowed here: this is a DROP statement\./)
  })

  it("sql is bounded: --timeout stops a query that runs on, --max-memory fails one that needs more, each with a clear error; bad values are refused", async () => {
    const [slow, hungry, badTimeout, badMemory] = await Promise.all([
      cli(["sql", "SELECT count(*) FROM range(100000000000::BIGINT)", "--timeout", "1", "--dir", copy()]),
      cli(["sql", "SELECT list(x) FROM range(100000000) t(x) GROUP BY x % 2", "--max-memory", "64MB", "--dir", copy()]),
      cli(["sql", "SELECT 1", "--timeout", "0", "--dir", store]),
      cli(["sql", "SELECT 1", "--max-memory", "lots", "--dir", store])
    ])
    expectUsageError(slow, /^runledger: The query ran longer than 1 s and was stopped\. Narrow it \(a WHERE or LIMIT\), or allow it more time \(--timeout\)\.$/)
    expectUsageError(hungry, /^runledger: The query needs more memory than the read model may use \(--max-memory\): Out of Memory Error: .+\. Narrow it, or allow it more memory\.$/)
    expectUsageError(badTimeout, "--timeout is a number of seconds above 0, got 0.")
    expectUsageError(badMemory, '--max-memory is a size such as 512MB or 4GB, got "lots".')
  })

  it("sql prints at most --max-rows rows with a note; --json prints every row as one array", async () => {
    const [capped, all, whole] = await Promise.all([
      cli(["sql", "SELECT x FROM range(5000) t(x) ORDER BY x", "--max-rows", "3", "--dir", copy()]),
      cli(["sql", "SELECT x FROM range(5000) t(x) ORDER BY x", "--json", "--dir", copy()]),
      cli(["sql", "SELECT x FROM range(3) t(x) ORDER BY x", "--max-rows", "3", "--dir", copy()])
    ])
    expectOk(capped)
    expect(lines(capped.stdout)).toEqual(["x", "0", "1", "2", "(the first 3 rows; the query has more: add a LIMIT or WHERE, raise --max-rows, or print them all with --json)"])
    expectOk(all)
    expect(JSON.parse(all.stdout)).toEqual(Array.from({ length: 5000 }, (_, x) => ({ x })))
    expect(all.stdout).toBe(`${JSON.stringify(Array.from({ length: 5000 }, (_, x) => ({ x })), null, 2)}\n`)
    expectOk(whole)
    expect(lines(whole.stdout)).toEqual(["x", "0", "1", "2", "(3 rows)"])
  })

  it("export --format csv|parquet|arrow --out FILE writes every run; csv has a header and one line per run", async () => {
    const out = (ext: string) => join(root, "exports", `runs.${ext}`)
    const [csv, parquet, arrow] = await Promise.all([
      cli(["export", "--format", "csv", "--out", out("csv"), "--dir", copy()]),
      cli(["export", "--format", "parquet", "--out", out("parquet"), "--dir", copy()]),
      cli(["export", "--format", "arrow", "--out", out("arrow"), "--dir", copy()])
    ])
    for (const [r, ext] of [[csv, "csv"], [parquet, "parquet"], [arrow, "arrow"]] as const) {
      expectOk(r)
      expect(r.stdout).toMatch(new RegExp(`^Wrote 10 run\\(s\\) x \\d+ column\\(s\\) to ${out(ext).replaceAll(".", "\\.")} \\(${ext}\\) in \\d+ ms\\.\\n$`))
      expect(statSync(out(ext)).size).toBeGreaterThan(0)
    }
    const table = parseCsv(readFileSync(out("csv"), "utf8"))
    expect(table).toHaveLength(1 + runs.length)
    expect(table[0].slice(0, 9)).toEqual(["run_id", "experiment_id", "experiment", "run_name", "status", "lifecycle", "start_time", "end_time", "parent_run_id"])
    expect(table.slice(1).map((row) => row[0])).toEqual(runs.map((r) => r.id)) // newest first, like `runs`
    const columns = Number(/x (\d+) column/.exec(csv.stdout)![1])
    expect(table.every((row) => row.length === columns)).toBe(true)
    const bytes = (ext: string) => readFileSync(out(ext))
    expect(bytes("parquet").subarray(0, 4).toString()).toBe("PAR1")
    expect(bytes("parquet").subarray(-4).toString()).toBe("PAR1")
    expect(bytes("arrow").subarray(0, 6).toString()).toBe("ARROW1")

  })

  it("two analytics commands at once on one store both answer from the shared read model, without a notice", async () => {
    const results = await Promise.all([1, 2].map(() => cli(["sql", "SELECT count(*) AS n FROM runs", "--dir", store])))
    for (const r of results) {
      expect(r.status, r.stderr).toBe(0)
      expect(lines(r.stdout)).toEqual([" n", "10", "(1 row)"])
      expect(r.stderr).toBe("")
    }
  })

  it("afterwards the store is as it was: show, sql and verify still work", async () => {
    const run = runs.find((r) => r.name === "mlp-64-tanh")!
    const [show, counted, verify] = await Promise.all([
      cli(["show", run.id.slice(0, 12), "--dir", copy()]),
      cli(["sql", "SELECT count(*) AS n FROM runs", "--dir", copy()]),
      cli(["verify", "--dir", store])
    ])
    expectOk(show)
    expect(lines(show.stdout)[0]).toBe(`Run ${run.id}  mlp-64-tanh`)
    expect(show.stdout).toContain("val_accuracy")
    expectOk(counted)
    expect(lines(counted.stdout)).toEqual([" n", "10", "(1 row)"])
    expectOk(verify)
    expect(verify.stdout).toMatch(/^OK: \d+ events in 12 streams/)
  })
})

describe("a training process that has searched does not lock the CLI out of the read model", () => {
  it("while it stays alive, `sql` and `runs --filter` use the shared file (no busy notice) and see its run; its next search resumes from what they folded", async () => {
    const root = freshRoot()
    const store = join(root, "runledger")
    expectOk(await cli(["demo", "--epochs", "1", "--dir", store]))
    const script = join(root, "trainer.ts")
    writeFileSync(
      script,
      `import { openTracker } from ${JSON.stringify(join(repoRoot, "packages/cli/src/index.ts"))}
import { createInterface } from "node:readline"
const tracker = await openTracker({ dir: process.argv[2] })
const run = await tracker.startRun({ experiment: "training", name: "trainer" })
await run.logMetric("loss", 0.25, { step: 0 })
const search = async () => console.log(JSON.stringify((await tracker.searchRuns({ filter: "metrics.loss < 1" })).runs.map((r) => r.name)))
await search()
for await (const line of createInterface({ input: process.stdin })) {
  if (line === "search") await search()
  else break
}
await run.end()
await tracker.close()
`
    )
    const child = spawn(process.execPath, [script, store], { stdio: ["pipe", "pipe", "pipe"] })
    let stderr = ""
    child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s))
    const lineReader = createInterface({ input: child.stdout! })
    const nextLine = () => new Promise<string>((res, rej) => {
      lineReader.once("line", res)
      child.once("exit", (code) => rej(new Error(`trainer exited (${code}): ${stderr}`)))
    })
    try {
      expect(JSON.parse(await nextLine())).toEqual(["trainer"])
      const [sql, filtered] = [
        await cli(["sql", "SELECT run_name FROM runs WHERE run_name = 'trainer'", "--dir", store]),
        await cli(["runs", "--filter", "attributes.run_name = 'trainer'", "--json", "--dir", store])
      ]
      expect(sql.stderr).toBe("")
      expect(lines(sql.stdout)).toEqual(["run_name", "trainer", "(1 row)"])
      expectOk(sql)
      expect(filtered.stderr).toBe("")
      expect(filtered.stdout).toContain('"trainer"')
      expectOk(filtered)
      const counted = await cli(["sql", "SELECT count(*) AS n FROM runs", "--dir", store])
      expect(lines(counted.stdout)[1]).toBe("11") // the demo's ten and the trainer's
      child.stdin!.write("search\n")
      expect(JSON.parse(await nextLine())).toEqual(["trainer"])
      child.stdin!.end("end\n")
      const code = await new Promise<number | null>((res) => (child.exitCode !== null ? res(child.exitCode) : child.once("exit", res)))
      expect(code, stderr).toBe(0)
      expect(stderr).toBe("")
    } finally {
      child.kill("SIGKILL")
    }
  })
})

describe("a damaged read model is repaired by the next command", () => {
  it("garbage in readmodel.duckdb: `rebuild` sets it aside, says so in one line and rebuilds; `sql` then answers with no notice", async () => {
    const root = freshRoot()
    const store = join(root, "runledger")
    expectOk(await cli(["demo", "--epochs", "1", "--dir", store]))
    expectOk(await cli(["sql", "SELECT 1", "--dir", store]))
    writeFileSync(join(store, "readmodel.duckdb"), "garbage ".repeat(1000))
    const rebuilt = await cli(["rebuild", "--dir", store])
    expectOk(rebuilt)
    expect(lines(rebuilt.stderr).filter((l) => l.startsWith("runledger:"))).toHaveLength(1)
    expect(rebuilt.stderr).toMatch(new RegExp(`runledger: The read model ${join(store, "readmodel.duckdb").replaceAll(".", "\\.")} is damaged: .+\\. Set it aside as ${join(store, "readmodel.duckdb").replaceAll(".", "\\.")}\\.broken-\\S+; rebuilding the read model from the log\\.`))
    expect(rebuilt.stdout).toMatch(/^Rebuilt the read model from \d+ events/)
    const counted = await cli(["sql", "SELECT count(*) AS n FROM runs", "--dir", store])
    expectOk(counted)
    expect(counted.stderr).toBe("")
    expect(lines(counted.stdout)).toEqual([" n", "10", "(1 row)"])
  })
})
