/**
 * The model registry: models with their versions, stages and aliases, each version's source run
 * linked. Promote a version and set or delete an alias through MLflow's REST endpoints (each one an
 * event on the model's stream); the stage history is that stream. Writes are off while time travelling.
 */
import { useState } from "preact/hooks"
import { api } from "../api/client.ts"
import { useLoad } from "../api/useLoad.ts"
import { AsOf } from "../components/AsOf.tsx"
import { time } from "../format.ts"
import { href, type Location, navigate } from "../router.ts"
import { History } from "./Run.tsx"

const STAGES = ["None", "Staging", "Production", "Archived"] as const

export function Models({ loc }: { readonly loc: Location }) {
  const asOf = loc.query.get("asOf") ?? undefined
  const { value: models, error } = useLoad((signal) => api.models(asOf, signal), [asOf])
  return (
    <section>
      <h1>Models</h1>
      <AsOf value={asOf} onChange={(v) => navigate(href("/models", { asOf: v }))} />
      {error ? <p class="error" role="alert">{error}</p> : null}
      {models === null && !error ? <p class="hint">Loading…</p> : null}
      {models !== null && models.length === 0 ? <p>No registered models{asOf ? " at that moment" : ""}.</p> : null}
      {models !== null && models.length > 0 ? (
        <table class="grid" aria-label="Models">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Versions</th>
              <th scope="col">Staging</th>
              <th scope="col">Production</th>
              <th scope="col">Aliases</th>
              <th scope="col">Updated</th>
            </tr>
          </thead>
          <tbody>
            {models.map((m) => (
              <tr key={m.name}>
                <td><a href={href(`/models/${encodeURIComponent(m.name)}`, { asOf })}>{m.name}</a></td>
                <td class="num">{m.versions}</td>
                <td>{m.latest.Staging ?? "—"}</td>
                <td>{m.latest.Production ?? "—"}</td>
                <td>{Object.entries(m.aliases).map(([a, v]) => `@${a}→${v}`).join(", ") || "—"}</td>
                <td>{time(m.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  )
}

export function Model({ name, loc }: { readonly name: string; readonly loc: Location }) {
  const asOf = loc.query.get("asOf") ?? undefined
  const [actError, setActError] = useState<string | null>(null)
  const [done, setDone] = useState(0)
  const [busy, setBusy] = useState(false)
  const [alias, setAlias] = useState("")
  const [aliasVersion, setAliasVersion] = useState("")
  const loaded = useLoad((signal) => api.versions(name, asOf, signal), [name, asOf], done)
  const versions = loaded.value
  const error = actError ?? loaded.error
  const act = (f: () => Promise<unknown>) => {
    setBusy(true)
    setActError(null)
    f().then(
      () => setDone((d) => d + 1),
      (e: Error) => setActError(e.message)
    ).finally(() => setBusy(false))
  }
  const readOnly = asOf !== undefined
  return (
    <section>
      <p class="crumbs"><a href={href("/models", { asOf })}>Models</a> / {name}</p>
      <h1>{name}</h1>
      <AsOf value={asOf} onChange={(v) => navigate(href(`/models/${encodeURIComponent(name)}`, { asOf: v }))} />
      {error ? <p class="error" role="alert">{error}</p> : null}
      {versions === null && !error ? <p class="hint">Loading…</p> : null}
      {versions !== null ? (
        <table class="grid" aria-label="Versions">
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Stage</th>
              <th scope="col">Aliases</th>
              <th scope="col">Source run</th>
              <th scope="col">Created</th>
              {readOnly ? null : <th scope="col">Promote</th>}
            </tr>
          </thead>
          <tbody>
            {versions.map((v) => (
              <tr key={v.version} data-version={v.version}>
                <td class="num">{v.version}</td>
                <td><span class={`stage ${v.stage.toLowerCase()}`}>{v.stage}</span></td>
                <td>
                  {v.aliases.length === 0 ? "—" : null}
                  {v.aliases.map((a) => (
                    <span key={a} class="chip">
                      @{a}
                      {readOnly ? null : (
                        <button type="button" aria-label={`Delete alias ${a}`} disabled={busy} onClick={() => act(() => api.deleteAlias(name, a))}>
                          ×
                        </button>
                      )}
                    </span>
                  ))}
                </td>
                <td><a href={href(`/runs/${encodeURIComponent(v.runId)}`, { asOf })}><code>{v.runId.slice(0, 12)}</code></a> <span class="hint">{v.artifactPath}</span></td>
                <td>{time(v.createdAt)}</td>
                {readOnly ? null : (
                  <td>
                    <label>
                      <span class="sr-only">Stage of version {v.version}</span>
                      <select
                        aria-label={`Stage of version ${v.version}`}
                        value={v.stage}
                        disabled={busy}
                        onChange={(e) => act(() => api.transitionStage(name, v.version, (e.currentTarget as HTMLSelectElement).value))}
                      >
                        {STAGES.map((s) => <option key={s} value={s}>{s}</option>)}
                      </select>
                    </label>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {readOnly || versions === null || versions.length === 0 ? null : (
        <form
          class="toolbar"
          aria-label="Set an alias"
          onSubmit={(e) => {
            e.preventDefault()
            const v = Number(aliasVersion || versions[versions.length - 1].version)
            act(() => api.setAlias(name, alias.trim(), v))
            setAlias("")
          }}
        >
          <label>Alias <input name="alias" value={alias} required pattern="[A-Za-z0-9_\-]+" onInput={(e) => setAlias((e.currentTarget as HTMLInputElement).value)} /></label>
          <label>
            on version{" "}
            <select name="aliasVersion" value={aliasVersion || String(versions[versions.length - 1].version)} onChange={(e) => setAliasVersion((e.currentTarget as HTMLSelectElement).value)}>
              {versions.map((v) => <option key={v.version} value={String(v.version)}>{v.version}</option>).reverse()}
            </select>
          </label>
          <button type="submit" disabled={busy}>Set alias</button>
        </form>
      )}
      <h2>Stage history</h2>
      <History stream={`model-${name}`} version={done} asOf={asOf} only={["ModelRegistered", "ModelVersionCreated", "StagePromoted", "AliasSet", "AliasDeleted"]} />
    </section>
  )
}
