/**
 * The system's light or dark setting, followed as it changes. Charts read the theme's colours (CSS
 * variables) when they draw, onto a canvas that CSS does not reach: a chart drawn in one scheme
 * is drawn again when the system switches to the other.
 */
import { useEffect, useState } from "preact/hooks"

const DARK = "(prefers-color-scheme: dark)"

export function useColorScheme(): "light" | "dark" {
  const [dark, setDark] = useState(() => matchMedia(DARK).matches)
  useEffect(() => {
    const query = matchMedia(DARK)
    const changed = () => setDark(query.matches)
    query.addEventListener("change", changed)
    return () => query.removeEventListener("change", changed)
  }, [])
  return dark ? "dark" : "light"
}
