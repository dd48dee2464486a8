/** The command the CLI's hints name: the one that works where runledger was started. */
import { describe, expect, it } from "vitest"
import { hint, runledgerCommand } from "../src/invocation.ts"
import { defaultDir } from "@runledger/runtime"

const pnpmAgent = "pnpm/10.34.9 npm/? node/v24.21.0 linux x64"

describe("runledgerCommand", () => {
  it.each([
    ["a checkout's pnpm script, pnpm installed", { npm_config_user_agent: pnpmAgent, npm_package_name: "runledger-workspace", npm_command: "run-script", npm_execpath: "/usr/lib/node_modules/pnpm/bin/pnpm.cjs" }, "pnpm -s runledger"],
    ["a checkout's pnpm script, pnpm started by npx", { npm_config_user_agent: pnpmAgent, npm_package_name: "runledger-workspace", npm_command: "run-script", npm_execpath: "/root/.npm/_npx/a1a38f5f0f780954/node_modules/pnpm/bin/pnpm.cjs" }, "npx -y pnpm@10 -s runledger"],
    ["npx in a project that installed it", { npm_config_user_agent: "npm/11.19.1 node/v20.20.2 linux x64", npm_package_name: "my-project", npm_command: "exec", npm_lifecycle_event: "npx" }, "npx runledger"],
    ["another project's pnpm script", { npm_config_user_agent: pnpmAgent, npm_package_name: "my-project", npm_command: "run-script" }, "runledger"],
    ["the bin on the PATH", {}, "runledger"]
  ])("%s", (_name, env, expected) => {
    expect(runledgerCommand(env)).toBe(expected)
  })
})

describe("hint", () => {
  it("names the store only when it is not the default, quoted for the shell", () => {
    expect(hint("runs", defaultDir(), {})).toBe("runledger runs")
    expect(hint("runs", "/tmp/st", {})).toBe("runledger runs --dir /tmp/st")
    expect(hint("runs", "/tmp/my store's", {})).toBe(`runledger runs --dir '/tmp/my store'\\''s'`)
  })
})
