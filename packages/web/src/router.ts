/**
 * The UI's routes are plain paths (/, /runs, /runs/<id>, /compare, /models, /models/<name>), and a
 * view's state lives in the query string, so any view is a link that can be shared. The server
 * answers every non-API GET with index.html, so a deep link opens the right page.
 */
import { useEffect, useState } from "preact/hooks"

export interface Location {
  readonly path: string
  readonly query: URLSearchParams
}

const current = (): Location => ({ path: window.location.pathname, query: new URLSearchParams(window.location.search) })
const listeners = new Set<() => void>()

/** Go to `href` (a path with its query); `replace` keeps the history entry (typing in a filter). */
export const navigate = (href: string, replace = false): void => {
  if (href === window.location.pathname + window.location.search) return
  if (replace) window.history.replaceState(null, "", href)
  else window.history.pushState(null, "", href)
  for (const l of listeners) l()
}

window.addEventListener("popstate", () => {
  for (const l of listeners) l()
})

export const useLocation = (): Location => {
  const [loc, setLoc] = useState(current)
  useEffect(() => {
    const l = () => setLoc(current())
    listeners.add(l)
    return () => void listeners.delete(l)
  }, [])
  return loc
}

/** A path with a query of the non-empty values. */
export const href = (path: string, params: Readonly<Record<string, string | undefined>>): string => {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") q.set(k, v)
  const s = q.toString()
  return s === "" ? path : `${path}?${s}`
}

/** A click on an in-app link: navigated here, unless the user asked for a new tab or window. */
export const onLinkClick = (e: MouseEvent): void => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return
  const a = (e.target as Element | null)?.closest?.("a")
  if (!a || a.target || a.hasAttribute("download")) return
  const url = new URL(a.href, window.location.href)
  if (url.origin !== window.location.origin || url.pathname.startsWith("/api/")) return
  e.preventDefault()
  navigate(url.pathname + url.search)
}
