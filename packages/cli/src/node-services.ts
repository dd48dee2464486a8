/**
 * The platform services `effect/cli` asks for (Stdio, Terminal, Path, FileSystem,
 * ChildProcessSpawner), wired on Node's own modules. They replace `@effect/platform-node`, whose
 * install pulls in redis, undici and ws (about 20 MB, and an engines rule of Node >= 22.19) for
 * what the CLI never uses.
 *
 * What the CLI uses: Stdio (whether stdout is a terminal, for colored help), Terminal (the
 * `--wizard` prompts) and Path. It has no file-typed flags and runs no commands through effect,
 * so FileSystem and ChildProcessSpawner are there to satisfy `Command.runWith` and refuse loudly
 * if something ever calls them.
 */
import { Cause, Effect, FileSystem, Layer, Option, Path, Queue, RcRef, Sink, Stdio, Stream, Terminal } from "effect"
import { systemError } from "effect/PlatformError"
import { ChildProcessSpawner } from "effect/process"
import { createRequire } from "node:module"

// Loaded when a prompt opens (`--wizard`), not with the CLI: every other command would pay for readline.
const builtin = createRequire(import.meta.url)

const writeTo = (stream: NodeJS.WriteStream, method: string) =>
  Sink.forEach((chunk: string | Uint8Array) =>
    Effect.callback<void, ReturnType<typeof systemError>>((resume) => {
      stream.write(chunk, (cause) => resume(cause ? Effect.fail(systemError({ module: "Stdio", method, _tag: "Unknown", cause })) : Effect.void))
    })
  )

const stdio = Stdio.make({
  args: Effect.sync(() => process.argv.slice(2)),
  stdinIsTerminal: Effect.sync(() => process.stdin.isTTY === true),
  stdoutIsTerminal: Effect.sync(() => process.stdout.isTTY === true),
  stderrIsTerminal: Effect.sync(() => process.stderr.isTTY === true),
  stdout: () => writeTo(process.stdout, "stdout"),
  stderr: () => writeTo(process.stderr, "stderr"),
  // Suspended: process.stdin is opened only if something reads it.
  stdin: Stream.suspend(() =>
    Stream.fromAsyncIterable(process.stdin as AsyncIterable<Uint8Array>, (cause) => systemError({ module: "Stdio", method: "stdin", _tag: "Unknown", cause }))
  )
})

const quits = (input: Terminal.UserInput): boolean =>
  input.key.name === "escape" || (input.key.ctrl && (input.key.name === "c" || input.key.name === "d"))

/** The prompts' terminal, after @effect/platform-node's NodeTerminal: readline for lines, raw-mode keypresses for keys. */
const makeTerminal = Effect.gen(function*() {
  const { stdin, stdout } = process
  const lines = yield* Queue.make<string, Cause.Done>()
  const reader = yield* RcRef.make({
    acquire: Effect.acquireRelease(
      Effect.sync(() => {
        const readline = builtin("node:readline") as typeof import("node:readline")
        const rl = readline.createInterface({ input: stdin, escapeCodeTimeout: 50 })
        const onLine = (line: string) => Queue.offerUnsafe(lines, line)
        // The input closed (end of stdin, Ctrl-D): no more lines will come.
        const onClose = () => Queue.endUnsafe(lines)
        readline.emitKeypressEvents(stdin, rl)
        rl.on("line", onLine)
        rl.once("close", onClose)
        return { rl, onLine, onClose }
      }),
      // Released when idle: detach first, so closing this reader does not end the lines to come.
      ({ rl, onLine, onClose }) => Effect.sync(() => {
        rl.off("line", onLine)
        rl.off("close", onClose)
        rl.close()
        if (stdin.readableEnded) Queue.endUnsafe(lines)
      })
    ),
    idleTimeToLive: "10 millis"
  })
  const rawMode = yield* RcRef.make({
    acquire: Effect.acquireRelease(
      Effect.sync(() => stdin.isTTY && stdin.setRawMode(true)),
      () => Effect.sync(() => stdin.isTTY && stdin.setRawMode(false))
    ),
    idleTimeToLive: "10 millis"
  })
  const size = Effect.gen(function*() {
    const queue = yield* Queue.sliding<Terminal.Size, Cause.Done>(1)
    const onResize = () => Queue.offerUnsafe(queue, { columns: stdout.columns ?? 0, rows: stdout.rows ?? 0 })
    yield* Effect.addFinalizer(() => Effect.sync(() => {
      stdout.off("resize", onResize)
      Queue.endUnsafe(queue)
    }))
    stdout.on("resize", onResize)
    onResize()
    return queue
  })
  const readInput = Effect.gen(function*() {
    const queue = yield* Queue.make<Terminal.UserInput, Cause.Done>()
    const onKey = (s: string | undefined, k: { name?: string; ctrl?: boolean; meta?: boolean; shift?: boolean }) => {
      const input: Terminal.UserInput = { input: Option.fromUndefinedOr(s), key: { name: k.name ?? "", ctrl: !!k.ctrl, meta: !!k.meta, shift: !!k.shift } }
      Queue.offerUnsafe(queue, input)
      if (quits(input)) Queue.endUnsafe(queue)
    }
    // A prompt waiting on a closed stdin would wait forever: end its input instead.
    const onEnd = () => Queue.endUnsafe(queue)
    yield* Effect.addFinalizer(() => Effect.sync(() => {
      stdin.off("keypress", onKey)
      stdin.off("end", onEnd)
    }))
    stdin.on("keypress", onKey)
    if (stdin.readableEnded) onEnd()
    else {
      yield* RcRef.get(reader)
      yield* RcRef.get(rawMode)
      stdin.once("end", onEnd)
    }
    return queue
  })
  const readLine = Effect.scoped(Effect.andThen(RcRef.get(reader), Queue.take(lines))).pipe(Effect.mapError(() => new Terminal.QuitError({})))
  const display = (text: string) =>
    Effect.callback<void, ReturnType<typeof systemError>>((resume) => {
      stdout.write(text, (cause) => resume(cause ? Effect.fail(systemError({ module: "Terminal", method: "display", _tag: "Unknown", cause })) : Effect.void))
    })
  return Terminal.make({
    columns: Effect.sync(() => stdout.columns ?? 0),
    rows: Effect.sync(() => stdout.rows ?? 0),
    size,
    readInput,
    readLine,
    display
  })
})

const unused = (service: string) => `runledger's CLI does not use ${service} through effect/cli; this call is a bug in runledger.`

export const NodeServices = {
  layer: Layer.mergeAll(
    Layer.succeed(Stdio.Stdio, stdio),
    Layer.effect(Terminal.Terminal, makeTerminal),
    Path.layer,
    FileSystem.layerNoop({}),
    Layer.succeed(ChildProcessSpawner.ChildProcessSpawner, ChildProcessSpawner.make(() => Effect.die(new Error(unused("child processes")))))
  )
}
