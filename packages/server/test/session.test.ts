/**
 * The web UI's sign-in against a server with a token (native/session.ts), on real servers on
 * loopback: the cookie is issued only for the right token and is not the token; it opens GETs and
 * the SSE tail; an unsafe request signed in by it needs the UI's header (what keeps another
 * origin's page from writing through it); signing out ends it; a cookie of another server (another
 * token, another process key) is refused; MLflow's Bearer keeps working.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { MAX_SESSIONS, MAX_SIGN_IN_BYTES, SESSION_TTL_MS, Sessions } from "../src/native/session.ts"
import { type RunningServer, startServer } from "../src/index.ts"

const TOKEN = "correct horse battery staple"
const root = mkdtempSync(join(tmpdir(), "runledger-session-"))
let server: RunningServer
let other: RunningServer
beforeAll(async () => {
  server = await startServer({ dir: join(root, "a"), port: 0, token: TOKEN })
  other = await startServer({ dir: join(root, "b"), port: 0, token: "another token" })
})
afterAll(async () => {
  await server?.close()
  await other?.close()
  rmSync(root, { recursive: true, force: true })
})

const signIn = (url: string, init: RequestInit) => fetch(`${url}/api/runledger/session`, { method: "POST", ...init })
/** The `name=value` part of a Set-Cookie, as a browser would send it back. */
const cookieOf = (res: Response): string => {
  const set = res.headers.getSetCookie()
  expect(set).toHaveLength(1)
  return set[0].split(";")[0]
}
const signedIn = async (url: string, token: string) => cookieOf(await signIn(url, { headers: { authorization: `Bearer ${token}` } }))
const experimentNames = async (cookie: string): Promise<string[]> => {
  const res = await fetch(`${server.url}/api/runledger/experiments?viewType=all`, { headers: { cookie } })
  expect(res.status).toBe(200)
  return ((await res.json()) as { experiments: Array<{ name: string }> }).experiments.map((e) => e.name)
}
const create = (name: string, headers: Record<string, string>) =>
  fetch(`${server.url}/api/2.0/mlflow/experiments/create`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ name }) })

describe("signing in to the UI with the server's token", () => {
  it("the session routes are in the OpenAPI document", async () => {
    const doc = (await (await fetch(`${server.url}/api/openapi.json`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { paths: Record<string, Record<string, unknown>> }
    expect(Object.keys(doc.paths["/api/runledger/session"]).sort()).toEqual(["delete", "get", "post"])
  })

  it("the probe never answers 401: it says a token is needed and whether this browser is signed in", async () => {
    const res = await fetch(`${server.url}/api/runledger/session`)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ tokenRequired: true, signedIn: false })
    const cookie = await signedIn(server.url, TOKEN)
    expect(await (await fetch(`${server.url}/api/runledger/session`, { headers: { cookie } })).json()).toEqual({ tokenRequired: true, signedIn: true })
  })

  it("the UI's page loads without a token (it must, to show its sign-in); the API and /health do not", async () => {
    const page = await fetch(`${server.url}/runs?exp=x`)
    expect(page.status).toBe(200)
    expect(page.headers.get("content-type")).toContain("text/html")
    expect((await fetch(`${server.url}/api/runledger/experiments`)).status).toBe(401)
    expect((await fetch(`${server.url}/health`)).status).toBe(401)
  })

  it("a wrong token, or none, is 401 and sets no cookie; the right one (Bearer or JSON body) sets an HttpOnly, SameSite=Strict cookie that is not the token", async () => {
    const wrong: ReadonlyArray<RequestInit> = [
      { headers: { authorization: "Bearer correct horse battery stapl" } },
      { headers: { "content-type": "application/json" }, body: JSON.stringify({ token: "nope" }) },
      { headers: { "content-type": "application/json" }, body: "{" },
      // A body past the limit is not read on, whatever it holds.
      { headers: { "content-type": "application/json" }, body: JSON.stringify({ token: TOKEN, pad: "x".repeat(MAX_SIGN_IN_BYTES) }) },
      {}
    ]
    for (const init of wrong) {
      const res = await signIn(server.url, init)
      expect(res.status).toBe(401)
      expect(res.headers.getSetCookie()).toEqual([])
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/token/)
    }
    const right: ReadonlyArray<RequestInit> = [{ headers: { authorization: `Bearer ${TOKEN}` } }, { headers: { "content-type": "application/json" }, body: JSON.stringify({ token: TOKEN }) }]
    for (const init of right) {
      const res = await signIn(server.url, init)
      expect(res.status).toBe(200)
      const [set] = res.headers.getSetCookie()
      expect(set).toMatch(/^runledger_session=[^;]+;/)
      expect(set).toMatch(/; HttpOnly/)
      expect(set).toMatch(/; SameSite=Strict/)
      expect(set).toMatch(/; Path=\//)
      expect(decodeURIComponent(set)).not.toContain(TOKEN)
    }
  })

  it("the cookie opens GETs, an artifact's bytes and the SSE live tail; without it they are 401", async () => {
    const cookie = await signedIn(server.url, TOKEN)
    expect(await experimentNames(cookie)).toContain("Default")
    const ac = new AbortController()
    const tail = await fetch(`${server.url}/api/runledger/events?from=0`, { headers: { cookie, accept: "text/event-stream" }, signal: ac.signal })
    expect(tail.status).toBe(200)
    expect(tail.headers.get("content-type")).toBe("text/event-stream")
    ac.abort()
    await tail.body?.cancel().catch(() => undefined)
    expect((await fetch(`${server.url}/api/runledger/events?from=0`, { headers: { accept: "text/event-stream" } })).status).toBe(401)
    // An artifact logged by a client with the Bearer token, read back by the cookie (an <img src>).
    const created = await create("with-artifact", { authorization: `Bearer ${TOKEN}` })
    const experimentId = ((await created.json()) as { experiment_id: string }).experiment_id
    const run = await fetch(`${server.url}/api/2.0/mlflow/runs/create`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` }, body: JSON.stringify({ experiment_id: experimentId }) })
    const runId = ((await run.json()) as { run: { info: { run_id: string } } }).run.info.run_id
    const put = await fetch(`${server.url}/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${runId}/artifacts/pic.txt`, { method: "PUT", headers: { authorization: `Bearer ${TOKEN}`, "content-type": "text/plain" }, body: "pixels" })
    expect(put.status).toBe(200)
    const bytes = await fetch(`${server.url}/api/runledger/runs/${runId}/artifacts/pic.txt`, { headers: { cookie } })
    expect(bytes.status).toBe(200)
    expect(await bytes.text()).toBe("pixels")
    expect((await fetch(`${server.url}/api/runledger/runs/${runId}/artifacts/pic.txt`)).status).toBe(401)
  })

  it("an unsafe request signed in by the cookie without the UI's header is refused and changes nothing; with it, served", async () => {
    const cookie = await signedIn(server.url, TOKEN)
    const refused = await create("cross-site", { cookie })
    expect(refused.status).toBe(403)
    expect(((await refused.json()) as { message: string }).message).toMatch(/X-Runledger-UI: 1/)
    expect(await experimentNames(cookie)).not.toContain("cross-site")
    // A cross-site sign-out (an <img> or form pointing at DELETE is impossible, but a fetch without the header) is refused too.
    expect((await fetch(`${server.url}/api/runledger/session`, { method: "DELETE", headers: { cookie } })).status).toBe(403)
    expect(await experimentNames(cookie)).toContain("Default")
    const served = await create("from-the-ui", { cookie, "x-runledger-ui": "1" })
    expect(served.status).toBe(200)
    expect(await experimentNames(cookie)).toContain("from-the-ui")
  })

  it("signing out clears the cookie and ends the session, even for a copy of the cookie kept elsewhere", async () => {
    const cookie = await signedIn(server.url, TOKEN)
    expect(await experimentNames(cookie)).toContain("Default")
    const out = await fetch(`${server.url}/api/runledger/session`, { method: "DELETE", headers: { cookie, "x-runledger-ui": "1" } })
    expect(out.status).toBe(200)
    const [cleared] = out.headers.getSetCookie()
    expect(cleared).toMatch(/^runledger_session=;/)
    expect(cleared).toMatch(/Max-Age=0/)
    const after = await fetch(`${server.url}/api/runledger/experiments`, { headers: { cookie } })
    expect(after.status).toBe(401)
    expect(((await after.json()) as { message: string }).message).toMatch(/sign in again/)
  })

  it("a cookie from a server with another token is refused", async () => {
    const foreign = await signedIn(other.url, "another token")
    expect((await fetch(`${other.url}/api/runledger/experiments`, { headers: { cookie: foreign } })).status).toBe(200)
    expect((await fetch(`${server.url}/api/runledger/experiments`, { headers: { cookie: foreign } })).status).toBe(401)
    // Nor does this server's token open the other one.
    expect((await signIn(other.url, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(401)
  })

  it("MLflow's clients keep using Bearer; a wrong Bearer is refused even beside a good cookie", async () => {
    const cookie = await signedIn(server.url, TOKEN)
    expect((await fetch(`${server.url}/api/2.0/mlflow/experiments/search?max_results=10`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200)
    expect((await create("by-bearer", { authorization: `Bearer ${TOKEN}` })).status).toBe(200)
    const wrong = await fetch(`${server.url}/api/runledger/experiments`, { headers: { cookie, authorization: "Bearer nope" } })
    expect(wrong.status).toBe(401)
  })
})

describe("without a token", () => {
  let open: RunningServer
  beforeAll(async () => {
    open = await startServer({ dir: join(root, "c"), port: 0 })
  })
  afterAll(async () => {
    await open?.close()
  })
  it("the probe says no sign-in is needed, and signing in is refused as pointless", async () => {
    expect(await (await fetch(`${open.url}/api/runledger/session`)).json()).toEqual({ tokenRequired: false, signedIn: true })
    const res = await signIn(open.url, { headers: { authorization: "Bearer x" } })
    expect(res.status).toBe(400)
    expect(res.headers.getSetCookie()).toEqual([])
  })
})

describe("Sessions", () => {
  it("accepts exactly the values it issued and has not closed or outlived; anything else is refused", () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 1, maxLength: 20 }), fc.string(), (closeIt, junk) => {
        let now = 1_000
        const sessions = new Sessions(() => now)
        const issued = closeIt.map(() => sessions.open())
        issued.forEach((v, i) => closeIt[i] && sessions.close(v))
        issued.forEach((v, i) => expect(sessions.valid(v)).toBe(!closeIt[i]))
        expect(sessions.valid(junk)).toBe(false)
        // A forged mac on a real id, and a real id alone, are refused.
        const [id] = issued[0].split(".")
        expect(sessions.valid(`${id}.${junk}`)).toBe(false)
        expect(sessions.valid(id)).toBe(false)
        // Another process's key: the same shape, never valid here.
        expect(sessions.valid(new Sessions(() => now).open())).toBe(false)
        now += SESSION_TTL_MS
        issued.forEach((v) => expect(sessions.valid(v)).toBe(false))
      }),
      { numRuns: 50 }
    )
  })

  it("keeps at most MAX_SESSIONS, dropping the oldest", () => {
    const sessions = new Sessions()
    const first = sessions.open()
    let last = first
    for (let i = 0; i < MAX_SESSIONS; i++) last = sessions.open()
    expect(sessions.valid(first)).toBe(false)
    expect(sessions.valid(last)).toBe(true)
  })
})
