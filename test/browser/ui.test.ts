/**
 * The web UI's flows, each as a user sees them: Debian's Chromium on the UI that a real server
 * serves on loopback over a real store, seeded through the Promise API (and, for the live flow, a
 * remote tracker logging through the server's API while the page is open). Any console or page
 * error fails a flow; every page's screenshot goes to .tmp/screenshots/. The harness also prints
 * (never asserts) three timings: the first rows of a 10,000-run table, a 100-run compare chart and a
 * zoom re-query.
 */
import { openTracker, type Tracker } from "@runledger/runtime"
import { type RunningServer, startServer } from "@runledger/server"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Locator, Request } from "playwright-core"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { encodePng } from "../../packages/cli/src/demo/png.ts"
import { expected, launch, type Session, shot, watch, type Watched } from "./harness.ts"

let dir: string
let server: RunningServer
let session: Session
let beforeStaging: string
const ids: Record<string, string> = {}
const startTimes: Record<string, number> = {}
let pages: Watched[] = []

const seedRun = async (tracker: Tracker, experiment: string, name: string, params: Record<string, string | number>, scale: number, parentRunId?: string) => {
  const run = await tracker.startRun({ experiment, name, tags: { model: String(params.model ?? "none") }, ...(parentRunId ? { parentRunId } : {}) })
  await run.logParams(params)
  for (let step = 0; step < 200; step++) {
    run.logMetric("loss", scale / (step + 1), { step })
    run.logMetric("accuracy", 1 - scale / (step + 2), { step })
  }
  await run.logJson({ lr: params.lr, notes: "seeded" }, "config.json")
  await run.logText("epoch,loss\n0,1.5\n1,0.75\n", "curve.csv")
  await run.end()
  ids[name] = run.id
  startTimes[name] = (await tracker.getRun(run.id)).startTime
  return run.id
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "runledger-ui-"))
  const tracker = await openTracker({ dir })
  try {
    await seedRun(tracker, "vision", "cnn-a", { lr: 0.01, layers: 2, model: "cnn" }, 1)
    await seedRun(tracker, "vision", "cnn-b", { lr: 0.1, layers: 3, model: "cnn" }, 2)
    await seedRun(tracker, "vision", "mlp-c", { lr: 0.01, layers: 1, model: "mlp", "opt.momentum": 0.9 }, 3)
    await seedRun(tracker, "vision", "fold-1", { lr: 0.01, layers: 2, model: "cnn" }, 1.5, ids["cnn-a"])
    await seedRun(tracker, "old-stuff", "ancient", { lr: 1 }, 5)
    await tracker.deleteExperiment("old-stuff")
    await tracker.createModelVersion("classifier", { runId: ids["cnn-a"], artifactPath: "config.json", register: {} })
    await tracker.createModelVersion("classifier", { runId: ids["cnn-b"], artifactPath: "config.json" })
    await new Promise((r) => setTimeout(r, 50))
    beforeStaging = new Date().toISOString()
    await new Promise((r) => setTimeout(r, 50))
    await tracker.transitionStage("classifier", 1, "Staging")
  } finally {
    await tracker.close()
  }
  server = await startServer({ dir, port: 0 })
  session = await launch()
}, 180_000)

afterAll(async () => {
  await session?.close()
  await server?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

const open = async (path: string): Promise<Watched> => {
  const w = await watch(session)
  pages.push(w)
  await w.page.goto(`${server.url}${path}`)
  return w
}

afterEach(async () => {
  const opened = pages
  pages = []
  for (const w of opened) await w.page.close()
  expect(opened.flatMap((w) => w.errors), "console or page errors").toEqual([])
})

/** Drags across a chart from half to three quarters of its width; the zoomed steps, once their answer is drawn. */
const zoomMiddle = async (w: Watched, host: Locator) => {
  await host.locator("canvas").waitFor()
  const box = (await host.locator(".u-over").boundingBox())!
  await w.page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2)
  await w.page.mouse.down()
  await w.page.mouse.move(box.x + box.width * 0.75, box.y + box.height / 2, { steps: 5 })
  await w.page.mouse.up()
  const reset = w.page.getByRole("button", { name: /Reset zoom \(steps \d+–\d+\)/ }).first()
  await expect.poll(() => reset.count()).toBe(1)
  const [, from, to] = /steps (\d+)–(\d+)/.exec(await reset.innerText())!
  await expect.poll(() => host.getAttribute("data-requery-ms")).not.toBeNull()
  return { from: Number(from), to: Number(to) }
}

/**
 * The cursor's x as the legend shows it (uPlot draws the axis labels on the canvas, out of reach),
 * at a tenth, half and nine tenths of the plot's width: each within [lo, hi].
 */
const expectCursorX = async (w: Watched, host: Locator, lo: number, hi: number) => {
  const legendX = host.locator(".u-legend .u-series").first().locator(".u-value")
  const x = async () => Number((await legendX.innerText()).replaceAll(",", ""))
  // The chart may be re-created (a zoom's answer, a toggle) while we hover, so each try reads the
  // plot's box afresh and moves onto it again; a missing box or a legend without a value retries.
  const hover = async (at: number) => {
    const box = await host.locator(".u-over").boundingBox()
    if (!box) return Number.NaN
    await w.page.mouse.move(box.x + box.width * at, box.y + box.height / 2)
    return x()
  }
  for (const at of [0.1, 0.5, 0.9]) {
    await expect.poll(() => hover(at)).toBeGreaterThanOrEqual(lo)
    expect(await x()).toBeLessThanOrEqual(hi)
  }
}

/** The names in the runs table, top to bottom. */
const runNames = (w: Watched) => w.page.locator('.tbody [role="row"] a').allInnerTexts()

describe("the web UI in Chromium", () => {
  it("the experiments page lists names, run counts and last activity; deleted ones behind the toggle", async () => {
    const w = await open("/")
    const table = w.page.getByRole("table", { name: "Experiments" })
    await expect.poll(() => table.locator("tbody tr").count()).toBe(2) // vision and MLflow's Default
    const vision = table.locator("tr", { hasText: "vision" })
    await expect.poll(() => vision.locator("td.num").innerText()).toBe("4")
    expect(await table.innerText()).not.toContain("old-stuff")
    await shot(w, "experiments")
    await w.page.getByLabel("Show deleted").check()
    await expect.poll(() => table.innerText()).toContain("old-stuff")
    expect(w.page.url()).toContain("deleted=1")
    await shot(w, "experiments-deleted")
    await w.page.emulateMedia({ colorScheme: "dark" })
    await shot(w, "experiments-dark")
  })

  it("the runs table filters (OR, NOT, parentheses), shows a malformed filter's error at its position, and sorts by a header click", async () => {
    const w = await open("/runs?exp=vision")
    await expect.poll(() => runNames(w)).toHaveLength(4)
    const box = w.page.getByLabel("Filter", { exact: true })
    await box.fill(`params.layers = "3" OR (NOT tags.model = "cnn")`)
    await box.press("Enter")
    await expect.poll(async () => (await runNames(w)).sort()).toEqual(["cnn-b", "mlp-c"])
    expect(decodeURIComponent(w.page.url())).toContain(`filter=params.layers = "3" OR (NOT tags.model = "cnn")`.replace(/ /g, "+"))
    await shot(w, "runs-filtered")

    await box.fill(`metrics.loss <`)
    await box.press("Enter")
    const err = w.page.getByTestId("filter-error")
    await expect.poll(() => err.isVisible()).toBe(true)
    const caret = await err.locator("pre.caret").innerText()
    const [input, marker] = caret.split("\n")
    expect(input).toBe("metrics.loss <")
    expect(marker.indexOf("^")).toBe(14)
    expect(await err.innerText()).toMatch(/position 14/)
    expected(w, /status of 400/)
    await shot(w, "runs-filter-error")

    await w.page.getByRole("button", { name: "Clear", exact: true }).click()
    await expect.poll(() => runNames(w)).toHaveLength(4)
    // Sorting by the loss column: ascending, then descending on a second click.
    await w.page.getByRole("columnheader", { name: "loss" }).getByRole("button").click()
    await expect.poll(() => w.page.getByRole("columnheader", { name: "loss" }).getAttribute("aria-sort")).toBe("ascending")
    // The child run (fold-1) stays under its parent (cnn-a) in the tree.
    await expect.poll(() => runNames(w)).toEqual(["cnn-a", "fold-1", "cnn-b", "mlp-c"])
    await w.page.getByRole("columnheader", { name: "loss" }).getByRole("button").click()
    await expect.poll(() => w.page.getByRole("columnheader", { name: "loss" }).getAttribute("aria-sort")).toBe("descending")
    await expect.poll(() => runNames(w)).toEqual(["mlp-c", "cnn-b", "cnn-a", "fold-1"])
    expect(w.page.url()).toContain("sort=metrics.loss+DESC")
    await shot(w, "runs-sorted")
  })

  it("a run's page shows its overview, a drawn chart per metric, its artifacts and its event history", async () => {
    const w = await open(`/runs/${ids["cnn-b"]}`)
    await expect.poll(() => w.page.locator("h1").innerText()).toContain("cnn-b")
    expect(await w.page.getByRole("table", { name: "Params" }).innerText()).toContain("0.1")
    // The start, as the browser's local date and time, largest unit first (to the second).
    const started = await w.page.locator("dt", { hasText: "Started" }).locator("xpath=following-sibling::dd[1]").innerText()
    expect(started).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/)
    const [date, clock] = started.split(" ")
    const local = await w.page.evaluate(([d, c]) => new Date(`${d}T${c}`).getTime(), [date, clock])
    expect(Math.floor(startTimes["cnn-b"] / 1000) * 1000).toBe(local)
    await shot(w, "run-overview")
    await w.page.getByRole("link", { name: "Charts" }).click()
    const hosts = w.page.locator(".chart-host[data-metric]")
    await expect.poll(() => w.page.locator(".chart-host canvas").count()).toBe(2)
    expect((await hosts.evaluateAll((els) => els.map((e) => [(e as HTMLElement).dataset.metric, (e as HTMLElement).dataset.series]))).sort()).toEqual([
      ["accuracy", "1"],
      ["loss", "1"]
    ])
    await shot(w, "run-charts")
    await w.page.getByRole("link", { name: "Artifacts" }).click()
    await w.page.getByRole("button", { name: "curve.csv" }).click()
    await expect.poll(() => w.page.getByRole("table", { name: "curve.csv as a table" }).innerText()).toContain("0.75")
    await shot(w, "run-artifacts")
    // JSON, laid out.
    await w.page.getByRole("button", { name: "config.json" }).click()
    await expect.poll(() => w.page.locator("pre.preview").innerText()).toBe(`{\n  "lr": 0.1,\n  "notes": "seeded"\n}`)
    await w.page.getByRole("link", { name: "History" }).click()
    const history = w.page.getByRole("list", { name: `History of run-${ids["cnn-b"]}` })
    await expect.poll(() => history.innerText()).toContain("RunStarted")
    expect(await history.innerText()).toContain("ArtifactStored")
    await shot(w, "run-history")
  })

  it("a run's event history says what each event did: its start, and how many points of which metrics each batch logged", async () => {
    const w = await open(`/runs/${ids["cnn-b"]}?tab=history`)
    const items = w.page.getByRole("list", { name: `History of run-${ids["cnn-b"]}` }).locator("li")
    await expect.poll(() => items.count()).toBeGreaterThan(3)
    const lines = await items.allInnerTexts()
    // RunStarted in words (the run's name), not its data as JSON.
    const started = lines.find((l) => l.includes("RunStarted"))!
    expect(started).toMatch(/RunStarted run cnn-b\b/)
    expect(started).not.toContain("{")
    // Every MetricsLogged batch names its count and keys; together they hold the 400 points logged (200 steps of 2 metrics).
    const batches = lines.filter((l) => l.includes("MetricsLogged"))
    expect(batches.length).toBeGreaterThan(0)
    let points = 0
    for (const b of batches) {
      const m = /MetricsLogged (\d+) points? of ((?:loss|accuracy)(?:, (?:loss|accuracy))?) #/.exec(b)
      expect(m, b).not.toBeNull()
      points += Number(m![1])
    }
    expect(points).toBe(400)
    await shot(w, "run-history-words")
  })

  it("the filter completes keys with a dot by their plain name", async () => {
    const w = await open("/runs?exp=vision")
    await expect.poll(() => runNames(w)).toHaveLength(4)
    const box = w.page.getByLabel("Filter", { exact: true })
    const keys = w.page.getByRole("listbox", { name: "Keys" }).getByRole("option")
    await box.pressSequentially("params.opt")
    await expect.poll(() => keys.allInnerTexts()).toEqual(["params.`opt.momentum`"])
    await box.press("Tab")
    expect(await box.inputValue()).toBe("params.`opt.momentum`")
    await shot(w, "runs-filter-complete")
  })

  it("the filter still completes keys, and the table keeps its columns, after a filter that matched nothing or was malformed", async () => {
    const w = await open("/runs?exp=vision")
    await expect.poll(() => runNames(w)).toHaveLength(4)
    const box = w.page.getByLabel("Filter", { exact: true })
    const keys = w.page.getByRole("listbox", { name: "Keys" }).getByRole("option")
    // A filter no run matches: the keys (and the default columns) are still there, even while the
    // experiment's first page without the filter (a request of its own) has not answered: it is
    // held back here until the filtered search has been shown.
    let release = () => {}
    const released = new Promise<void>((r) => (release = r))
    await w.page.route("**/api/runledger/runs/search", async (route) => {
      const body = route.request().postDataJSON() as { filter?: string }
      if (body.filter === undefined) await released
      // Handed on already (by the unroute below) or aborted by the page: nothing left to do.
      await route.continue().catch(() => undefined)
    })
    await box.fill(`params.lr = "42"`)
    await box.press("Enter")
    await expect.poll(() => w.page.getByText("No runs match.").isVisible()).toBe(true)
    expect(await w.page.getByRole("columnheader", { name: "loss" }).count()).toBe(1)
    release()
    await w.page.unroute("**/api/runledger/runs/search")
    await box.fill("")
    await box.pressSequentially("params.la")
    await expect.poll(() => keys.allInnerTexts()).toEqual(["params.layers"])

    // A malformed filter: the same.
    await box.fill("metrics.loss <")
    await box.press("Enter")
    await expect.poll(() => w.page.getByTestId("filter-error").isVisible()).toBe(true)
    expected(w, /status of 400/)
    await box.fill("")
    await box.pressSequentially("metrics.l")
    await expect.poll(() => keys.allInnerTexts()).toEqual(["metrics.loss"])
    expect(await w.page.getByRole("columnheader", { name: "loss" }).count()).toBe(1)
  })

  it("compares two runs selected in the table: overlaid charts and the params that differ", async () => {
    const w = await open("/runs?exp=vision")
    await expect.poll(() => runNames(w)).toHaveLength(4)
    await w.page.getByLabel("Select cnn-a").check()
    await w.page.getByLabel("Select mlp-c").check()
    await w.page.getByRole("button", { name: "Compare 2 selected" }).click()
    await expect.poll(() => w.page.locator("h1").innerText()).toBe("Compare 2 runs")
    const params = w.page.getByRole("table", { name: "Params side by side" })
    const layers = params.locator("tr", { hasText: "layers" })
    expect(await layers.innerText()).toContain("differs")
    expect(await params.locator("tr", { hasText: /^lr/ }).innerText()).not.toContain("differs")
    await expect.poll(() => w.page.locator(".chart-host[data-series='2'] canvas").count()).toBeGreaterThan(0)
    // Parallel coordinates: each axis labelled with its min, middle and max; the metric's axis named.
    await w.page.getByRole("heading", { name: "A param against a metric" }).locator("..").locator("select").nth(1).selectOption("loss")
    const parallel = w.page.getByRole("img", { name: "Parallel coordinates of the params and loss" })
    const ticks = (axis: string) => parallel.locator(`g.ticks[data-axis="${axis}"] text.tick`)
    await expect.poll(() => ticks("layers").allTextContents()).toEqual(["1", "1.5", "2"]) // mlp-c has 1 layer, cnn-a 2
    expect(await ticks("lr").allTextContents()).toEqual(["0.01"]) // one value: one tick
    expect(await ticks("model").allTextContents()).toEqual(["cnn", "mlp"]) // a categorical axis: its first and last category
    expect(await ticks("loss (last)").allTextContents()).toEqual(["0.005", "0.01", "0.015"]) // the last losses: 1/200 and 3/200
    expect(await parallel.locator("text.axis-label.metric").textContent()).toBe("loss (last)")
    for (const t of await parallel.locator("text.tick").all()) expect(await t.isVisible()).toBe(true)
    // The scatter names the run of the point under the cursor: layers 1 is mlp-c (left), 2 is cnn-a (right).
    await w.page.getByRole("heading", { name: "A param against a metric" }).locator("..").locator("select").first().selectOption("layers")
    const over = w.page.locator('.chart-host[aria-label="Scatter of loss against layers"] .u-over')
    const named = w.page.getByTestId("scatter-point")
    await over.scrollIntoViewIfNeeded()
    const box = (await over.boundingBox())!
    await w.page.mouse.move(box.x + box.width * 0.03, box.y + box.height / 2)
    await expect.poll(() => named.innerText()).toBe("mlp-c: layers = 1, loss = 0.015")
    expect(await over.getAttribute("title")).toBe("mlp-c: layers = 1, loss = 0.015")
    await w.page.mouse.move(box.x + box.width * 0.97, box.y + box.height / 2)
    await expect.poll(() => named.innerText()).toBe("cnn-a: layers = 2, loss = 0.005")
    expect(await over.getAttribute("title")).toBe("cnn-a: layers = 2, loss = 0.005")
    await parallel.scrollIntoViewIfNeeded()
    await shot(w, "compare")
    const overlay = w.page.locator(".chart-host[data-series='2']").first()
    const drawnAt = await overlay.getAttribute("data-drawn-at")
    await w.page.emulateMedia({ colorScheme: "dark" })
    // The charts are drawn again in the dark theme's colours: a canvas keeps those it was drawn in.
    await expect.poll(() => overlay.getAttribute("data-drawn-at")).not.toBe(drawnAt)
    // In dark mode the labels take the dark theme's foreground (light on dark).
    await expect.poll(() => parallel.locator("text.tick").first().evaluate((e) => getComputedStyle(e).fill)).toBe("rgb(230, 232, 236)")
    await shot(w, "compare-dark")
    await w.page.emulateMedia({ colorScheme: "light" })
    // Two filter-defined groups: the interval, the p-value and the small-sample warning.
    await w.page.getByLabel("Group A filter").fill(`params.layers = "2"`)
    await w.page.getByLabel("Group B filter").fill(`params.layers != "2"`)
    await w.page.locator("form.stats select").selectOption("loss")
    await w.page.getByRole("button", { name: "Compare groups" }).click()
    const result = w.page.locator(".stats-result")
    await expect.poll(() => result.innerText()).toMatch(/A: 2 runs.*B: 2 runs/s)
    expect(await result.innerText()).toMatch(/interval \[.*\]; Welch's t-test p = /)
    expect(await result.getByRole("note").count()).toBeGreaterThan(0)
    await shot(w, "compare-stats")
  })

  it("a chart's hover shows every run's value; log y, smoothing and wall time change what is drawn", async () => {
    const w = await open(`/compare?runs=${ids["cnn-a"]},${ids["mlp-c"]}&metric=loss`)
    const host = w.page.locator(".chart-host[data-metric='loss']")
    await host.locator("canvas").waitFor()
    /** The legend's rows a reader sees (not the bands' edges), label to value. */
    const legend = async (): Promise<Record<string, string>> =>
      Object.fromEntries(await host.locator(".u-legend .u-series").evaluateAll((rows) =>
        rows.filter((r) => (r as HTMLElement).style.display !== "none").map((r) => [r.querySelector(".u-label")?.textContent ?? "", r.querySelector(".u-value")?.textContent ?? ""])
      ))
    /** Onto the plot at 70% of its width (a step past 100, whose losses need more than two decimals), afresh (an option re-creates the plot); the legend then. */
    const hover = async () => {
      const box = await host.locator(".u-over").boundingBox()
      if (box) await w.page.mouse.move(box.x + box.width * 0.7, box.y + box.height / 2)
      return legend()
    }
    /** How far down the plot each run's cursor point sits (px from the plot's top). */
    const pointsY = () =>
      host.locator(".u-cursor-pt").evaluateAll((pts) =>
        pts.filter((p) => (p as HTMLElement).style.background !== "transparent").map((p) => Number(/translate\([^,]+, *([-\d.]+)px\)/.exec((p as HTMLElement).style.transform)?.[1]))
      )
    // Every run's value at the cursor's step, as the tables write it (loss is scale / (step + 1)).
    let at: Record<string, string> = {}
    await expect.poll(async () => {
      at = await hover()
      return Object.values(at).every((v) => /^[\d.]+$/.test(v))
    }).toBe(true)
    const step = Number(at.step)
    const written = (v: number) => String(Number(v.toPrecision(5)))
    expect(at).toEqual({ step: at.step, "cnn-a": written(1 / (step + 1)), "mlp-c": written(3 / (step + 1)) })
    // And a tooltip beside the cursor says the same.
    const tip = host.getByRole("tooltip")
    await expect.poll(async () => {
      await hover()
      return tip.innerText()
    }).toBe(`step ${step}\ncnn-a: ${written(1 / (step + 1))}\nmlp-c: ${written(3 / (step + 1))}`)
    const [tipBox, plotBox] = [(await tip.boundingBox())!, (await host.locator(".u-over").boundingBox())!]
    expect(tipBox.x).toBeGreaterThanOrEqual(plotBox.x)
    expect(tipBox.x + tipBox.width).toBeLessThanOrEqual(plotBox.x + plotBox.width + 1)
    const linear = await pointsY()
    expect(linear).toHaveLength(2)
    // Log y: the two runs' losses (one three times the other) lie a pixel apart near the bottom of
    // a linear axis, and a fixed factor apart on a log one: well apart, and both higher up.
    const plotHeight = (await host.locator(".u-over").boundingBox())!.height
    await w.page.getByLabel("log y").check()
    await expect.poll(async () => {
      await hover()
      const log = await pointsY()
      if (log.length !== 2 || log.some((y, i) => !(y < linear[i]))) return 0
      return (log[0] - log[1] - (linear[0] - linear[1])) / plotHeight
    }).toBeGreaterThan(0.1)
    await w.page.getByLabel("log y").uncheck()
    // Smoothing: each run's raw values stay (faint) beside its moving average, which lags above a falling loss.
    await w.page.getByLabel("smoothing").fill("0.9")
    // (Polled until the new plot has the cursor: until then its legend reads "--".)
    let smoothed: Record<string, string> = {}
    await expect.poll(async () => {
      smoothed = await hover()
      return Object.entries(smoothed).filter(([, v]) => /^[\d.]+$/.test(v)).map(([k]) => k)
    }).toEqual(["step", "cnn-a raw", "cnn-a", "mlp-c raw", "mlp-c"])
    for (const run of ["cnn-a", "mlp-c"]) expect(Number(smoothed[run])).toBeGreaterThan(Number(smoothed[`${run} raw`]))
    await shot(w, "compare-smoothed")
    await w.page.getByLabel("smoothing").fill("0")
    // Wall time: the cursor's moment to the second, in the viewer's zone, within the runs' time.
    await w.page.getByLabel("x axis").selectOption("wall")
    let time = ""
    await expect.poll(async () => (time = (await hover()).time ?? "")).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/)
    const moment = await w.page.evaluate((t) => new Date(t.replace(" ", "T")).getTime(), time)
    expect(moment).toBeGreaterThanOrEqual(Math.floor(startTimes["cnn-a"] / 1000) * 1000)
    expect(moment).toBeLessThanOrEqual(startTimes["mlp-c"] + 60_000)
  })

  it("a param and a tag of one name, both chosen as columns, are told apart in the header", async () => {
    const w = await open("/runs?exp=vision&cols=params.model,tags.model,params.lr")
    await expect.poll(() => runNames(w)).toHaveLength(4)
    const headers = (await w.page.locator(".thead [role='columnheader']").allInnerTexts()).map((h) => h.trim())
    expect(headers.slice(5)).toEqual(["params.model", "tags.model", "lr"])
  })

  it("the runs table answers the keyboard: arrows move, space selects, enter opens", async () => {
    const w = await open("/runs?exp=vision&sort=attributes.run_name+ASC")
    await expect.poll(() => runNames(w)).toEqual(["cnn-a", "fold-1", "cnn-b", "mlp-c"])
    // The grid takes the focus, and names its active row to assistive technology (aria-activedescendant).
    const grid = w.page.getByRole("grid", { name: "Runs" })
    await grid.focus()
    await w.page.keyboard.press("ArrowDown")
    await w.page.keyboard.press("ArrowDown")
    const active = await grid.getAttribute("aria-activedescendant")
    expect(active).not.toBeNull()
    expect(await w.page.locator(`[id="${active}"]`).getAttribute("role")).toBe("row")
    expect(await w.page.locator(`[id="${active}"]`).innerText()).toContain("cnn-b")
    await w.page.keyboard.press(" ")
    await expect.poll(() => w.page.getByRole("button", { name: /Compare 1 selected/ }).count()).toBe(1)
    expect(w.page.url()).toContain(`sel=${ids["cnn-b"]}`)
    await w.page.keyboard.press("Enter")
    await expect.poll(() => w.page.locator("h1").innerText()).toContain("cnn-b")
    // Enter on a header's sort button sorts (the grid leaves its controls' keys alone).
    await w.page.goBack()
    await w.page.getByRole("columnheader", { name: "Name" }).getByRole("button").focus()
    await w.page.keyboard.press("Enter")
    await expect.poll(() => runNames(w)).toEqual(["mlp-c", "cnn-b", "cnn-a", "fold-1"])
  })

  it("lists the models, opens one, links each version to its source run, and promotes a version (the promotion is in the stage history)", async () => {
    const w = await open("/models")
    const models = w.page.getByRole("table", { name: "Models" })
    await expect.poll(() => models.locator("tbody tr").count()).toBe(1)
    await shot(w, "models")
    await models.getByRole("link", { name: "classifier" }).click()
    await expect.poll(() => w.page.locator("h1").innerText()).toBe("classifier")
    const versions = w.page.getByRole("table", { name: "Versions" })
    await expect.poll(() => versions.locator("tbody tr").count()).toBe(2)
    // Version 1 came from cnn-a: its source run is a link to that run's page.
    expect(await versions.locator("tr[data-version='1'] a").first().getAttribute("href")).toBe(`/runs/${ids["cnn-a"]}`)
    await w.page.getByLabel("Stage of version 2").selectOption("Production")
    await expect.poll(() => versions.locator("tr[data-version='2'] .stage").innerText()).toBe("Production")
    await expect.poll(() => w.page.getByRole("list", { name: "History of model-classifier" }).innerText()).toContain("version 2: None → Production")
    await shot(w, "model")
    // An alias set, then deleted: each an event in the history. The history's reload after the set
    // is held back until the one after the delete has been shown: answers can arrive out of order
    // on a busy server, and the older must not overwrite the newer.
    const history = w.page.getByRole("list", { name: "History of model-classifier" })
    let release = () => {}
    const released = new Promise<void>((r) => (release = r))
    let held: Request | undefined
    // Settled: its body read to the end (old code: then shown), or failed (aborted by the page).
    let settled: Promise<unknown> = Promise.resolve()
    await w.page.route("**/api/runledger/streams/model-classifier", async (route) => {
      if (held !== undefined) return route.continue()
      const r = (held = route.request())
      settled = Promise.race([w.page.waitForEvent("requestfinished", (x) => x === r), w.page.waitForEvent("requestfailed", (x) => x === r)])
      const answer = await route.fetch() // the server answers now, before the delete
      await released
      await route.fulfill({ response: answer }).catch(() => undefined) // the page aborted it: nothing to answer
    })
    await w.page.getByLabel("Alias", { exact: true }).fill("champion")
    await w.page.getByLabel("on version").selectOption("2")
    await w.page.getByRole("button", { name: "Set alias" }).click()
    await expect.poll(() => versions.locator("tr[data-version='2']").innerText()).toContain("@champion")
    await w.page.getByRole("button", { name: "Delete alias champion" }).click()
    await expect.poll(() => versions.locator("tr[data-version='2']").innerText()).not.toContain("@champion")
    await expect.poll(() => history.innerText()).toContain("@champion removed")
    expect(held, "the history reloaded after the alias was set").toBeDefined()
    release()
    await settled
    await w.page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))))
    expect(await history.innerText()).toContain("@champion → version 2")
    expect(await history.innerText()).toContain("@champion removed")
  })

  it("time travel: the registry, and its stage history, as of a moment before version 1 went to Staging", async () => {
    const w = await open("/models/classifier")
    const stageOf1 = w.page.locator("tr[data-version='1'] .stage")
    await expect.poll(() => stageOf1.innerText()).toBe("Staging")
    await w.page.getByLabel("As of").fill(beforeStaging)
    await w.page.getByRole("button", { name: "Go" }).click()
    await expect.poll(() => stageOf1.innerText()).toBe("None")
    expect(w.page.url()).toContain("asOf=")
    // The stage history stops at that moment too: the promotion to Staging is not in it yet.
    const history = w.page.getByRole("list", { name: "History of model-classifier" })
    await expect.poll(() => history.innerText()).toContain("version 2 from run")
    expect(await history.innerText()).not.toContain("None → Staging")
    // The past is read-only: no promote control while time travelling.
    expect(await w.page.getByLabel("Stage of version 1").count()).toBe(0)
    await shot(w, "model-as-of")
    await w.page.getByRole("button", { name: "Now" }).click()
    await expect.poll(() => stageOf1.innerText()).toBe("Staging")
    await expect.poll(() => history.innerText()).toContain("version 1: None → Staging")
  })

  it("time travel: a date-time is read in the viewer's time zone, whatever the server's, and the link carries it as UTC", async () => {
    const w = await open("/models/classifier")
    const stageOf1 = w.page.locator("tr[data-version='1'] .stage")
    await expect.poll(() => stageOf1.innerText()).toBe("Staging")
    // The viewer is in Tokyo (UTC+9, no daylight saving); the server reads times in its own zone.
    const cdp = await w.page.context().newCDPSession(w.page)
    await cdp.send("Emulation.setTimezoneOverride", { timezoneId: "Asia/Tokyo" })
    const tokyo = new Date(Date.parse(beforeStaging) + 9 * 3600_000).toISOString().slice(0, 23) // Tokyo's wall clock, no zone
    await w.page.getByLabel("As of").fill(tokyo)
    await w.page.getByRole("button", { name: "Go" }).click()
    await expect.poll(() => new URL(w.page.url()).searchParams.get("asOf")).toBe(new Date(beforeStaging).toISOString())
    await expect.poll(() => stageOf1.innerText()).toBe("None")
    // The box shows the whole moment it holds, not its first characters.
    const box = w.page.getByLabel("As of")
    expect(await box.inputValue()).toBe(new Date(beforeStaging).toISOString())
    expect(await box.evaluate((e) => (e as HTMLInputElement).scrollWidth <= (e as HTMLInputElement).clientWidth)).toBe(true)
  })

  it("time travel: a run's page as of the log position of its start shows it RUNNING, before any metric", async () => {
    const { events } = (await (await fetch(`${server.url}/api/runledger/streams/run-${ids["cnn-a"]}`)).json()) as { events: ReadonlyArray<{ type: string; position: number }> }
    const started = events.find((e) => e.type === "RunStarted")!.position
    const w = await open(`/runs/${ids["cnn-a"]}`)
    await expect.poll(() => w.page.locator("h1").innerText()).toContain("FINISHED")
    await w.page.getByLabel("As of").fill(String(started))
    await w.page.getByRole("button", { name: "Go" }).click()
    await expect.poll(() => w.page.locator("h1").innerText()).toContain("RUNNING")
    expect(await w.page.getByRole("table", { name: "Params" }).count()).toBe(0)
    // Running then, for no time that a log position can tell: not the time from its start to now.
    expect(await w.page.locator(".facts dt:text-is('Duration') + dd").innerText()).toBe("— (running at that moment)")
    await shot(w, "run-as-of")
    // The runs table as of then says the same in its Duration column.
    const table = await open(`/runs?exp=vision&asOf=${started}`)
    await expect.poll(() => runNames(table)).toEqual(["cnn-a"])
    const cells = await table.page.locator('.tbody [role="row"] [role="gridcell"]').allInnerTexts()
    expect(cells.slice(1, 5).map((c) => c.trim())).toEqual(["RUNNING", "cnn-a", expect.any(String), "—"])
  })

  it("time travel: a run's artifacts and history as of its start show nothing stored or done after it", async () => {
    const { events } = (await (await fetch(`${server.url}/api/runledger/streams/run-${ids["cnn-a"]}`)).json()) as { events: ReadonlyArray<{ type: string; position: number }> }
    const started = events.find((e) => e.type === "RunStarted")!.position
    const w = await open(`/runs/${ids["cnn-a"]}?tab=artifacts`)
    await expect.poll(() => w.page.getByRole("list", { name: "Artifacts" }).innerText()).toContain("config.json")
    await w.page.getByLabel("As of").fill(String(started))
    await w.page.getByRole("button", { name: "Go" }).click()
    await expect.poll(() => w.page.locator("h1").innerText()).toContain("RUNNING")
    await expect.poll(() => w.page.getByText("No artifacts at that moment.").isVisible()).toBe(true)
    expect(await w.page.getByRole("list", { name: "Artifacts" }).count()).toBe(0)
    await w.page.getByRole("link", { name: "History" }).click()
    const items = w.page.getByRole("list", { name: `History of run-${ids["cnn-a"]}` }).locator("li")
    await expect.poll(() => items.count()).toBe(1)
    expect(await items.first().innerText()).toContain("RunStarted")
    await shot(w, "run-history-as-of")
    await w.page.getByRole("button", { name: "Now" }).click()
    await expect.poll(() => items.count()).toBe(events.length)
  })

  it("time travel: the runs table as of the log position before mlp-c started lists only the runs started before it", async () => {
    const { events } = (await (await fetch(`${server.url}/api/runledger/streams/run-${ids["mlp-c"]}`)).json()) as { events: ReadonlyArray<{ type: string; position: number }> }
    const before = events.find((e) => e.type === "RunStarted")!.position - 1
    const w = await open("/runs?exp=vision")
    await expect.poll(() => runNames(w)).toHaveLength(4)
    await w.page.getByLabel("As of").fill(String(before))
    await w.page.getByRole("button", { name: "Go" }).click()
    await expect.poll(async () => (await runNames(w)).sort()).toEqual(["cnn-a", "cnn-b"])
    expect(w.page.url()).toContain(`asOf=${before}`)
    await shot(w, "runs-as-of")
    await w.page.getByRole("button", { name: "Now" }).click()
    await expect.poll(() => runNames(w)).toHaveLength(4)
  })

  it("time travel: links from a past view stay at that moment (experiments to runs, a run to its experiment's runs)", async () => {
    const { events } = (await (await fetch(`${server.url}/api/runledger/streams/run-${ids["mlp-c"]}`)).json()) as { events: ReadonlyArray<{ type: string; position: number }> }
    const before = events.find((e) => e.type === "RunStarted")!.position - 1
    const w = await open(`/?asOf=${before}`)
    await w.page.getByRole("table", { name: "Experiments" }).getByRole("link", { name: "vision" }).click()
    await expect.poll(async () => (await runNames(w)).sort()).toEqual(["cnn-a", "cnn-b"])
    expect(w.page.url()).toContain(`asOf=${before}`)
    await w.page.getByRole("link", { name: "cnn-a" }).click()
    await expect.poll(() => w.page.locator("h1").innerText()).toContain("cnn-a")
    await w.page.locator(".crumbs").getByRole("link", { name: "vision" }).click()
    await expect.poll(async () => (await runNames(w)).sort()).toEqual(["cnn-a", "cnn-b"])
    expect(w.page.url()).toContain(`asOf=${before}`)
    // Ticking experiments and opening their runs together, too.
    await w.page.goto(`${server.url}/?asOf=${before}`)
    await w.page.getByLabel("Select vision").check()
    await w.page.getByRole("button", { name: "Open runs of 1 selected" }).click()
    await expect.poll(async () => (await runNames(w)).sort()).toEqual(["cnn-a", "cnn-b"])
  })

  it("zooming a chart fetches the selected steps again", async () => {
    const w = await open(`/runs/${ids["cnn-b"]}?tab=charts`)
    const host = w.page.locator(".chart-host[data-metric='loss']")
    const { from, to } = await zoomMiddle(w, host)
    expect(from).toBeGreaterThan(50)
    expect(to).toBeLessThan(199)
    // The x scale now spans the selection only: the cursor's step anywhere on the plot is inside it.
    await expectCursorX(w, host, from, to)
    await shot(w, "run-zoomed")
  })

  it("relative time after a zoom counts from the run's start, not from the zoomed range's first point", async () => {
    // One point a second, so relative time in seconds is the step. Its own experiment: the tests
    // around count the vision runs.
    const remote = await openTracker({ uri: server.url })
    let runId: string
    try {
      const run = await remote.startRun({ experiment: "paced", name: "one-per-second" })
      const start = Date.now() - 100_000
      for (let step = 0; step < 100; step++) run.logMetric("paced_loss", 1 / (step + 1), { step, timestamp: start + step * 1000 })
      await run.end()
      runId = run.id
    } finally {
      await remote.close()
    }
    const w = await open(`/runs/${runId}?tab=charts`)
    const host = w.page.locator(".chart-host[data-metric='paced_loss']")
    const { from, to } = await zoomMiddle(w, host)
    expect(from).toBeGreaterThan(30)
    await w.page.getByLabel("x axis").first().selectOption("relative")
    // Seconds since the run's first point: within the zoomed steps (from the zoom's first point they would be 0 to to - from).
    await expectCursorX(w, host, from, to)
    await shot(w, "run-zoomed-relative")
  })

  it("live: a new run appears in the runs table, and its metric on its page, while a remote client logs through the API; time travel draws its chart as it was", async () => {
    const table = await open("/runs?exp=vision")
    await expect.poll(() => runNames(table)).toHaveLength(4)
    const remote = await openTracker({ uri: server.url })
    try {
      const run = await remote.startRun({ experiment: "vision", name: "live-run" })
      run.logMetric("seed", 1, { step: 0 })
      await run.flush()
      // The issue asks for live updates within 2 s: measured here (to the harness's 50 ms polls), not asserted.
      const rowAfter = Date.now()
      await expect.poll(() => runNames(table)).toContain("live-run")
      console.log(`ui live: a new run in the runs table ${Date.now() - rowAfter} ms after its start was durable (the issue's target: within 2000 ms)`)
      expect(await table.page.locator('.tbody [role="row"]', { hasText: "live-run" }).innerText()).toContain("RUNNING")
      await shot(table, "runs-live")
      const w = await open(`/runs/${run.id}?tab=charts`)
      await expect.poll(() => w.page.locator(".chart-host[data-metric='seed'] canvas").count()).toBe(1)
      for (let step = 0; step < 20; step++) run.logMetric("live_loss", 1 / (step + 1), { step })
      await run.flush()
      const chart = w.page.locator(".chart-host[data-metric='live_loss']")
      await expect.poll(() => chart.getAttribute("data-points")).toBe("20")
      await shot(w, "run-live")
      // Time travel draws the histories as they were: as of the log's position after the first 20
      // steps, the chart has those 20, though the run went on to 40.
      const { events } = (await (await fetch(`${server.url}/api/runledger/streams/run-${run.id}`)).json()) as { events: ReadonlyArray<{ position: number }> }
      const after20 = events.at(-1)!.position
      for (let step = 20; step < 40; step++) run.logMetric("live_loss", 1 / (step + 1), { step })
      await run.flush()
      const pointsAfter = Date.now()
      await expect.poll(() => chart.getAttribute("data-points")).toBe("40")
      console.log(`ui live: new points on the run's chart ${Date.now() - pointsAfter} ms after they were durable (the issue's target: within 2000 ms)`)
      await w.page.getByLabel("As of").fill(String(after20))
      await w.page.getByRole("button", { name: "Go" }).click()
      await expect.poll(() => chart.getAttribute("data-points")).toBe("20")
      await shot(w, "run-charts-as-of")
      await w.page.getByRole("button", { name: "Now" }).click()
      await expect.poll(() => chart.getAttribute("data-points")).toBe("40")
      await run.end()
      // The table's row follows the run's end (one row fetched again, not the table).
      await expect.poll(() => table.page.locator('.tbody [role="row"]', { hasText: "live-run" }).innerText()).toContain("FINISHED")
    } finally {
      await remote.close()
    }
  })
})

/**
 * Every visible piece of text on the page whose contrast with the background behind it is under
 * WCAG AA's 4.5:1 (colours composited over what lies behind; disabled controls are exempt, as
 * WCAG exempts them). Empty when the page reads well.
 */
const lowContrast = (w: Watched) =>
  w.page.evaluate(() => {
    const rgba = (c: string): number[] => {
      const parts = /rgba?\(([^)]+)\)/.exec(c)?.[1].split(/[\s,/]+/).filter(Boolean).map(Number) ?? [0, 0, 0, 0]
      return [parts[0], parts[1], parts[2], parts[3] ?? 1]
    }
    const over = (top: number[], under: number[]) => [0, 1, 2].map((i) => top[i] * top[3] + under[i] * (1 - top[3])).concat(1)
    const luminance = (c: number[]) => {
      const f = (v: number) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)
      return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2])
    }
    const background = (el: Element | null): number[] => {
      if (el === null) return [255, 255, 255, 1]
      const own = rgba(getComputedStyle(el).backgroundColor)
      return own[3] === 0 ? background(el.parentElement) : own[3] === 1 ? own : over(own, background(el.parentElement))
    }
    const failures: string[] = []
    for (const el of Array.from(document.querySelectorAll("body *"))) {
      const hasText = Array.from(el.childNodes).some((n) => n.nodeType === Node.TEXT_NODE && n.textContent!.trim() !== "")
      if (!hasText || el.closest(":disabled, svg, .u-legend th") !== null || !(el as HTMLElement).checkVisibility?.()) continue
      const style = getComputedStyle(el)
      const bg = background(el)
      const fg = over(rgba(style.color), bg)
      const [hi, lo] = [luminance(fg), luminance(bg)].sort((a, b) => b - a)
      const ratio = (hi + 0.05) / (lo + 0.05)
      if (ratio < 4.5) failures.push(`${el.tagName.toLowerCase()}.${el.className} "${el.textContent!.trim().slice(0, 30)}": ${style.color} on rgb(${bg.slice(0, 3).join(", ")}) = ${ratio.toFixed(2)}`)
    }
    return failures
  })

describe("the web UI in Chromium: contrast", () => {
  it("every page's text meets WCAG AA contrast (4.5:1), in the light and the dark scheme", async () => {
    const pages = ["/", "/runs?exp=vision", `/runs/${ids["cnn-b"]}`, `/runs/${ids["cnn-b"]}?tab=history`, `/compare?runs=${ids["cnn-a"]},${ids["mlp-c"]}`, "/models", "/models/classifier", "/runs?exp=vision&filter=metrics.loss%20%3C"]
    const failures: string[] = []
    for (const scheme of ["light", "dark"] as const) {
      for (const path of pages) {
        const w = await watch(session)
        await w.page.emulateMedia({ colorScheme: scheme })
        await w.page.goto(`${server.url}${path}`)
        // Loaded: the page's main content is in (a heading), and no "Loading…" is left.
        await w.page.locator("h1").first().waitFor()
        await expect.poll(() => w.page.getByText("Loading…").count()).toBe(0)
        for (const f of await lowContrast(w)) failures.push(`${scheme} ${path}: ${f}`)
        await w.page.close()
        // The malformed filter's 400 is the page's to show (checked above), not an error of the page.
        if (path.includes("filter=")) expected(w, /status of 400/)
        expect(w.errors).toEqual([])
      }
    }
    expect(failures).toEqual([])
  })
})

describe("the web UI in Chromium: artifact previews", () => {
  it("previews a text file as text, and an SVG as an image (its script never runs)", async () => {
    const remote = await openTracker({ uri: server.url })
    let runId: string
    try {
      const run = await remote.startRun({ experiment: "previews", name: "files" })
      await run.logText("first line\nsecond line\n", "notes/readme.txt")
      await run.logBytes(new TextEncoder().encode(`<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><script>document.title = "ran"</script><rect width="40" height="20" fill="teal"/></svg>`), "plots/box.svg")
      await run.end()
      runId = run.id
    } finally {
      await remote.close()
    }
    const w = await open(`/runs/${runId}?tab=artifacts`)
    await w.page.getByRole("button", { name: "notes/readme.txt" }).click()
    await expect.poll(() => w.page.locator("pre.preview").innerText()).toBe("first line\nsecond line\n")
    await w.page.getByRole("button", { name: "plots/box.svg" }).click()
    const image = w.page.getByRole("img", { name: "plots/box.svg" })
    await expect.poll(() => image.evaluate((e) => (e as HTMLImageElement).naturalWidth)).toBe(40)
    expect(await w.page.title()).not.toBe("ran")
    await shot(w, "run-artifact-svg")
  })
})

/** A small valid PNG (a w×h image of one color), so the preview has real bytes to decode. */
const png = (w: number, h: number): Uint8Array => encodePng(w, h, () => [30, 120, 200])

describe("the web UI against a server with --token", () => {
  const TOKEN = "ui-token-5f2c"
  let tokenDir: string
  let guarded: RunningServer
  let pictureRun: string
  beforeAll(async () => {
    tokenDir = mkdtempSync(join(tmpdir(), "runledger-ui-token-"))
    const tracker = await openTracker({ dir: tokenDir })
    try {
      const run = await tracker.startRun({ experiment: "guarded", name: "with-picture" })
      await run.logParams({ lr: 0.5 })
      await run.logBytes(png(40, 20), "plots/picture.png")
      await run.end()
      pictureRun = run.id
    } finally {
      await tracker.close()
    }
    guarded = await startServer({ dir: tokenDir, port: 0, token: TOKEN })
  }, 120_000)
  afterAll(async () => {
    await guarded?.close()
    if (tokenDir) rmSync(tokenDir, { recursive: true, force: true })
  })

  it("signs in (a wrong token is refused clearly), then shows experiments, an image preview, a download and the live tail; signs out", async () => {
    const w = await watch(session)
    pages.push(w)
    await w.page.goto(`${guarded.url}/`)
    await expect.poll(() => w.page.getByRole("heading", { name: "Sign in" }).isVisible()).toBe(true)
    // No section is reachable before signing in, and the first look asked the server nothing it refused.
    expect(await w.page.getByRole("navigation", { name: "Sections" }).count()).toBe(0)
    await shot(w, "signin")
    await w.page.emulateMedia({ colorScheme: "dark" })
    await shot(w, "signin-dark")
    await w.page.emulateMedia({ colorScheme: "light" })

    const box = w.page.getByLabel("Token")
    await box.fill("not-the-token")
    await w.page.getByRole("button", { name: "Sign in" }).click()
    await expect.poll(() => w.page.getByRole("alert").innerText()).toMatch(/token is wrong/)
    // Chromium logs every 4xx fetch as a console error; this one is the refusal the step asked for.
    expected(w, /status of 401/)
    await shot(w, "signin-wrong")

    await box.fill(TOKEN)
    await w.page.getByRole("button", { name: "Sign in" }).click()
    const table = w.page.getByRole("table", { name: "Experiments" })
    await expect.poll(() => table.innerText()).toContain("guarded")
    // The cookie is HttpOnly: the page's script cannot read it (nor the token, which it never kept).
    expect(await w.page.evaluate(() => document.cookie)).toBe("")

    // An image artifact's preview is an <img src>: it loads by the cookie.
    await w.page.goto(`${guarded.url}/runs/${pictureRun}?tab=artifacts`)
    await w.page.getByRole("button", { name: "plots/picture.png" }).click()
    const img = w.page.getByRole("img", { name: "plots/picture.png" })
    await expect.poll(() => img.evaluate((e) => (e as HTMLImageElement).naturalWidth)).toBe(40)
    await shot(w, "token-run-image")
    // The download link too.
    const [download] = await Promise.all([w.page.waitForEvent("download"), w.page.getByRole("link", { name: "download" }).click()])
    expect(await download.failure()).toBeNull()
    expect(readFileSync((await download.path())!).subarray(1, 4).toString("latin1")).toBe("PNG")

    // The live tail (an EventSource, which cannot send a header) follows a run a remote client logs.
    const remote = await openTracker({ uri: guarded.url, token: TOKEN })
    try {
      const run = await remote.startRun({ experiment: "guarded", name: "live-guarded" })
      run.logMetric("seed", 1, { step: 0 })
      await run.flush()
      await w.page.goto(`${guarded.url}/runs/${run.id}?tab=charts`)
      await expect.poll(() => w.page.locator(".chart-host[data-metric='seed'] canvas").count()).toBe(1)
      for (let step = 0; step < 10; step++) run.logMetric("tail_loss", 1 / (step + 1), { step })
      await run.flush()
      await expect.poll(() => w.page.locator(".chart-host[data-metric='tail_loss'] canvas").count()).toBe(1)
      await run.end()
      await expect.poll(() => w.page.locator("h1").innerText()).toContain("FINISHED")
    } finally {
      await remote.close()
    }

    // The session ends behind the page's back (signed out from elsewhere): the next request's 401 brings the sign-in back, saying why.
    const cookie = (await session.context.cookies(guarded.url)).find((c) => c.name === "runledger_session")!
    const ended = await fetch(`${guarded.url}/api/runledger/session`, { method: "DELETE", headers: { cookie: `${cookie.name}=${cookie.value}`, "x-runledger-ui": "1" } })
    expect(ended.status).toBe(200)
    await w.page.getByRole("link", { name: "Experiments" }).click()
    await expect.poll(() => w.page.getByRole("heading", { name: "Sign in" }).isVisible()).toBe(true)
    expect(await w.page.getByRole("note").innerText()).toMatch(/sign-in has ended/)
    // The experiments page's one request, refused on purpose above.
    expected(w, /status of 401/)
    await w.page.getByLabel("Token").fill(TOKEN)
    await w.page.getByRole("button", { name: "Sign in" }).click()
    await expect.poll(() => w.page.getByRole("table", { name: "Experiments" }).innerText()).toContain("guarded")

    await w.page.getByRole("button", { name: "Sign out" }).click()
    await expect.poll(() => w.page.getByRole("heading", { name: "Sign in" }).isVisible()).toBe(true)
    expect(await session.context.cookies(guarded.url)).toEqual([])
    await w.page.reload()
    await expect.poll(() => w.page.getByRole("heading", { name: "Sign in" }).isVisible()).toBe(true)
    expect(await w.page.getByRole("navigation", { name: "Sections" }).count()).toBe(0)
  })
})
