/**
 * A value loaded from the server, loaded again whenever `deps` change. A load that a newer one
 * replaced is aborted and its answer dropped: answers can arrive out of order (two refreshes after
 * two quick registry actions), and the older must never overwrite the newer. The last value stays
 * shown while the next loads (a live page refreshes without flashing "Loading…").
 *
 * A layout effect: the request leaves as the page is put in place, not after its first paint.
 * `load` null: nothing to load (yet).
 */
import { useLayoutEffect, useState } from "preact/hooks"

export interface Loaded<T> {
  readonly value: T | null
  readonly error: string | null
}

export const useLoad = <T>(load: ((signal: AbortSignal) => Promise<T>) | null, deps: ReadonlyArray<unknown>): Loaded<T> => {
  const [state, setState] = useState<Loaded<T>>({ value: null, error: null })
  useLayoutEffect(() => {
    if (load === null) return
    const ctl = new AbortController()
    setState((s) => (s.error === null ? s : { value: s.value, error: null }))
    load(ctl.signal).then(
      (value) => ctl.signal.aborted || setState({ value, error: null }),
      (e: unknown) => ctl.signal.aborted || setState((s) => ({ value: s.value, error: e instanceof Error ? e.message : String(e) }))
    )
    return () => ctl.abort()
  }, deps)
  return state
}
