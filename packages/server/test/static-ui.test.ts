/**
 * The UI's static files as the server answers them (static-ui.ts), on a real directory: the page
 * for any non-API path (deep links) carrying the request's session, hashed assets cached for good with their content types, API
 * paths left to their 404, no way out of the build directory, and a page saying how to build the UI
 * when there is none.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Hono } from "hono"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { mountUi } from "../src/static-ui.ts"

let root: string
let build: string
const INDEX = "<!doctype html><head><title>ui</title></head><script type=module src=/assets/app-1a2b.js></script>"
/** The page as served to a request whose session is `state`. */
const served = (state: { tokenRequired: boolean; signedIn: boolean }) =>
  INDEX.replace("</head>", `<meta name="runledger-session" content="${JSON.stringify(state).replaceAll('"', "&quot;")}" />\n  </head>`)

const appOver = (dir: string | undefined) => {
  const app = new Hono()
  app.get("/api/runledger/head", (c) => c.json({ position: 0 }))
  // A stand-in for the server's sessions: signed in when the request carries a cookie.
  mountUi(app, dir, (request) => ({ tokenRequired: true, signedIn: request.headers.has("cookie") }))
  app.notFound((c) => c.json({ error: { _tag: "NotFound" } }, 404))
  return app
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "runledger-static-ui-"))
  build = join(root, "dist")
  mkdirSync(join(build, "assets"), { recursive: true })
  writeFileSync(join(build, "index.html"), INDEX)
  writeFileSync(join(build, "assets", "app-1a2b.js"), "console.log(1)")
  writeFileSync(join(build, "assets", "app-1a2b.css"), "body{}")
  writeFileSync(join(root, "secret.txt"), "not served")
})

afterAll(() => rmSync(root, { recursive: true, force: true }))

describe("the web UI's static files", () => {
  it("answers the page for / and for any deep link, never cached", async () => {
    const app = appOver(build)
    for (const path of ["/", "/runs", "/runs/abc?tab=charts", "/models/classifier"]) {
      const res = await app.request(path)
      expect(res.status, path).toBe(200)
      expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8")
      expect(res.headers.get("cache-control")).toBe("no-cache")
      expect(await res.text()).toBe(served({ tokenRequired: true, signedIn: false }))
    }
    // Each request's own session: the page is never shared between browsers.
    expect(await (await app.request("/runs", { headers: { cookie: "runledger_session=x.y" } })).text()).toBe(served({ tokenRequired: true, signedIn: true }))
  })

  it("serves hashed assets with their types, cached for a year; a missing one is 404", async () => {
    const app = appOver(build)
    const js = await app.request("/assets/app-1a2b.js")
    expect(js.status).toBe(200)
    expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8")
    expect(js.headers.get("cache-control")).toBe("public, max-age=31536000, immutable")
    expect(await js.text()).toBe("console.log(1)")
    expect((await app.request("/assets/app-1a2b.css")).headers.get("content-type")).toBe("text/css; charset=utf-8")
    expect((await app.request("/assets/gone-0000.js")).status).toBe(404)
  })

  it("leaves API paths to the API (their routes and their 404), and never reads outside the build", async () => {
    const app = appOver(build)
    expect(await (await app.request("/api/runledger/head")).json()).toEqual({ position: 0 })
    const missing = await app.request("/api/runledger/nothing-here")
    expect(missing.status).toBe(404)
    expect(await missing.json()).toEqual({ error: { _tag: "NotFound" } })
    expect((await app.request("/ajax-api/2.0/mlflow/x")).status).toBe(404)
    for (const path of ["/%2e%2e/secret.txt", "/assets/%2e%2e/%2e%2e/secret.txt", "/..%2fsecret.txt"]) {
      const res = await app.request(path)
      expect(res.status, path).toBe(404)
      expect(await res.text()).not.toContain("not served")
    }
  })

  it("without a build, says how to make one (503), on every UI path", async () => {
    const app = appOver(undefined)
    for (const path of ["/", "/runs/abc", "/assets/app-1a2b.js"]) {
      const res = await app.request(path)
      expect(res.status, path).toBe(503)
      expect(await res.text()).toContain("pnpm@10 build")
    }
    expect((await app.request("/api/runledger/head")).status).toBe(200)
  })
})
