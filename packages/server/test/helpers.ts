/**
 * The server tests' harness: a real `runledger server` child process on loopback over a real store
 * in a temp dir (the CLI's e2e harness spawns it), and plain fetch calls in MLflow's shape.
 */
import type { ChildProcess } from "node:child_process"
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
