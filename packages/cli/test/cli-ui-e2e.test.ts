/**
 * `runledger ui` as a user runs it: the process prints the URL to open, that URL answers the web
 * UI's page (and a deep link the same page, the API beside it), it says when it has warmed up, and
 * SIGTERM stops it with exit 0.
 */
import { spawn } from "node:child_process"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { BIN, freshRoot } from "./harness.ts"

describe("runledger ui", () => {
  it("prints the URL to open; it serves the UI at / and on deep links, and the API; SIGTERM exits 0", async () => {
    const store = join(freshRoot(), "store")
    const child = spawn(process.execPath, [BIN, "ui", "--dir", store, "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] })
    let out = ""
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve))
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on("data", (d: Buffer) => {
          out += d.toString()
          const m = /UI is at (http:\/\/127\.0\.0\.1:\d+)\/ : open it in a browser/.exec(out)
          if (m) resolve(m[1])
        })
        child.stderr.on("data", (d: Buffer) => (out += d.toString()))
        void exited.then((code) => reject(new Error(`runledger ui exited (${code}) before printing its URL: ${out}`)))
      })
      const page = await fetch(`${url}/`)
      expect(page.status).toBe(200)
      expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8")
      const html = await page.text()
      expect(html).toMatch(/<script type="module" crossorigin src="\/assets\/index-[\w-]+\.js"><\/script>/)
      expect(await (await fetch(`${url}/models/classifier?asOf=5`)).text()).toBe(html)
      expect(await (await fetch(`${url}/health`)).text()).toBe("OK")
      expect(await (await fetch(`${url}/api/runledger/experiments`)).json()).toEqual({ experiments: [expect.objectContaining({ name: "Default", runCount: 0 })] })
      // Once the read model is loaded and the log folded, it says so (on stderr: progress).
      await expect.poll(() => out, { timeout: 20_000 }).toMatch(/^Warmed up in \d+\.\d s: the read model is loaded and the log folded\.$/m)
    } finally {
      child.kill("SIGTERM")
    }
    expect(await exited).toBe(0)
  })
})
