/**
 * The UI's entry: a header with the sections, and the page the path names; against a server with a
 * token, the sign-in page first (and again whenever the server answers 401).
 */
import { render } from "preact"
import { useLayoutEffect, useState } from "preact/hooks"
import "uplot/dist/uPlot.min.css"
import "./style.css"
import { Compare } from "./pages/Compare.tsx"
import { Experiments } from "./pages/Experiments.tsx"
import { Model, Models } from "./pages/Registry.tsx"
import { Run } from "./pages/Run.tsx"
import { Runs } from "./pages/Runs.tsx"
import { SignIn } from "./pages/SignIn.tsx"
import { onSignedOut, session } from "./api/client.ts"
import { type Location, onLinkClick, useLocation } from "./router.ts"

function Page({ loc }: { readonly loc: Location }) {
  const p = loc.path.replace(/\/+$/, "") || "/"
  if (p === "/") return <Experiments loc={loc} />
  if (p === "/runs") return <Runs loc={loc} />
  if (p.startsWith("/runs/")) return <Run key={p} id={decodeURIComponent(p.slice("/runs/".length))} loc={loc} />
  if (p === "/compare") return <Compare loc={loc} />
  if (p === "/models") return <Models loc={loc} />
  if (p.startsWith("/models/")) return <Model key={p} name={decodeURIComponent(p.slice("/models/".length))} loc={loc} />
  return (
    <section>
      <h1>Not found</h1>
      <p>There is no page at {loc.path}. <a href="/">Experiments</a></p>
    </section>
  )
}

/** Where the sign-in stands: needed (with why, when a sign-in ended), done, or the server did not answer. */
type Auth = { readonly state: "signin"; readonly notice: string | null } | { readonly state: "in"; readonly tokenRequired: boolean } | { readonly state: "error"; readonly message: string }

const authOf = (s: { readonly tokenRequired: boolean; readonly signedIn: boolean }): Auth =>
  s.tokenRequired && !s.signedIn ? { state: "signin", notice: null } : { state: "in", tokenRequired: s.tokenRequired }

/** Ask the server whether a sign-in is needed. The probe never answers 401, so a first visit shows the sign-in without a failed request. */
const askSession = (): Promise<Auth> => session.probe().then(authOf, (e: Error): Auth => ({ state: "error", message: `The server did not answer: ${e.message}` }))

function App({ initial }: { readonly initial: Auth }) {
  const loc = useLocation()
  const [auth, setAuth] = useState<Auth>(initial)
  const probe = () => askSession().then(setAuth)
  // In the same commit as the pages' first requests (sent from layout effects), so no 401 can come before it.
  useLayoutEffect(() => onSignedOut((message) => setAuth({ state: "signin", notice: message })), [])
  const signOut = () => session.signOut().then(() => setAuth({ state: "signin", notice: "Signed out." }), (e: Error) => setAuth({ state: "error", message: e.message }))
  const section = loc.path.startsWith("/models") ? "models" : loc.path.startsWith("/runs") || loc.path.startsWith("/compare") ? "runs" : "experiments"
  return (
    <div onClick={(e) => onLinkClick(e as unknown as MouseEvent)}>
      <header class="top">
        <a href="/" class="brand">runledger</a>
        {auth.state === "in" ? (
          <nav aria-label="Sections">
            <a href="/" aria-current={section === "experiments" ? "page" : undefined}>Experiments</a>
            <a href="/runs" aria-current={section === "runs" ? "page" : undefined}>Runs</a>
            <a href="/models" aria-current={section === "models" ? "page" : undefined}>Models</a>
          </nav>
        ) : null}
        {auth.state === "in" && auth.tokenRequired ? <button type="button" class="signout" onClick={() => void signOut()}>Sign out</button> : null}
      </header>
      <main>
        {auth.state === "in" ? (
          <Page loc={loc} />
        ) : auth.state === "signin" ? (
          <SignIn notice={auth.notice} onSignedIn={() => void probe()} />
        ) : (
          <p class="error" role="alert">{auth.message}</p>
        )}
      </main>
    </div>
  )
}

/**
 * The session as the server put it in the page (its static-ui.ts), so the page renders, and asks for
 * its data, at once; undefined when the page came from elsewhere (Vite's dev server), which asks.
 */
const sessionInPage = (): Auth | undefined => {
  const content = document.querySelector<HTMLMetaElement>('meta[name="runledger-session"]')?.content
  if (content === undefined) return undefined
  try {
    const s = JSON.parse(content) as { tokenRequired?: unknown; signedIn?: unknown }
    return typeof s.tokenRequired === "boolean" && typeof s.signedIn === "boolean" ? authOf({ tokenRequired: s.tokenRequired, signedIn: s.signedIn }) : undefined
  } catch {
    return undefined
  }
}

// Rendered first as an empty shell that then asked the server, a first visit's requests waited for
// that shell's paint and the probe's round trip (100-250 ms in headless Chromium here).
const inPage = sessionInPage()
const start = (auth: Auth) => render(<App initial={auth} />, document.getElementById("app")!)
if (inPage !== undefined) start(inPage)
else void askSession().then(start)
