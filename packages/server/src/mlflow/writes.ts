/**
 * How MLflow's writes meet runledger's rule that nothing is logged to an ended run.
 *
 * MLflow lets a client log to a FINISHED (or FAILED, KILLED) run, e.g. evaluation metrics after
 * training, and reopen a run with `runs/update status=RUNNING` (`start_run(run_id=...)`); only a
 * deleted run refuses. runledger refuses writes to an ended run. The server meets both without
 * lying in the audit: a write to an ended run is recorded as one atomic append of
 *
 *   RunResumed (the reopen, by the server) -> the writes -> RunEnded (the status it had)
 *
 * so the log says the run was reopened, what was written, and that it ended again, and the run
 * shows the status it had (its end time becomes the time of that write). The resume step is one
 * past the run's highest step, so nothing logged before is set aside. A reopen by
 * `runs/update status=RUNNING` records RunResumed alone, leaving the run RUNNING. Deleted runs
 * still refuse (the tracker's RunNotActive, INVALID_PARAMETER_VALUE). The composition is the
 * tracker's (`recordReopening`, `setRunStatus`): decided against the fresh run in one append, and
 * decided again on a lost race. This file only queues a run's writes and keeps writer handles.
 *
 * Writes to a RUNNING run (the common case: a training loop's log-batch) go through a writer
 * handle instead (`handleOf` below), the tracker's own `Run`, so they are decided against the
 * server's copy of the run rather than a fresh read of its stream per request.
 */
import { type DatasetInput, MetricColumns, Run } from "@runledger/runtime"
import { Effect } from "effect"
import { call, type MlflowContext, run, type RunCommand } from "./context.ts"

export type RunState = Effect.Success<ReturnType<MlflowContext["tracker"]["effect"]["loadRun"]>>

/** Record `commands` on a run the way MLflow allows: the tracker reopens an ended run around them. */
export const recordMlflow = (ctx: MlflowContext, runId: string, commands: ReadonlyArray<RunCommand> | ((state: RunState) => ReadonlyArray<RunCommand>)): Promise<void> =>
  ctx.serial(runId, async () => {
    forgetHandle(ctx, runId)
    await run(ctx.tracker.effect.recordReopening(runId, commands))
  })

/** `runs/update`'s status, with `extra` (a rename) in the same append: the tracker's setRunStatus. */
export const updateStatus = (ctx: MlflowContext, runId: string, status: "RUNNING" | "FINISHED" | "FAILED" | "KILLED", extra: ReadonlyArray<RunCommand>): Promise<void> =>
  ctx.serial(runId, async () => {
    forgetHandle(ctx, runId)
    await run(ctx.tracker.effect.setRunStatus(runId, status, extra))
  })

/** How many runs keep a writer handle at once; the oldest is let go beyond that (it reloads on its next write). */
const MAX_HANDLES = 1000

/**
 * A writer handle (the tracker's `Run`, as a training script holds one) for a run that is RUNNING,
 * built from its state without appending anything. Through it, a run's writes are checked against
 * the server's copy of the run and appended at its known version, without reading the run's stream
 * again per request, and writes arriving together share one append. A write by anyone else makes
 * the append conflict, and the tracker then decides again on the fresh run, as for any handle.
 * Undefined for an ended or deleted run (their writes take `recordMlflow`).
 */
const handleOf = (ctx: MlflowContext, runId: string): Promise<Run | undefined> =>
  ctx.serial(`handle:${runId}`, async () => {
    const cached = ctx.handles.get(runId)
    if (cached !== undefined) {
      if (cached.active) return cached
      ctx.handles.delete(runId)
    }
    const state = await run(ctx.tracker.effect.loadRun(runId))
    if (state.deleted || state.status !== "RUNNING") return undefined
    const h = new Run(ctx.tracker.effect, Effect.runPromise, state)
    ctx.handles.set(runId, h)
    if (ctx.handles.size > MAX_HANDLES) ctx.handles.delete(ctx.handles.keys().next().value!)
    return h
  })

/** Let go of a run's handle: a write through `record` (end, reopen, delete, restore) changed the run under it. */
export const forgetHandle = (ctx: MlflowContext, runId: string): void => {
  ctx.handles.delete(runId)
}

export type Batch = Parameters<Run["logBatch"]>[0]

const batchCommands = (batch: Batch): RunCommand[] => {
  const commands: RunCommand[] = []
  if (batch.params && Object.keys(batch.params).length > 0) commands.push({ _tag: "LogParams", params: batch.params })
  if (batch.tags && Object.keys(batch.tags).length > 0) commands.push({ _tag: "SetTags", tags: batch.tags })
  const m = batch.metrics ?? []
  if (m.length > 0) {
    // Core's builder, as a run handle's: deciding LogMetrics checks every point it holds.
    const columns = new MetricColumns(m.length)
    for (const x of m) columns.push(x.key, x.value, x.step, x.timestamp)
    commands.push({ _tag: "LogMetrics", batch: columns.finish() })
  }
  return commands
}

/** MLflow's log-batch (and log-metric, log-parameter, set-tag): atomic, through the run's handle while it runs. */
export const logBatch = async (ctx: MlflowContext, runId: string, batch: Batch): Promise<void> => {
  const h = await handleOf(ctx, runId)
  if (h !== undefined) return call(h.logBatch(batch))
  return recordMlflow(ctx, runId, batchCommands(batch))
}

export const deleteTag = async (ctx: MlflowContext, runId: string, key: string): Promise<void> => {
  const h = await handleOf(ctx, runId)
  if (h !== undefined) return call(h.deleteTag(key))
  return recordMlflow(ctx, runId, [{ _tag: "DeleteTag", key }])
}

/** MLflow's log-inputs: every dataset in one append, through the run's handle while it runs. */
export const logInputs = async (ctx: MlflowContext, runId: string, inputs: ReadonlyArray<DatasetInput>): Promise<void> => {
  const h = await handleOf(ctx, runId)
  if (h !== undefined) return call(h.logInputs(inputs))
  return recordMlflow(ctx, runId, [{ _tag: "LogInputs", inputs }])
}
