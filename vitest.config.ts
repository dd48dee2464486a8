import { defineConfig } from "vitest/config"

// The default suite (`pnpm test`). Slow suites (many real processes, big data, lock races) live in
// test/slow/ and run with `pnpm test:slow` (vitest.slow.config.ts), which .ci/run runs too; the web
// UI's browser flows live in test/browser/ (`pnpm test:browser`, vitest.browser.config.ts).
export default defineConfig({
  test: {
    // The CLI's tests run its published bundle, built once here (packages/cli/test/bundle-setup.ts).
    globalSetup: ["packages/cli/test/bundle-setup.ts"],
    include: ["packages/*/test/**/*.test.ts", "test/**/*.test.ts"],
    exclude: ["test/slow/**", "test/browser/**", "**/node_modules/**"],
    // Two files at a time even on 2 cores (vitest's default is cores - 1): the suite waits mostly on
    // fsyncs and child processes, and runs in 231 s instead of 351 s on CI's 2-core machine.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000
  }
})
