/**
 * A value loaded from the server: loaded again when `deps` change (another run, another moment),
 * and refreshed when `refresh` changes (a live event, an action on the page).
 *
 * Answers can arrive out of order (two refreshes after two quick registry actions), and an older
 * one must never overwrite a newer:
 * - a change of `deps` aborts the loads of the old ones, whose answers are then dropped;
 * - a refresh leaves the load in flight alone (a run logging faster than the server answers would
 *   otherwise never show an answer), and an answer older than the one shown is dropped.
 * The last value stays shown while the next loads (a live page refreshes without flashing "Loading…").
 *
 * Layout effects: the request leaves as the page is put in place, not after its first paint.
 * `load` null: nothing to load (yet).
 */
import { useLayoutEffect, useRef, useState } from "preact/hooks"

export interface Loaded<T> {
  readonly value: T | null
  readonly error: string | null
}

export const useLoad = <T>(load: ((signal: AbortSignal) => Promise<T>) | null, deps: ReadonlyArray<unknown>, refresh: unknown = 0): Loaded<T> => {
  const [state, setState] = useState<Loaded<T>>({ value: null, error: null })
  const scope = useRef<AbortController | null>(null)
  const order = useRef({ started: 0, shown: 0 })
  // Declared first, so it runs first: the loads below take the new scope's signal.
  useLayoutEffect(() => {
    const ctl = new AbortController()
    scope.current = ctl
    return () => ctl.abort()
  }, deps)
  useLayoutEffect(() => {
    if (load === null) return
    const { signal } = scope.current!
    const n = ++order.current.started
    const show = (next: (s: Loaded<T>) => Loaded<T>) => {
      if (signal.aborted || n < order.current.shown) return
      order.current.shown = n
      setState(next)
    }
    setState((s) => (s.error === null ? s : { value: s.value, error: null }))
    load(signal).then(
      (value) => show(() => ({ value, error: null })),
      (e: unknown) => show((s) => ({ value: s.value, error: e instanceof Error ? e.message : String(e) }))
    )
  }, [...deps, refresh])
  return state
}
