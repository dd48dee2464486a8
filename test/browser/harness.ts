/**
 * The browser side of the UI's flows: Debian's Chromium (/usr/bin/chromium, as .ci/run installs it)
 * driven by playwright-core, with a fresh profile, and a page that records every console error and
 * page error (any one fails the flow unless the flow expected it), and a screenshot of each page.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core"

export const CHROMIUM = process.env.RUNLEDGER_CHROMIUM ?? "/usr/bin/chromium"
export const SHOTS = resolve(import.meta.dirname, "../../.tmp/screenshots")

export interface Session {
  readonly browser: Browser
  readonly context: BrowserContext
  close(): Promise<void>
}

export const launch = async (): Promise<Session> => {
  const profile = mkdtempSync(join(tmpdir(), "runledger-chromium-"))
  // The flags this machine needs: no sandbox as root, and no background connections (the network is closed).
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1400, height: 900 }
  })
  mkdirSync(SHOTS, { recursive: true })
  return {
    browser: context.browser()!,
    context,
    async close() {
      await context.close()
      rmSync(profile, { recursive: true, force: true })
    }
  }
}

/** A page whose console errors and page errors are kept, to be checked by `problems`. */
export interface Watched {
  readonly page: Page
  readonly errors: string[]
}

export const watch = async (session: Session): Promise<Watched> => {
  const page = await session.context.newPage()
  const errors: string[] = []
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`)
  })
  page.on("pageerror", (e) => errors.push(`page error: ${e.message}`))
  return { page, errors }
}

/** Take out the errors a flow caused on purpose (each pattern once); what is left fails the flow. */
export const expected = (w: Watched, ...patterns: ReadonlyArray<RegExp>): void => {
  for (const p of patterns) {
    const i = w.errors.findIndex((e) => p.test(e))
    if (i < 0) throw new Error(`Expected an error matching ${p}, saw: ${JSON.stringify(w.errors)}`)
    w.errors.splice(i, 1)
  }
}

export const shot = (w: Watched, name: string) => w.page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true })
