/** The UI's entry: a header with the sections, and the page the path names. */
import { render } from "preact"
import "uplot/dist/uPlot.min.css"
import "./style.css"
import { Compare } from "./pages/Compare.tsx"
import { Experiments } from "./pages/Experiments.tsx"
import { Model, Models } from "./pages/Registry.tsx"
import { Run } from "./pages/Run.tsx"
import { Runs } from "./pages/Runs.tsx"
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

function App() {
  const loc = useLocation()
  const section = loc.path.startsWith("/models") ? "models" : loc.path.startsWith("/runs") || loc.path.startsWith("/compare") ? "runs" : "experiments"
  return (
    <div onClick={(e) => onLinkClick(e as unknown as MouseEvent)}>
      <header class="top">
        <a href="/" class="brand">runledger</a>
        <nav aria-label="Sections">
          <a href="/" aria-current={section === "experiments" ? "page" : undefined}>Experiments</a>
          <a href="/runs" aria-current={section === "runs" ? "page" : undefined}>Runs</a>
          <a href="/models" aria-current={section === "models" ? "page" : undefined}>Models</a>
        </nav>
      </header>
      <main>
        <Page loc={loc} />
      </main>
    </div>
  )
}

render(<App />, document.getElementById("app")!)
