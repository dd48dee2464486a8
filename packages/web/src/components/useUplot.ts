/**
 * uPlot, loaded when a page first draws a chart, not with the UI's entry: evaluating it builds
 * Intl formatters at load (about 90 ms of a cold page in headless Chromium), which held back every
 * page's first request, the runs table's included. A chart's own request leaves at once; uPlot
 * arrives while it is answered.
 */
import { useEffect, useState } from "preact/hooks"
import type uPlot from "uplot"

let loaded: typeof uPlot | undefined
let loading: Promise<typeof uPlot> | undefined

const load = (): Promise<typeof uPlot> =>
  (loading ??= import("uplot").then(
    (m) => (loaded = m.default),
    (e: unknown) => {
      // A failed load (the server went away) is tried again by the next chart, not remembered.
      loading = undefined
      throw e
    }
  ))

/** uPlot's constructor once loaded, or why it could not be. */
export function useUplot(): { readonly uPlot: typeof uPlot | undefined; readonly error: string | null } {
  const [state, setState] = useState<{ uPlot: typeof uPlot | undefined; error: string | null }>({ uPlot: loaded, error: null })
  useEffect(() => {
    if (state.uPlot) return
    let live = true
    load().then(
      (ctor) => live && setState({ uPlot: ctor, error: null }),
      (e: unknown) => live && setState({ uPlot: undefined, error: `The chart library did not load: ${e instanceof Error ? e.message : String(e)}` })
    )
    return () => {
      live = false
    }
  }, [])
  return state
}
