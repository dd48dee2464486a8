/** Real `runledger server` processes for the remote-client tests, restartable on the same port. */
import type { ChildProcess } from "node:child_process"
import { createInterface } from "node:readline"
import { afterEach } from "vitest"
import { startCli } from "../../packages/cli/test/harness.ts"

export interface Served {
  readonly url: string
  readonly port: number
  readonly child: ChildProcess
  stop(signal?: NodeJS.Signals): Promise<void>
}

const children: ChildProcess[] = []
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL")
})

/** `runledger server --dir DIR --port PORT`, resolved once it prints its URL. */
export const serve = (dir: string, port = 0): Promise<Served> =>
  new Promise((resolve, reject) => {
    const child = startCli(["server", "--dir", dir, "--port", String(port)])
    children.push(child)
    let stderr = ""
    child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s))
    const exited = new Promise<void>((r) => child.once("exit", () => r()))
    void exited.then(() => reject(new Error(`the server exited before it was ready: ${stderr}`)))
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const m = /listening on (http:\/\/\S+)/.exec(line)
      if (m === null) return
      resolve({
        url: m[1],
        port: Number(new URL(m[1]).port),
        child,
        stop: async (signal = "SIGTERM") => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal)
          await exited
        }
      })
    })
  })

