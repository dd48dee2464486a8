import { defineConfig } from "vitest/config"

// The slow suites: real processes racing, SIGKILLs under load, a disk filled up, huge series.
export default defineConfig({
  test: {
    // The CLI's tests run its published bundle, built once here (packages/cli/test/bundle-setup.ts).
    globalSetup: ["packages/cli/test/bundle-setup.ts"],
    include: ["test/slow/**/*.test.ts"],
    testTimeout: 600_000,
    hookTimeout: 120_000,
    // One file at a time: these tests start many processes each, on a 2-core machine.
    fileParallelism: false,
    passWithNoTests: true
  }
})
