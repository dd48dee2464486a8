/**
 * The server's token check, and the web UI's sign-in against a server started with `--token`.
 *
 * A browser cannot put `Authorization: Bearer` on an `<img src>`, a download link or an
 * `EventSource`, so the UI signs in once: `POST /api/runledger/session` with the token (Bearer, or
 * `{"token": ...}`) answers a cookie, and every later request of the page, whatever made it,
 * carries that cookie. Clients (MLflow's, runledger's remote tracker, curl) keep sending Bearer.
 *
 * The cookie is never the token: it is `<id>.<mac>`, a random session id and its HMAC under a key
 * drawn when the server starts. A cookie stolen from a browser therefore gives no token to use
 * elsewhere, and dies with the process (a restart, or a restart with another token) or at sign-out
 * (its id is dropped from the table). The mac is checked in constant time before the id is looked
 * up, so the lookup's timing tells an attacker nothing about ids they did not get from us.
 *
 * Cross-site requests: a cookie rides along on any request the browser makes to this origin, so a
 * hostile page could make the signed-in browser send writes (CSRF). SameSite=Strict stops other
 * sites' pages, but not another port of the same host (http://localhost:8080 is the same *site* as
 * http://localhost:5000: ports do not count), which on a laptop or a shared box is exactly where
 * the hostile page would be. So an unsafe method (anything but GET/HEAD/OPTIONS) authenticated by
 * the cookie must also carry `X-Runledger-UI: 1`: a page of another origin cannot add a custom
 * header without a CORS preflight, which this server never grants, and an HTML form cannot add one
 * at all. GETs need no such header because a read never writes. (Checking Origin would also work,
 * but it breaks behind a proxy that rewrites Host, and old browsers omit it on same-origin POSTs.)
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto"
import { Schema } from "effect"
import type { Context, MiddlewareHandler } from "hono"
import { parse, serialize } from "hono/utils/cookie"
import { MlflowError } from "../mlflow/errors.ts"
import { type AnyRoute, route } from "./route.ts"

export const SESSION_PATH = "/api/runledger/session"
export const SESSION_COOKIE = "runledger_session"
/** The header the UI adds to every request: what an unsafe cookie-authenticated request needs. */
export const UI_HEADER = "x-runledger-ui"
/** A sign-in lasts this long (then the UI asks again), so a forgotten browser does not hold it forever. */
export const SESSION_TTL_MS = 7 * 24 * 3600_000
/** Sessions kept at most; past it the oldest goes first (a script signing in in a loop cannot grow memory without bound). */
export const MAX_SESSIONS = 10_000

/** Constant-time, whatever the lengths: both sides are hashed first. */
export const sameSecret = (given: string, expected: string): boolean =>
  timingSafeEqual(createHash("sha256").update(given).digest(), createHash("sha256").update(expected).digest())

/** The server's sessions: in memory only, so a restart signs every browser out. */
export class Sessions {
  private readonly key = randomBytes(32)
  /** id -> when it ends (epoch ms); a Map keeps insertion order, oldest first. */
  private readonly live = new Map<string, number>()
  private readonly now: () => number
  constructor(now: () => number = Date.now) {
    this.now = now
  }

  private mac(id: string): string {
    return createHmac("sha256", this.key).update(id).digest("base64url")
  }

  /** A new session: the cookie's value. */
  open(): string {
    const id = randomBytes(24).toString("base64url")
    while (this.live.size >= MAX_SESSIONS) this.live.delete(this.live.keys().next().value!)
    this.live.set(id, this.now() + SESSION_TTL_MS)
    return `${id}.${this.mac(id)}`
  }

  /** Whether a cookie's value is a live session of this process. */
  valid(value: string): boolean {
    const dot = value.indexOf(".")
    if (dot <= 0) return false
    const id = value.slice(0, dot)
    if (!sameSecret(value.slice(dot + 1), this.mac(id))) return false
    const ends = this.live.get(id)
    if (ends === undefined) return false
    if (ends <= this.now()) {
      this.live.delete(id)
      return false
    }
    return true
  }

  /** Sign out: the session is gone even if someone kept a copy of the cookie. */
  close(value: string): void {
    const dot = value.indexOf(".")
    if (dot > 0 && sameSecret(value.slice(dot + 1), this.mac(value.slice(0, dot)))) this.live.delete(value.slice(0, dot))
  }
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"])

const unauthenticated = (c: Context, message: string) => c.json(new MlflowError("UNAUTHENTICATED", message).toJSON(), 401)

/** The session cookie of a request, if it has one. */
const cookieOf = (request: Request): string | undefined => {
  const header = request.headers.get("cookie")
  return header === null ? undefined : parse(header, SESSION_COOKIE)[SESSION_COOKIE]
}

/** The Bearer token of a request: undefined without one, "" for a malformed header (refused as wrong). */
const bearerOf = (request: Request): string | undefined => {
  const header = request.headers.get("authorization")
  if (header === null) return undefined
  return header.startsWith("Bearer ") ? header.slice("Bearer ".length) : ""
}

/**
 * The check on every API path: a right Bearer token, or a live session cookie (plus the UI's
 * header on an unsafe method). A wrong Bearer is refused even beside a good cookie: an explicit
 * credential that is wrong is a mistake to report, not to paper over. `isPublic` names the paths
 * that need neither (the UI's static files, the session probe and sign-in).
 */
export const requireToken = (token: string, sessions: Sessions, isPublic: (c: Context) => boolean): MiddlewareHandler => async (c, next) => {
  if (isPublic(c)) return next()
  const given = bearerOf(c.req.raw)
  if (given !== undefined) {
    if (!sameSecret(given, token)) return unauthenticated(c, "The token is wrong.")
    return next()
  }
  const cookie = cookieOf(c.req.raw)
  if (cookie !== undefined && sessions.valid(cookie)) {
    if (!SAFE_METHODS.has(c.req.method) && c.req.header(UI_HEADER) !== "1") {
      return c.json(
        new MlflowError("PERMISSION_DENIED", `A ${c.req.method} signed in by the UI's cookie needs the header X-Runledger-UI: 1 (it keeps other pages from writing through your session); scripts send Authorization: Bearer <token> instead.`).toJSON(),
        403
      )
    }
    return next()
  }
  return unauthenticated(
    c,
    cookie === undefined
      ? "This server needs a token: send Authorization: Bearer <token> (MLflow: set MLFLOW_TRACKING_TOKEN), or sign in to the web UI."
      : "Your sign-in has ended (the server restarted, or you signed out): sign in again with the server's token."
  )
}

/** A sign-in body is a token in JSON: anything longer is no sign-in, and is not read on (the route needs no token to reach). */
export const MAX_SIGN_IN_BYTES = 16 * 1024

/** The body as text, or undefined once it passes `max` bytes (the rest is never read). */
const smallText = async (request: Request, max: number): Promise<string | undefined> => {
  if (request.body === null) return ""
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > max) {
      await reader.cancel()
      return undefined
    }
    chunks.push(value)
  }
  return Buffer.concat(chunks).toString("utf8")
}

/** The token a sign-in request offers: Bearer, else a JSON body's `token`. */
const offeredToken = async (request: Request): Promise<string | undefined> => {
  const given = bearerOf(request)
  if (given !== undefined) return given
  if (!(request.headers.get("content-type") ?? "").toLowerCase().startsWith("application/json")) return undefined
  const text = await smallText(request, MAX_SIGN_IN_BYTES)
  if (text === undefined) return undefined
  try {
    const body = JSON.parse(text) as unknown
    return typeof body === "object" && body !== null && typeof (body as { token?: unknown }).token === "string" ? (body as { token: string }).token : undefined
  } catch {
    return undefined
  }
}

/** `Secure` when the page came over HTTPS (directly, or through a proxy that says so). */
const secure = (request: Request): boolean => new URL(request.url).protocol === "https:" || request.headers.get("x-forwarded-proto") === "https"

const refusal = (status: number, tag: string, message: string, headers: Record<string, string> = {}): Response => Response.json({ error: { _tag: tag, message } }, { status, headers })

const SessionState = Schema.Struct({ tokenRequired: Schema.Boolean, signedIn: Schema.Boolean }).annotate({ identifier: "SessionState" })

/**
 * Whether this server needs a token, and whether `request` is signed in (by Bearer or the UI's
 * cookie): what `GET /api/runledger/session` answers, and what the UI's page carries (static-ui.ts).
 */
export const sessionState = (token: string | undefined, sessions: Sessions, request: Request): typeof SessionState.Type => {
  if (token === undefined) return { tokenRequired: false, signedIn: true }
  const given = bearerOf(request)
  const cookie = cookieOf(request)
  return { tokenRequired: true, signedIn: given !== undefined ? sameSecret(given, token) : cookie !== undefined && sessions.valid(cookie) }
}
/** POST and DELETE write their cookie header themselves: their answer is described, not encoded. */
const signedIn = (what: string) => ({ contentType: "application/json", description: `{"signedIn": boolean}, with ${what}.` })

/**
 * The session routes, as native routes (so /api/openapi.json lists them):
 * - `GET` says whether this server needs a token and whether this browser is signed in. It never
 *   answers 401, so the UI's first probe leaves no failed request in the console.
 * - `POST` signs in: 200 and the cookie for the right token; 401, and no cookie, otherwise.
 * - `DELETE` signs out: the session is closed and the cookie cleared.
 */
export const sessionRoutes = (token: string | undefined, sessions: Sessions): ReadonlyArray<AnyRoute> => [
  route({
    method: "GET",
    path: SESSION_PATH,
    summary: "Whether this server needs a token, and whether this request is signed in (by Bearer or the UI's session cookie). Never 401.",
    response: SessionState,
    handle: async ({ request }) => sessionState(token, sessions, request)
  }),
  route({
    method: "POST",
    path: SESSION_PATH,
    summary: `Sign in with the server's token (Authorization: Bearer <token>, or a JSON body {"token": "..."}): answers an HttpOnly, SameSite=Strict session cookie (not the token); 401 and no cookie for a wrong or missing token.`,
    response: signedIn("the session cookie in Set-Cookie"),
    handle: async ({ request }) => {
      if (token === undefined) return refusal(400, "InvalidInput", "This server was started without --token: there is nothing to sign in to.")
      const given = await offeredToken(request)
      if (given === undefined) return refusal(401, "Unauthenticated", `Send the server's token: Authorization: Bearer <token>, or a JSON body {"token": "..."}.`)
      if (!sameSecret(given, token)) return refusal(401, "Unauthenticated", "That token is wrong: use the one the server was started with (--token or $RUNLEDGER_TOKEN).")
      const cookie = serialize(SESSION_COOKIE, sessions.open(), { httpOnly: true, sameSite: "Strict", path: "/", secure: secure(request), maxAge: SESSION_TTL_MS / 1000 })
      return Response.json({ signedIn: true }, { headers: { "set-cookie": cookie } })
    }
  }),
  route({
    method: "DELETE",
    path: SESSION_PATH,
    summary: "Sign out: the session ends (a copy of its cookie is refused from now on) and the cookie is cleared. Needs X-Runledger-UI: 1.",
    response: signedIn("Set-Cookie clearing the session cookie"),
    handle: async ({ request }) => {
      // Signing out is cookie-authenticated and unsafe: the same cross-site rule as any other write.
      if (request.headers.get(UI_HEADER) !== "1") return refusal(403, "Forbidden", "Sign out from the UI (it sends X-Runledger-UI: 1).")
      const cookie = cookieOf(request)
      if (cookie !== undefined) sessions.close(cookie)
      const cleared = serialize(SESSION_COOKIE, "", { httpOnly: true, sameSite: "Strict", path: "/", secure: secure(request), maxAge: 0 })
      return Response.json({ signedIn: false }, { headers: { "set-cookie": cleared } })
    }
  })
]
