/**
 * The web UI at `/`: the static build of @runledger/web (Vite's dist), found when the server starts.
 * Hashed files under /assets/ are cached for a year (their names change with their bytes);
 * index.html answers every other GET that is not an API path, so a deep link (/runs/<id>?tab=charts)
 * opens its page; API paths keep their JSON 404. Without a build, every UI path answers a page that
 * says how to build it.
 */
import { existsSync } from "node:fs"
import { readFile } from "node:fs/promises"
import { createRequire } from "node:module"
import { dirname, extname, join, resolve, sep } from "node:path"
import { fileURLToPath } from "node:url"
import type { Context, Env, Hono } from "hono"

const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".txt": "text/plain; charset=utf-8",
  ".woff2": "font/woff2"
}

/** Paths that belong to an API: never answered with the UI's page. */
export const API_PATH = /^\/(api|ajax-api)(\/|$)/

/**
 * Where the built UI is: beside this module as `ui/` (the published CLI bundles the server into its
 * dist/ and copies the build next to it), else @runledger/web's dist/ in a checkout. undefined when
 * neither holds an index.html.
 */
export const findUi = (): string | undefined => {
  const candidates = [fileURLToPath(new URL("./ui/", import.meta.url))]
  try {
    candidates.push(join(dirname(createRequire(import.meta.url).resolve("@runledger/web/package.json")), "dist"))
  } catch {
    // Not installed beside the server (a published bundle): the first candidate is the one.
  }
  return candidates.find((dir) => existsSync(join(dir, "index.html")))
}

const NOT_BUILT = `<!doctype html><html lang="en"><meta charset="utf-8"><title>runledger: the UI is not built</title>
<body style="font-family: system-ui, sans-serif; max-width: 42rem; margin: 3rem auto; line-height: 1.5">
<h1>The web UI is not built</h1>
<p>This server answers its APIs (MLflow's under <code>/api/2.0/mlflow</code>, runledger's under <code>/api/runledger</code>),
but it found no build of the UI (<code>@runledger/web</code>'s <code>dist/</code>).</p>
<p>In the checkout, run <code>npx -y pnpm@10 build</code> (or <code>npx -y pnpm@10 --filter @runledger/web build</code>), then start the server again.</p>
</body></html>`

/** The meta tag the UI reads its session from (web's main.tsx), for `GET /api/runledger/session`'s answer. */
export const SESSION_META = "runledger-session"

const attribute = (text: string) => text.replaceAll("&", "&amp;").replaceAll('"', "&quot;").replaceAll("<", "&lt;")

/**
 * Mount the UI's GET handler: last, after every API route. The page carries `session(request)`,
 * what the session probe would answer, so the UI renders its page, and asks for its data, without
 * a round trip first (a first visit's data left 100-250 ms later with the probe).
 */
export const mountUi = <E extends Env>(app: Hono<E>, dir: string | undefined, session: (request: Request) => { readonly tokenRequired: boolean; readonly signedIn: boolean }): void => {
  const root = dir === undefined ? undefined : resolve(dir)
  let index: Promise<string> | undefined
  const page = (c: Context<E>) => {
    index ??= readFile(join(root!, "index.html"), "utf8")
    // The page itself is never cached: it names the hashed assets of the current build, and it
    // carries this request's session.
    return index.then((html) => {
      const meta = `<meta name="${SESSION_META}" content="${attribute(JSON.stringify(session(c.req.raw)))}" />`
      return c.body(html.replace("</head>", `${meta}\n  </head>`), 200, { "content-type": TYPES[".html"], "cache-control": "no-cache" })
    })
  }
  app.get("*", async (c) => {
    const path = c.req.path
    if (API_PATH.test(path)) return c.notFound()
    if (root === undefined) return c.html(NOT_BUILT, 503)
    const ext = extname(path)
    if (ext !== "" && ext !== ".html") {
      // A file of the build: inside its directory only (a `..` cannot climb out of it).
      let rel: string
      try {
        rel = decodeURIComponent(path)
      } catch {
        return c.text("Bad path.", 400)
      }
      const file = resolve(root, `.${rel}`)
      if (!file.startsWith(root + sep)) return c.text("Not found.", 404)
      let bytes: Buffer
      try {
        bytes = await readFile(file)
      } catch {
        return c.text(`No file ${path} in the UI's build.`, 404)
      }
      return c.body(new Uint8Array(bytes), 200, {
        "content-type": TYPES[ext] ?? "application/octet-stream",
        "cache-control": path.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "no-cache",
        "x-content-type-options": "nosniff"
      })
    }
    return page(c)
  })
}
