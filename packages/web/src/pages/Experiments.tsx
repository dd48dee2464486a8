/** The experiments: names, run counts, last activity; deleted ones behind a toggle; several can be opened together. */
import { useState } from "preact/hooks"
import { api } from "../api/client.ts"
import { useLoad } from "../api/useLoad.ts"
import { AsOf } from "../components/AsOf.tsx"
import { time } from "../format.ts"
import { href, type Location, navigate } from "../router.ts"

export function Experiments({ loc }: { readonly loc: Location }) {
  const showDeleted = loc.query.get("deleted") === "1"
  const asOf = loc.query.get("asOf") ?? undefined
  const { value: rows, error } = useLoad((signal) => api.experiments(showDeleted ? "all" : "active", asOf, signal), [showDeleted, asOf])
  const [chosen, setChosen] = useState<ReadonlySet<string>>(new Set())
  const go = (p: { deleted?: boolean; asOf?: string | undefined }) =>
    navigate(href("/", { deleted: (p.deleted ?? showDeleted) ? "1" : undefined, asOf: "asOf" in p ? p.asOf : asOf }))
  return (
    <section>
      <h1>Experiments</h1>
      <div class="toolbar">
        <label>
          <input type="checkbox" checked={showDeleted} onChange={(e) => go({ deleted: (e.currentTarget as HTMLInputElement).checked })} /> Show deleted
        </label>
        <button type="button" disabled={chosen.size === 0} onClick={() => navigate(href("/runs", { exp: [...chosen].join(","), asOf }))}>
          Open runs of {chosen.size} selected
        </button>
        <AsOf value={asOf} onChange={(v) => go({ asOf: v })} />
      </div>
      {error ? <p class="error" role="alert">{error}</p> : null}
      {rows === null && !error ? <p class="hint">Loading…</p> : null}
      {rows !== null ? (
        rows.length === 0 ? (
          <p>No experiments yet: log a run (`runledger demo` makes some).</p>
        ) : (
          <table class="grid" aria-label="Experiments">
            <thead>
              <tr>
                <th scope="col"><span class="sr-only">Select</span></th>
                <th scope="col">Name</th>
                <th scope="col">Runs</th>
                <th scope="col">Last activity</th>
                <th scope="col">Created</th>
                {showDeleted ? <th scope="col">State</th> : null}
              </tr>
            </thead>
            <tbody>
              {rows.map((x) => (
                <tr key={x.id} class={x.lifecycle === "deleted" ? "deleted" : ""}>
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`Select ${x.name}`}
                      checked={chosen.has(x.name)}
                      onChange={(e) => {
                        const next = new Set(chosen)
                        if ((e.currentTarget as HTMLInputElement).checked) next.add(x.name)
                        else next.delete(x.name)
                        setChosen(next)
                      }}
                    />
                  </td>
                  <td>
                    <a href={href("/runs", { exp: x.name, asOf })}>{x.name}</a>
                  </td>
                  <td class="num">{x.runCount}</td>
                  <td>{time(x.lastActivity)}</td>
                  <td>{time(x.createdAt)}</td>
                  {showDeleted ? <td>{x.lifecycle}</td> : null}
                </tr>
              ))}
            </tbody>
          </table>
        )
      ) : null}
    </section>
  )
}
