/**
 * The server tests' harness: a real `runledger server` child process on loopback over a real store
 * in a temp dir (the CLI's e2e harness spawns it), and plain fetch calls in MLflow's shape.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { createInterface } from "node:readline"
import { freshRoot, startCli } from "../../cli/test/harness.ts"

export { cli, freshRoot } from "../../cli/test/harness.ts"

export interface ServerProcess {
  readonly url: string
  readonly child: ChildProcess
  /** Everything the server wrote on stderr so far. */
  stderr(): string
  /** SIGTERM, then the exit status. */
  stop(): Promise<{ readonly status: number | null; readonly signal: NodeJS.Signals | null }>
}

/** `runledger server --dir DIR --port 0 ...args`, resolved once it prints its URL. */
export const startServerProcess = (dir: string, args: ReadonlyArray<string> = [], env: Record<string, string | undefined> = {}): Promise<ServerProcess> =>
  new Promise((resolve, reject) => {
    const child = startCli(["server", "--dir", dir, "--port", "0", ...args], { env })
    let stderr = ""
    child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s))
    const exited = new Promise<{ status: number | null; signal: NodeJS.Signals | null }>((r) => child.once("exit", (status, signal) => r({ status, signal })))
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`the server did not print its URL within 30 s; stderr: ${stderr}`))
    }, 30_000)
    void exited.then((e) => {
      clearTimeout(timer)
      reject(new Error(`the server exited (${e.status ?? e.signal}) before it was ready; stderr: ${stderr}`))
    })
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const m = /listening on (http:\/\/\S+)/.exec(line)
      if (m === null) return
      clearTimeout(timer)
      resolve({
        url: m[1],
        child,
        stderr: () => stderr,
        stop: () => {
          if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM")
          return exited
        }
      })
    })
  })

export const storeDir = (): string => `${freshRoot()}/store`

export interface Reply {
  readonly status: number
  readonly json: Record<string, unknown>
}

/** One MLflow call: GET with query parameters (repeated for lists), else a JSON body. */
export const mlflow = async (
  url: string,
  method: string,
  endpoint: string,
  body: Record<string, unknown> = {},
  headers: Record<string, string> = {}
): Promise<Reply> => {
  let target = `${url}/api/2.0/mlflow/${endpoint}`
  const init: RequestInit = { method, headers: { ...headers } }
  if (method === "GET") {
    const q = new URLSearchParams()
    for (const [k, v] of Object.entries(body)) for (const x of Array.isArray(v) ? v : [v]) q.append(k, String(x))
    target += `?${q}`
  } else {
    init.body = JSON.stringify(body)
    init.headers = { "content-type": "application/json", ...headers }
  }
  const res = await fetch(target, init)
  const text = await res.text()
  return { status: res.status, json: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>) }
}

/** One request of a fixture: MLflow's body, the answer MLflow's server gives, ids to keep for later steps. */
export interface Step {
  readonly call: string
  readonly method: string
  readonly endpoint: string
  readonly body?: Record<string, unknown>
  readonly text?: string
  readonly expect: { readonly status: number; readonly error_code?: string }
  readonly save?: Record<string, string>
}

export interface Replayed {
  readonly step: Step
  readonly status: number
  readonly json: Record<string, unknown>
}

export const steps = (fixture: string): ReadonlyArray<Step> =>
  (JSON.parse(readFileSync(join(import.meta.dirname, "fixtures", fixture), "utf8")) as { readonly steps: ReadonlyArray<Step> }).steps

const substitute = (value: unknown, vars: Record<string, string>): unknown =>
  typeof value === "string"
    ? value.replace(/\$\{(\w+)\}/g, (_, name: string) => vars[name] ?? `\${${name}}`)
    : Array.isArray(value)
    ? value.map((v) => substitute(v, vars))
    : typeof value === "object" && value !== null
    ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, vars)]))
    : value

const at = (json: unknown, path: string): unknown => path.split(".").reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], json)

/**
 * Send a fixture's requests in order, `${NAME}` replaced by what earlier answers gave (a step's
 * `save`). An endpoint `mlflow-artifacts:<path>` goes to the artifact proxy with `text` as the body.
 */
export const replay = async (url: string, list: ReadonlyArray<Step>): Promise<{ vars: Record<string, string>; replies: ReadonlyArray<Replayed> }> => {
  const vars: Record<string, string> = {}
  const replies: Replayed[] = []
  for (const raw of list) {
    const step = substitute(raw, vars) as Step
    let reply: Reply
    if (step.endpoint.startsWith("mlflow-artifacts:")) {
      const res = await fetch(`${url}/api/2.0/mlflow-artifacts/artifacts/${step.endpoint.slice("mlflow-artifacts:".length)}`, { method: step.method, body: step.text, headers: { "content-type": "text/plain" } })
      reply = { status: res.status, json: (await res.json()) as Record<string, unknown> }
    } else {
      reply = await mlflow(url, step.method, step.endpoint, step.body)
    }
    replies.push({ step: raw, status: reply.status, json: reply.json })
    for (const [name, path] of Object.entries(step.save ?? {})) {
      const v = at(reply.json, path)
      if (typeof v === "string") vars[name] = v
    }
  }
  return { vars, replies }
}

/** A Python script (standard library only) run to its end: its exit status and output. */
export const python = (script: string, env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn("python3", [script], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s))
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s))
    child.on("error", reject)
    child.on("close", (status) => resolve({ status, stdout, stderr }))
  })
