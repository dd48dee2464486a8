/**
 * One run: overview (status, duration, git, command, environment, params, tags), a chart per metric,
 * its artifacts (previewed by media type; downloadable) and its event history (the audit trail of
 * `run-<id>`). Live: the run's own events from the tail refresh the overview and the charts.
 */
import { useEffect, useState } from "preact/hooks"
import { api, type ArtifactEntry, type RecordedEvent, tail } from "../api/client.ts"
import { useLoad } from "../api/useLoad.ts"
import { AsOf } from "../components/AsOf.tsx"
import { Chart, ChartControls, type XMode } from "../components/Chart.tsx"
import { bytes, durationAt, time, value } from "../format.ts"
import { href, type Location, navigate } from "../router.ts"

export function Run({ id, loc }: { readonly id: string; readonly loc: Location }) {
  const asOf = loc.query.get("asOf") ?? undefined
  const tab = loc.query.get("tab") ?? "overview"
  const [version, setVersion] = useState(0)
  const [view, setView] = useState<{ xMode: XMode; logY: boolean; smoothing: number }>({ xMode: "step", logY: false, smoothing: 0 })

  const { value: run, error } = useLoad((signal) => api.run(id, asOf, signal), [id, asOf], version)

  useEffect(() => {
    if (asOf !== undefined) return
    let timer: ReturnType<typeof setTimeout> | undefined
    const close = tail({ stream: `run-${id}` }, () => {
      // Events come in bursts (a batch of metrics each few ms): one refresh per burst.
      if (timer !== undefined) return
      timer = setTimeout(() => {
        timer = undefined
        setVersion((v) => v + 1)
      }, 250)
    })
    return () => {
      close()
      clearTimeout(timer)
    }
  }, [id, asOf])

  const go = (patch: Record<string, string | undefined>) => navigate(href(`/runs/${encodeURIComponent(id)}`, { tab, asOf, ...patch }))
  if (error) return <p class="error" role="alert">{error}</p>
  if (!run) return <p class="hint">Loading…</p>
  const metrics = Object.keys(run.metrics).sort()
  const git = run.source.git
  return (
    <section>
      <p class="crumbs">
        <a href={href("/runs", { exp: run.experiment, asOf })}>{run.experiment}</a> / {run.name}
      </p>
      <h1>
        {run.name} <span class={`status ${run.status.toLowerCase()}`}>{run.status}</span>
      </h1>
      <AsOf value={asOf} onChange={(v) => go({ asOf: v })} />
      <nav class="tabs" aria-label="Run sections">
        {(["overview", "charts", "artifacts", "history"] as const).map((t) => (
          <a key={t} href={href(`/runs/${encodeURIComponent(id)}`, { tab: t, asOf })} aria-current={tab === t ? "page" : undefined}>
            {t[0].toUpperCase() + t.slice(1)}
          </a>
        ))}
      </nav>
      {tab === "overview" ? (
        <div class="overview">
          <dl class="facts">
            <dt>Run id</dt>
            <dd><code>{run.id}</code></dd>
            <dt>Status</dt>
            <dd>{run.status}{run.lifecycle === "deleted" ? " (deleted)" : ""}</dd>
            <dt>Started</dt>
            <dd>{time(run.startTime)}</dd>
            <dt>Duration</dt>
            <dd>{durationAt(run.startTime, run.endTime, asOf)}{run.endTime === null ? (asOf === undefined ? " (running)" : " (running at that moment)") : ""}</dd>
            {run.parentRunId ? (
              <>
                <dt>Parent</dt>
                <dd><a href={href(`/runs/${encodeURIComponent(run.parentRunId)}`, { asOf })}>{run.parentRunId}</a></dd>
              </>
            ) : null}
            <dt>Git</dt>
            <dd>{git ? <><code>{git.commit.slice(0, 12)}</code>{git.branch ? ` on ${git.branch}` : ""}{git.dirty ? <strong> (dirty: uncommitted changes)</strong> : " (clean)"}</> : "—"}</dd>
            <dt>Command</dt>
            <dd><code>{run.source.command?.join(" ") ?? "—"}</code></dd>
            <dt>Directory</dt>
            <dd><code>{run.source.cwd ?? "—"}</code></dd>
            <dt>Environment</dt>
            <dd>{run.environment.runtime}, {run.environment.os} {run.environment.arch}, {run.environment.cpus} × {run.environment.cpu}, {bytes(run.environment.memoryBytes)} on {run.environment.host}</dd>
            {run.error ? (
              <>
                <dt>Error</dt>
                <dd><pre class="error">{run.error.message}</pre></dd>
              </>
            ) : null}
          </dl>
          <KeyValues title="Params" entries={Object.entries(run.params)} />
          <KeyValues title="Metrics (latest)" entries={metrics.map((k) => [k, `${value(run.metrics[k])} (step ${run.metricSteps[k]?.step ?? "?"})`] as const)} />
          <KeyValues title="Tags" entries={Object.entries(run.tags)} />
        </div>
      ) : null}
      {tab === "charts" ? (
        <div>
          <ChartControls {...view} onChange={setView} />
          {metrics.length === 0 ? <p>This run has no metrics{asOf ? " at that moment" : " yet"}.</p> : null}
          <div class="charts">
            {metrics.map((m) => (
              <Chart key={m} runIds={[run.id]} metric={m} names={{ [run.id]: run.name }} {...view} version={version} asOf={asOf} />
            ))}
          </div>
        </div>
      ) : null}
      {tab === "artifacts" ? <Artifacts runId={run.id} list={run.artifacts} past={asOf !== undefined} /> : null}
      {tab === "history" ? <History stream={`run-${run.id}`} version={version} asOf={asOf} /> : null}
    </section>
  )
}

function KeyValues({ title, entries }: { readonly title: string; readonly entries: ReadonlyArray<readonly [string, unknown]> }) {
  return (
    <section class="kv">
      <h2>{title}</h2>
      {entries.length === 0 ? (
        <p class="hint">None.</p>
      ) : (
        <table class="grid" aria-label={title}>
          <tbody>
            {entries.map(([k, v]) => (
              <tr key={k}>
                <th scope="row">{k}</th>
                <td>{value(v)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  )
}

/** A small CSV reader for previews: quoted fields, doubled quotes, CRLF. */
const parseCsv = (text: string, maxRows: number): string[][] => {
  const rows: string[][] = []
  let row: string[] = []
  let field = ""
  let quoted = false
  for (let i = 0; i < text.length && rows.length < maxRows; i++) {
    const ch = text[i]
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (field += '"'), i++
      else if (ch === '"') quoted = false
      else field += ch
    } else if (ch === '"') quoted = true
    else if (ch === ",") row.push(field), (field = "")
    else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++
      row.push(field)
      rows.push(row)
      row = []
      field = ""
    } else field += ch
  }
  if ((field !== "" || row.length > 0) && rows.length < maxRows) row.push(field), rows.push(row)
  return rows
}

const PREVIEW_LIMIT = 2 * 1024 * 1024

/** The run's artifacts as its view (now, or as of a moment) lists them: the run read is the list. */
function Artifacts({ runId, list, past }: { readonly runId: string; readonly list: ReadonlyArray<ArtifactEntry>; readonly past: boolean }) {
  const [open, setOpen] = useState<ArtifactEntry | null>(null)
  if (list.length === 0) return <p>No artifacts{past ? " at that moment" : ""}.</p>
  return (
    <div class="artifacts">
      <ul class="files" aria-label="Artifacts">
        {list.map((a) => (
          <li key={a.path}>
            <button type="button" aria-current={open?.path === a.path} onClick={() => setOpen(a)}>
              {a.path}
            </button>{" "}
            <span class="hint">{bytes(a.size)} · {a.mediaType}</span>{" "}
            <a href={api.artifactUrl(runId, a.path)} download={a.path.split("/").pop()}>download</a>
          </li>
        ))}
      </ul>
      {open ? <Preview runId={runId} artifact={open} /> : <p class="hint">Choose a file to preview it.</p>}
    </div>
  )
}

function Preview({ runId, artifact }: { readonly runId: string; readonly artifact: ArtifactEntry }) {
  const url = api.artifactUrl(runId, artifact.path)
  const type = artifact.mediaType.split(";")[0].trim().toLowerCase()
  const [text, setText] = useState<string | null>(null)
  const textual = type.startsWith("text/") || type === "application/json" || type.endsWith("+json") || type === "application/x-ndjson" || type === "application/yaml"
  useEffect(() => {
    setText(null)
    if (!textual || type === "image/svg+xml" || artifact.size > PREVIEW_LIMIT) return
    // Another file chosen before this one came in: its text must not show up as the other's.
    const ctl = new AbortController()
    // A refusal (a sign-in that ended: 401) is said as such, not previewed as the file's text.
    fetch(url, { signal: ctl.signal })
      .then((r) => (r.ok ? r.text() : Promise.reject(new Error(`${r.status} ${r.statusText}`))))
      .then(
        (t) => ctl.signal.aborted || setText(t),
        (e: Error) => ctl.signal.aborted || setText(`Could not read it: ${e.message}`)
      )
    return () => ctl.abort()
  }, [url])
  // SVG goes in an <img>: scripts inside it never run (and the server sends it with a CSP too).
  if (type.startsWith("image/")) return <figure class="preview"><img src={url} alt={artifact.path} /></figure>
  if (!textual) return <p>No preview for {type}; download it.</p>
  if (artifact.size > PREVIEW_LIMIT) return <p>Too large to preview ({bytes(artifact.size)}); download it.</p>
  if (text === null) return <p class="hint">Loading…</p>
  if (type === "text/csv") {
    const rows = parseCsv(text, 501)
    return (
      <table class="grid preview" aria-label={`${artifact.path} as a table`}>
        <thead><tr>{(rows[0] ?? []).map((h, i) => <th key={i} scope="col">{h}</th>)}</tr></thead>
        <tbody>{rows.slice(1).map((r, i) => <tr key={i}>{r.map((c, j) => <td key={j}>{c}</td>)}</tr>)}</tbody>
      </table>
    )
  }
  if (type === "application/json" || type.endsWith("+json")) {
    let pretty = text
    try {
      pretty = JSON.stringify(JSON.parse(text), null, 2)
    } catch {
      // Shown as it is when it does not parse.
    }
    return <pre class="preview">{pretty}</pre>
  }
  return <pre class="preview">{text}</pre>
}

/**
 * How many points a MetricsLogged batch holds, from its wire form (what the streams route sends):
 * `key` has one index per point when it is an array (it is the count of names when the points take
 * them in turn, and left out when the batch has one name); else the count is that of the values,
 * base64 of 8-byte doubles.
 */
const pointsOf = (d: Record<string, unknown>): number => {
  if (Array.isArray(d.key)) return d.key.length
  const b64 = typeof d.values === "string" ? d.values : ""
  const padding = b64.endsWith("==") ? 2 : b64.endsWith("=") ? 1 : 0
  return Math.floor(((b64.length * 3) / 4 - padding) / 8)
}

/** What an event did, in words, for the audit trail. */
const describe = (e: RecordedEvent): string => {
  const d = e.data as Record<string, unknown>
  switch (e.type) {
    case "RunStarted": {
      const git = (d.source as { git?: { commit: string; dirty: boolean } } | undefined)?.git
      return `run ${d.name as string}${d.parentRunId ? `, child of ${d.parentRunId as string}` : ""}${git ? `, git ${git.commit.slice(0, 12)}${git.dirty ? " (dirty)" : ""}` : ""}`
    }
    case "ParamsLogged":
      return Object.entries(d.params as Record<string, unknown>).map(([k, v]) => `${k}=${value(v)}`).join(", ")
    case "MetricsLogged": {
      const n = pointsOf(d)
      return `${n} point${n === 1 ? "" : "s"} of ${(d.names as ReadonlyArray<string>).join(", ")}`
    }
    case "TagsSet":
      return Object.entries(d.tags as Record<string, string>).map(([k, v]) => `${k}=${v}`).join(", ")
    case "ArtifactStored":
      return `${d.path as string} (${bytes(d.size as number)})`
    case "RunEnded":
      return String(d.status ?? "")
    case "StagePromoted":
      return `version ${d.version as number}: ${d.from as string} → ${d.to as string}${(d.archived as ReadonlyArray<{ version: number }>).length ? ` (archived ${(d.archived as ReadonlyArray<{ version: number }>).map((a) => a.version).join(", ")})` : ""}`
    case "AliasSet":
      return `@${d.alias as string} → version ${d.version as number}`
    case "AliasDeleted":
      return `@${d.alias as string} removed`
    case "ModelRegistered":
      return `model ${d.name as string} registered`
    case "ModelVersionCreated":
      return `version ${d.version as number} from run ${d.runId as string}`
    default:
      return JSON.stringify(d).slice(0, 200)
  }
}

/** Whether an event was in the log as of `asOf`, as the server reads it: a log position (digits) or a date/time, both inclusive. */
const asOfFilter = (asOf: string | undefined): ((e: RecordedEvent) => boolean) => {
  if (asOf === undefined) return () => true
  const t = asOf.trim()
  if (/^\d+$/.test(t)) return (e) => e.position <= Number(t)
  const time = Date.parse(t)
  return (e) => e.at <= time
}

export function History({ stream, version = 0, only, asOf }: { readonly stream: string; readonly version?: number; readonly only?: ReadonlyArray<string>; readonly asOf?: string | undefined }) {
  const { value: events, error } = useLoad((signal) => api.stream(stream, signal), [stream], version)
  if (error) return <p class="error" role="alert">{error}</p>
  if (!events) return <p class="hint">Loading…</p>
  const then = asOfFilter(asOf)
  const shown = events.filter((e) => then(e) && (only === undefined || only.includes(e.type)))
  return (
    <ol class="timeline" aria-label={`History of ${stream}`}>
      {shown.map((e) => (
        <li key={e.id}>
          <time dateTime={new Date(e.at).toISOString()}>{time(e.at)}</time> <strong>{e.type}</strong> {describe(e)}{" "}
          <span class="hint">
            #{e.version} · log position {e.position}
            {e.meta?.actor ? ` · by ${e.meta.actor}` : ""}
            {e.meta?.host ? ` · ${e.meta.host}${e.meta.pid !== undefined ? ` pid ${e.meta.pid}` : ""}` : ""}
          </span>
        </li>
      ))}
    </ol>
  )
}
