/**
 * The `server` and `ui` commands: serve one store over MLflow's REST API, runledger's own and the web
 * UI (see @runledger/server). Each only reads its flags, starts the server, prints the URL, and closes
 * it on SIGTERM or SIGINT (in-flight requests finish and the store is flushed first); it exits 0 then.
 */
import { invalid } from "@runledger/core"
import { Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { resolve } from "node:path"
import { err, out, task } from "./common.ts"
import { root } from "./root.ts"

export const storeFlag = Flag.String("store").pipe(Flag.withDescription("The store by URI (a directory, file: URL or duckdb:<file>) instead of --dir"), Flag.optional)
export const hostFlag = Flag.String("host").pipe(Flag.withDescription("The address to listen on (default loopback; 0.0.0.0 for every interface)"), Flag.withDefault("127.0.0.1"))
export const portFlag = Flag.Int("port").pipe(Flag.withDescription("The port (MLflow's default 5000; 0 picks a free one)"), Flag.withDefault(5000))

/**
 * Start the server over the store the flags name, print `banner(url)`, and run until SIGTERM or
 * SIGINT. `server` and `ui` are this one loop with different words.
 */
export const serve = (
  flags: { readonly store: Option.Option<string>; readonly host: string; readonly port: number; readonly token: string | undefined },
  banner: (url: string) => ReadonlyArray<string>
) =>
  Effect.gen(function*() {
    const { store, host, port, token: secret } = flags
    if (!(Number.isInteger(port) && port >= 0 && port <= 65535)) return yield* Effect.fail(invalid("port", `--port is a whole number from 0 to 65535, got ${port}.`))
    const { dir } = yield* root
    if (Option.isSome(dir) && Option.isSome(store)) return yield* Effect.fail(invalid("store", "Pass --dir or --store, not both."))
    // Imported when the command runs, not at start: a CLI start loads only what the chosen command needs (issue 11).
    const started = performance.now()
    const { startServer } = yield* task(() => import("@runledger/server"))
    const running = yield* task(() =>
      startServer({
        ...(Option.isSome(store) ? { store: store.value } : { dir: resolve(Option.getOrElse(dir, () => process.env.RUNLEDGER_DIR || "runledger")) }),
        host,
        port,
        warm: true,
        ...(secret !== undefined ? { token: secret } : {})
      })
    )
    for (const line of banner(running.url)) out(line)
    // It answers at once; on a big store the first searches are slower until this line (stderr: progress, not output).
    void running.warmed.then((ok) => {
      if (ok) err(`Warmed up in ${((performance.now() - started) / 1000).toFixed(1)} s: the read model is loaded and the log folded.`)
    })
    yield* task(() =>
      new Promise<void>((done) => {
        const stop = (signal: string) => {
          err(`${signal}: finishing requests in flight, then closing the store`)
          running.close().then(done, (e: unknown) => {
            err(`closing failed: ${e instanceof Error ? e.message : String(e)}`)
            process.exitCode = 1
            done()
          })
        }
        process.once("SIGTERM", () => stop("SIGTERM"))
        process.once("SIGINT", () => stop("SIGINT"))
      })
    )
  })

export const server = Command.make(
  "server",
  {
    store: storeFlag,
    host: hostFlag,
    port: portFlag,
    token: Flag.String("token").pipe(
      Flag.withDescription("Require Authorization: Bearer <token> on every API request; the web UI asks for it once and signs in (default: $RUNLEDGER_TOKEN; MLflow clients send $MLFLOW_TRACKING_TOKEN)"),
      Flag.optional
    )
  },
  ({ store, host, port, token }) => {
    const secret = Option.getOrUndefined(token) ?? (process.env.RUNLEDGER_TOKEN || undefined)
    return serve({ store, host, port, token: secret }, (url) => [
      `The runledger server is listening on ${url}${secret !== undefined ? " (token required)" : ""}`,
      `MLflow clients: export MLFLOW_TRACKING_URI=${url}`,
      `The web UI: open ${url}/ in a browser`
    ])
  }
).pipe(Command.withDescription("Serve the store over MLflow's REST API and runledger's own (and the web UI at /): MLflow training scripts log to it with MLFLOW_TRACKING_URI=http://HOST:PORT"))
