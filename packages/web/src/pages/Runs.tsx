/**
 * The runs of one or more experiments: a virtual-scrolled table (only the rows in view are in the
 * DOM; pages of `runs/search` are fetched as the view nears the end, by nextPageToken), sorted and
 * filtered by the server (MLflow's syntax plus OR, NOT, parentheses), nested runs as a tree, rows
 * picked for compare, and the whole view in the URL. Live: the run events of the tail patch the
 * rows they touch (one run fetched again), and a new run refreshes the first page. Time travel:
 * with `asOf` the search answers the runs as they were then (read-only, so the live tail is ignored).
 */
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "preact/hooks"
import { ApiError, api, type RunView, tail } from "../api/client.ts"
import { AsOf } from "../components/AsOf.tsx"
import { durationAt, time, value } from "../format.ts"
import { href, type Location, navigate } from "../router.ts"

const ROW = 30
/** The first page fills the view quickly; later pages, fetched while scrolling, are larger. */
const FIRST_PAGE = 100
const PAGE = 500

/** A key as MLflow's syntax writes it: backquoted when it is not a plain identifier. */
const ident = (kind: string, key: string) => `${kind}.${/^[A-Za-z_][\w.]*$/.test(key) && !key.includes(".") ? key : `\`${key.replace(/`/g, "")}\``}`

interface Column {
  readonly id: string
  readonly label: string
  /** The order_by field, when the server can sort by it. */
  readonly sort?: string
  readonly cell: (r: RunView) => string
  readonly num?: boolean
}

/** The columns every table has; a duration is as of the table's moment (`asOf`), when it has one. */
const base = (asOf: string | undefined): ReadonlyArray<Column> => [
  { id: "status", label: "Status", sort: "attributes.status", cell: (r) => r.status },
  { id: "name", label: "Name", sort: "attributes.run_name", cell: (r) => r.name },
  { id: "start", label: "Start", sort: "attributes.start_time", cell: (r) => time(r.startTime) },
  { id: "duration", label: "Duration", sort: "attributes.end_time", cell: (r) => durationAt(r.startTime, r.endTime, asOf) }
]

const columnOf = (id: string): Column | null => {
  const dot = id.indexOf(".")
  if (dot < 0) return null
  const kind = id.slice(0, dot)
  const key = id.slice(dot + 1)
  if (kind === "params") return { id, label: key, sort: ident("params", key), cell: (r) => value(r.params[key]) }
  if (kind === "metrics") return { id, label: key, sort: ident("metrics", key), cell: (r) => value(r.metrics[key]), num: true }
  if (kind === "tags") return { id, label: key, sort: ident("tags", key), cell: (r) => value(r.tags[key]) }
  return null
}

/** The rows in tree order: each run after its parent (when the parent is loaded), with its depth. */
const treeOrder = (runs: ReadonlyArray<RunView>, collapsed: ReadonlySet<string>) => {
  const ids = new Set(runs.map((r) => r.id))
  const children = new Map<string, RunView[]>()
  const roots: RunView[] = []
  for (const r of runs) {
    if (r.parentRunId !== null && ids.has(r.parentRunId) && r.parentRunId !== r.id) {
      const list = children.get(r.parentRunId) ?? []
      list.push(r)
      children.set(r.parentRunId, list)
    } else roots.push(r)
  }
  const out: Array<{ run: RunView; depth: number; kids: number }> = []
  const seen = new Set<string>()
  const walk = (r: RunView, depth: number) => {
    if (seen.has(r.id)) return
    seen.add(r.id)
    const kids = children.get(r.id) ?? []
    out.push({ run: r, depth, kids: kids.length })
    if (!collapsed.has(r.id)) for (const k of kids) walk(k, depth + 1)
  }
  for (const r of roots) walk(r, 0)
  return out
}

/** The identifier being typed at the caret, for key completion. */
const tokenAt = (text: string, caret: number): { start: number; word: string } => {
  let start = caret
  while (start > 0 && /[\w.`-]/.test(text[start - 1])) start--
  return { start, word: text.slice(start, caret) }
}

export function Runs({ loc }: { readonly loc: Location }) {
  const q = loc.query
  const experiments = (q.get("exp") ?? "").split(",").filter((s) => s !== "")
  const filter = q.get("filter") ?? ""
  const sort = q.get("sort") ?? ""
  const selected = new Set((q.get("sel") ?? "").split(",").filter((s) => s !== ""))
  const colParam = q.get("cols")
  const asOf = q.get("asOf") ?? undefined

  const set = (patch: Record<string, string | undefined>, replace = false) => {
    const next: Record<string, string | undefined> = {}
    for (const [k, v] of q) next[k] = v
    navigate(href("/runs", { ...next, ...patch }), replace)
  }

  const [runs, setRuns] = useState<ReadonlyArray<RunView>>([])
  const [token, setToken] = useState<string | null>(null)
  const [loading, setLoading] = useState(false)
  const [error, setError] = useState<ApiError | Error | null>(null)
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(new Set())
  const [scrollTop, setScrollTop] = useState(0)
  const [active, setActive] = useState(0)
  const [draft, setDraft] = useState(filter)
  const [caret, setCaret] = useState(0)
  const [suggest, setSuggest] = useState(0)
  const [generation, setGeneration] = useState(0)
  /** Runs started since the first page was read, while the reader was scrolled down the table (see the live tail). */
  const [newRuns, setNewRuns] = useState(0)
  const scrolled = useRef(0)
  const body = useRef<HTMLDivElement>(null)
  const input = useRef<HTMLInputElement>(null)
  const loadingMore = useRef(false)
  const t0 = useRef(performance.now())
  /** The last first page read without a filter, and the experiments and moment it was of (see `unfiltered`). */
  const lastUnfiltered = useRef<{ readonly scope: string; readonly runs: ReadonlyArray<RunView> } | null>(null)

  const query = { experiments, filter, orderBy: sort ? [sort] : [], asOf }
  const queryKey = JSON.stringify(query)
  /** The experiments and moment the table is of, whatever its filter and order. */
  const pageScope = JSON.stringify({ experiments, asOf })
  /** The search's scope, the same for every page (a page token goes on only in the search that made it). */
  const scope = { ...(experiments.length ? { experiments } : {}), ...(filter ? { filter } : {}), ...(sort ? { orderBy: [sort] } : {}), ...(asOf ? { asOf } : {}) }
  useEffect(() => setDraft(filter), [filter])

  // A layout effect: the request leaves as the page is put in place, not after its first paint.
  useLayoutEffect(() => {
    const ctl = new AbortController()
    setLoading(true)
    setError(null)
    t0.current = performance.now()
    api
      .searchRuns({ ...scope, maxResults: FIRST_PAGE }, ctl.signal)
      .then((r) => {
        setRuns(r.runs)
        if (!filter) lastUnfiltered.current = { scope: pageScope, runs: r.runs }
        setToken(r.nextPageToken)
        setNewRuns(0)
        setLoading(false)
        if (body.current) body.current.dataset.firstRowsMs = (performance.now() - t0.current).toFixed(1)
      })
      .catch((e: unknown) => {
        if (ctl.signal.aborted) return
        setRuns([])
        setToken(null)
        setLoading(false)
        setError(e instanceof Error ? e : new Error(String(e)))
      })
    return () => ctl.abort()
  }, [queryKey, generation])

  const more = () => {
    if (token === null || loadingMore.current) return
    loadingMore.current = true
    api
      .searchRuns({ ...scope, maxResults: PAGE, pageToken: token })
      .then((r) => {
        setRuns((prev) => prev.concat(r.runs))
        setToken(r.nextPageToken)
      }, (e: Error) => setError(e))
      .finally(() => (loadingMore.current = false))
  }

  // Live: only the loaded rows an event touches are fetched again. A new run refreshes the first
  // page, unless the reader has scrolled down the table: reading the first page again would drop
  // the pages below it and move the rows under their eyes, so a button offers the new runs instead.
  const loaded = useRef<ReadonlySet<string>>(new Set())
  const past = useRef(asOf)
  past.current = asOf
  loaded.current = useMemo(() => new Set(runs.map((r) => r.id)), [runs])
  useEffect(() => {
    const pending = new Map<string, ReturnType<typeof setTimeout>>()
    let fresh: ReturnType<typeof setTimeout> | undefined
    const close = tail({ streamPrefix: "run-" }, (e) => {
      // The past does not change: a table as of a moment ignores what happens now.
      if (past.current !== undefined) return
      if (e.type === "RunStarted") {
        if (scrolled.current > 0) return setNewRuns((n) => n + 1)
        clearTimeout(fresh)
        fresh = setTimeout(() => setGeneration((g) => g + 1), 200)
        return
      }
      const id = e.stream.slice("run-".length)
      if (pending.has(id) || !loaded.current.has(id)) return
      pending.set(
        id,
        setTimeout(() => {
          pending.delete(id)
          api.run(id).then((run) => setRuns((prev) => (prev.some((r) => r.id === id) ? prev.map((r) => (r.id === id ? run : r)) : prev)), () => undefined)
        }, 200)
      )
    })
    return () => {
      close()
      clearTimeout(fresh)
      for (const t of pending.values()) clearTimeout(t)
    }
  }, [])

  // The keys to complete and the default columns come from the experiments' runs, not only from
  // those a filter lets through: with a filter, the first page without it is read too, so a filter
  // that matches nothing (or is malformed) leaves both in place. Until it answers, the page last
  // read without a filter stands in for it: the filtered search may answer first, and the
  // columns would go and come back.
  const [unfiltered, setUnfiltered] = useState<ReadonlyArray<RunView>>([])
  const filtered = filter !== ""
  useEffect(() => {
    const last = lastUnfiltered.current
    setUnfiltered(filtered && last !== null && last.scope === pageScope ? last.runs : [])
    if (!filtered) return
    const ctl = new AbortController()
    // A failure here is the main search's too, which says so; this one only adds keys.
    api.searchRuns({ ...(experiments.length ? { experiments } : {}), ...(asOf ? { asOf } : {}), maxResults: FIRST_PAGE }, ctl.signal).then((r) => setUnfiltered(r.runs), () => undefined)
    return () => ctl.abort()
  }, [pageScope, filtered])

  const keys = useMemo(() => {
    const params = new Set<string>()
    const metrics = new Set<string>()
    const tags = new Set<string>()
    for (const r of runs.slice(0, 1000).concat(unfiltered)) {
      for (const k of Object.keys(r.params)) params.add(k)
      for (const k of Object.keys(r.metrics)) metrics.add(k)
      for (const k of Object.keys(r.tags)) if (!k.startsWith("mlflow.")) tags.add(k)
    }
    return { params: [...params].sort(), metrics: [...metrics].sort(), tags: [...tags].sort() }
  }, [runs, unfiltered])

  const chosenCols: ReadonlyArray<string> =
    colParam !== null ? colParam.split(",").filter((s) => s !== "") : [...keys.metrics.slice(0, 3).map((k) => `metrics.${k}`), ...keys.params.slice(0, 3).map((k) => `params.${k}`)]
  // A key chosen under two kinds (the demo's params.model and tags.model) is labelled with its kind.
  const chosenKeys = chosenCols.map((id) => id.slice(id.indexOf(".") + 1))
  const columns = [
    ...base(asOf),
    ...chosenCols
      .map(columnOf)
      .filter((c): c is Column => c !== null)
      .map((c) => (chosenKeys.filter((k) => k === c.label).length > 1 ? { ...c, label: c.id } : c))
  ]
  // Fixed widths: the header and the (absolutely placed) rows share one grid, and wide tables scroll sideways.
  const template = `40px ${columns.map((c) => (c.id === "name" ? "220px" : c.id === "start" ? "190px" : c.id === "status" || c.id === "duration" ? "100px" : "140px")).join(" ")}`
  const rows = useMemo(() => treeOrder(runs, collapsed), [runs, collapsed])

  const viewport = 18
  const first = Math.max(0, Math.floor(scrollTop / ROW) - 5)
  const last = Math.min(rows.length, first + viewport + 15)
  useEffect(() => {
    if (last >= rows.length - 40) more()
  }, [last, rows.length, token])

  const toggle = (id: string) => {
    const next = new Set(selected)
    if (next.has(id)) next.delete(id)
    else next.add(id)
    set({ sel: [...next].join(",") || undefined }, true)
  }
  const sortBy = (c: Column) => {
    if (!c.sort) return
    const [field, dir] = sort.split(/\s+(?=(?:ASC|DESC)$)/i)
    set({ sort: field === c.sort && (dir ?? "ASC").toUpperCase() === "ASC" ? `${c.sort} DESC` : `${c.sort} ASC` })
  }
  const sortState = (c: Column): "ascending" | "descending" | "none" => {
    const m = /^(.*?)(?:\s+(ASC|DESC))?$/i.exec(sort)
    if (!m || m[1] !== c.sort) return "none"
    return (m[2] ?? "ASC").toUpperCase() === "DESC" ? "descending" : "ascending"
  }

  const moveTo = (i: number) => {
    const n = Math.max(0, Math.min(rows.length - 1, i))
    setActive(n)
    const el = body.current
    if (!el) return
    if (n * ROW < el.scrollTop) el.scrollTop = n * ROW
    else if ((n + 1) * ROW > el.scrollTop + el.clientHeight) el.scrollTop = (n + 1) * ROW - el.clientHeight
  }
  const onKey = (e: KeyboardEvent) => {
    // Keys pressed on a control inside the grid (a header's sort button) are that control's.
    if (e.target !== e.currentTarget) return
    const r = rows[active]
    if (e.key === "ArrowDown") moveTo(active + 1)
    else if (e.key === "ArrowUp") moveTo(active - 1)
    else if (e.key === "PageDown") moveTo(active + viewport)
    else if (e.key === "PageUp") moveTo(active - viewport)
    else if (e.key === "Home") moveTo(0)
    else if (e.key === "End") moveTo(rows.length - 1)
    else if (e.key === " " && r) toggle(r.run.id)
    else if (e.key === "Enter" && r) navigate(href(`/runs/${encodeURIComponent(r.run.id)}`, { asOf }))
    else return
    e.preventDefault()
  }

  // Key completion: the identifier at the caret against every key the loaded runs have.
  const tok = tokenAt(draft, caret)
  const candidates =
    tok.word.length === 0
      ? []
      : [
          ...["attributes.status", "attributes.run_name", "attributes.start_time", "attributes.end_time", "attributes.run_id"],
          ...keys.params.map((k) => ident("params", k)),
          ...keys.metrics.map((k) => ident("metrics", k)),
          ...keys.tags.map((k) => ident("tags", k))
        ]
          // A key with a dot is inserted backquoted, but typed by its plain name: compared without the quotes.
          .filter((c) => c.replace(/`/g, "").toLowerCase().startsWith(tok.word.replace(/`/g, "").toLowerCase()) && c !== tok.word)
          .slice(0, 8)
  const accept = (c: string) => {
    const next = draft.slice(0, tok.start) + c + draft.slice(caret)
    setDraft(next)
    const pos = tok.start + c.length
    setCaret(pos)
    requestAnimationFrame(() => input.current?.setSelectionRange(pos, pos))
  }

  const parseError = error instanceof ApiError && (error.tag === "FilterParseError" || error.tag === "OrderByParseError") ? error : null

  return (
    <section>
      <h1>Runs{experiments.length ? ` of ${experiments.join(", ")}` : ""}</h1>
      <AsOf value={asOf} onChange={(v) => set({ asOf: v })} />
      <form
        class="filter"
        role="search"
        onSubmit={(e) => {
          e.preventDefault()
          set({ filter: draft.trim() || undefined })
        }}
      >
        <label for="filter">Filter</label>
        <div class="combo">
          <input
            id="filter"
            ref={input}
            value={draft}
            spellcheck={false}
            autocomplete="off"
            placeholder={`metrics.loss < 0.5 AND (params.lr = "0.01" OR NOT tags.model = "cnn")`}
            role="combobox"
            aria-expanded={candidates.length > 0}
            aria-controls="filter-keys"
            aria-invalid={parseError?.tag === "FilterParseError"}
            onInput={(e) => {
              const el = e.currentTarget as HTMLInputElement
              setDraft(el.value)
              setCaret(el.selectionStart ?? el.value.length)
              setSuggest(0)
            }}
            onKeyDown={(e) => {
              if (candidates.length === 0) return
              if (e.key === "ArrowDown") setSuggest((suggest + 1) % candidates.length)
              else if (e.key === "ArrowUp") setSuggest((suggest + candidates.length - 1) % candidates.length)
              else if (e.key === "Tab") accept(candidates[suggest] ?? candidates[0])
              else return
              e.preventDefault()
            }}
            onClick={(e) => setCaret((e.currentTarget as HTMLInputElement).selectionStart ?? 0)}
          />
          {candidates.length > 0 ? (
            <ul id="filter-keys" role="listbox" class="suggest" aria-label="Keys">
              {candidates.map((c, i) => (
                <li key={c} role="option" aria-selected={i === suggest} onMouseDown={(e) => (e.preventDefault(), accept(c))}>
                  {c}
                </li>
              ))}
            </ul>
          ) : null}
        </div>
        <button type="submit">Apply</button>
        {filter ? (
          <button type="button" onClick={() => set({ filter: undefined })}>
            Clear
          </button>
        ) : null}
      </form>
      {parseError ? (
        <div class="error" role="alert" data-testid="filter-error">
          <p>{parseError.message}</p>
          {parseError.position !== undefined ? (
            <pre class="caret">
              {String(parseError.fields.input ?? filter)}
              {"\n"}
              {" ".repeat(parseError.position)}^
            </pre>
          ) : null}
        </div>
      ) : error ? (
        <p class="error" role="alert">{error.message}</p>
      ) : null}
      <div class="toolbar">
        <button type="button" disabled={selected.size < 2 || selected.size > 100} onClick={() => navigate(href("/compare", { runs: [...selected].join(",") }))}>
          Compare {selected.size} selected
        </button>
        {selected.size > 0 ? (
          <button type="button" onClick={() => set({ sel: undefined }, true)}>
            Clear selection
          </button>
        ) : null}
        <details class="columns">
          <summary>Columns</summary>
          {(["metrics", "params", "tags"] as const).map((kind) => (
            <fieldset key={kind}>
              <legend>{kind}</legend>
              {keys[kind].map((k) => {
                const id = `${kind}.${k}`
                return (
                  <label key={id}>
                    <input
                      type="checkbox"
                      checked={chosenCols.includes(id)}
                      onChange={() => set({ cols: (chosenCols.includes(id) ? chosenCols.filter((c) => c !== id) : [...chosenCols, id]).join(",") }, true)}
                    />{" "}
                    {k}
                  </label>
                )
              })}
            </fieldset>
          ))}
        </details>
        <span class="hint" aria-live="polite">
          {loading ? "Loading…" : `${runs.length}${token ? "+" : ""} runs`}
        </span>
        {newRuns > 0 ? (
          <button
            type="button"
            onClick={() => {
              if (body.current) body.current.scrollTop = 0
              setGeneration((g) => g + 1)
            }}
          >
            {newRuns} new run{newRuns === 1 ? "" : "s"}: show
          </button>
        ) : null}
      </div>
      {/* The grid holds the focus and names its active row (aria-activedescendant), so a screen reader
          follows the arrow keys; the rows scroll inside .tbody. */}
      <div
        class="table"
        role="grid"
        aria-label="Runs"
        aria-description="Arrow keys move, Space selects, Enter opens."
        aria-rowcount={rows.length + 1}
        aria-colcount={columns.length + 1}
        tabIndex={0}
        onKeyDown={onKey}
        aria-activedescendant={rows[active] && active >= first && active < last ? `run-row-${rows[active].run.id}` : undefined}
      >
        <div class="thead" role="row" style={{ gridTemplateColumns: template }}>
          <span role="columnheader">
            <span class="sr-only">Selected</span>
          </span>
          {columns.map((c) => (
            <span role="columnheader" key={c.id} aria-sort={sortState(c)} class={c.num ? "num" : ""}>
              {c.sort ? (
                <button type="button" class="sort" onClick={() => sortBy(c)}>
                  {c.label}
                  {sortState(c) === "ascending" ? " ▲" : sortState(c) === "descending" ? " ▼" : ""}
                </button>
              ) : (
                c.label
              )}
            </span>
          ))}
        </div>
        <div
          class="tbody"
          ref={body}
          onScroll={(e) => {
            // The ref for the live tail's callback, made once; the state for the rows drawn.
            scrolled.current = (e.currentTarget as HTMLDivElement).scrollTop
            setScrollTop(scrolled.current)
          }}
          style={{ height: `${Math.min(Math.max(rows.length, 3), viewport) * ROW + 2}px` }}
        >
          <div style={{ height: `${rows.length * ROW}px`, position: "relative" }}>
            {rows.slice(first, last).map((row, k) => {
              const i = first + k
              const r = row.run
              return (
                <div
                  key={r.id}
                  id={`run-row-${r.id}`}
                  role="row"
                  aria-rowindex={i + 2}
                  aria-selected={selected.has(r.id)}
                  class={`tr${i === active ? " active" : ""}${selected.has(r.id) ? " selected" : ""}`}
                  style={{ top: `${i * ROW}px`, gridTemplateColumns: template }}
                  onClick={() => setActive(i)}
                >
                  <span role="gridcell">
                    <input type="checkbox" tabIndex={-1} aria-label={`Select ${r.name}`} checked={selected.has(r.id)} onChange={() => toggle(r.id)} />
                  </span>
                  {columns.map((c) => (
                    <span role="gridcell" key={c.id} class={c.num ? "num" : ""} title={c.cell(r)}>
                      {c.id === "name" ? (
                        <span style={{ paddingLeft: `${row.depth * 16}px` }}>
                          {row.kids > 0 ? (
                            <button
                              type="button"
                              class="twisty"
                              tabIndex={-1}
                              aria-label={collapsed.has(r.id) ? "Expand" : "Collapse"}
                              onClick={(e) => {
                                e.stopPropagation()
                                const next = new Set(collapsed)
                                if (next.has(r.id)) next.delete(r.id)
                                else next.add(r.id)
                                setCollapsed(next)
                              }}
                            >
                              {collapsed.has(r.id) ? "▸" : "▾"}
                            </button>
                          ) : null}
                          <a href={href(`/runs/${encodeURIComponent(r.id)}`, { asOf })} tabIndex={-1}>
                            {r.name}
                          </a>
                        </span>
                      ) : c.id === "status" ? (
                        <span class={`status ${r.status.toLowerCase()}`}>{r.status}</span>
                      ) : (
                        c.cell(r)
                      )}
                    </span>
                  ))}
                </div>
              )
            })}
          </div>
        </div>
      </div>
      {!loading && rows.length === 0 && !error ? <p>No runs match.</p> : null}
    </section>
  )
}
