import { defineConfig } from "vitest/config"

// The UI's end-to-end flows in Debian's Chromium (playwright-core, never a downloaded browser),
// against a real server on loopback: `pnpm test:browser`. Not in the default suite (`pnpm test`).
export default defineConfig({
  test: {
    include: ["test/browser/**/*.test.ts"],
    // The UI first: the CLI's bundle (which the scale test serves with) copies its build.
    globalSetup: ["test/browser/build-ui.ts", "packages/cli/test/bundle-setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    fileParallelism: false,
    // What a user sees arrives when it arrives: on a loaded 2-core machine, a second or more.
    expect: { poll: { timeout: 20_000, interval: 50 } }
  }
})
