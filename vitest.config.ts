import { defineConfig } from "vitest/config"

// The default suite (`pnpm test`). Slow suites (many real processes, big data, lock races) live in
// test/slow/ and run with `pnpm test:slow` (vitest.slow.config.ts), which .ci/run runs too; the web
// UI's browser flows live in test/browser/ (`pnpm test:browser`, vitest.browser.config.ts).
export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts", "test/**/*.test.ts"],
    exclude: ["test/slow/**", "test/browser/**", "**/node_modules/**"],
    testTimeout: 60_000,
    hookTimeout: 60_000
  }
})
