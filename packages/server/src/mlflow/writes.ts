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
 * still refuse (the tracker's RunNotActive, INVALID_PARAMETER_VALUE). The commands go through the
 * tracker's `record`, so every write is decided by the tracker's rules and re-decided on a race.
 */
import type { Effect } from "effect"
import { type MlflowContext, run, type RunCommand } from "./context.ts"

export type RunState = Effect.Success<ReturnType<MlflowContext["tracker"]["effect"]["loadRun"]>>

/** One past the highest step logged: a resume from there sets nothing aside. */
const nextStep = (state: RunState): number => {
  let max = -1
  for (const m of state.latest.values()) if (m.step > max) max = m.step
  return max + 1
}

const reopen = (state: RunState): RunCommand => ({ _tag: "ResumeRun", fromStep: nextStep(state) })

const endAgain = (state: RunState): RunCommand => {
  const status = state.status === "RUNNING" ? "FINISHED" : state.status
  return state.error ? { _tag: "EndRun", status, error: state.error } : { _tag: "EndRun", status }
}

/** Record `commands` on a run the way MLflow allows: an ended run is reopened around them. */
export const recordMlflow = (ctx: MlflowContext, runId: string, commands: ReadonlyArray<RunCommand> | ((state: RunState) => ReadonlyArray<RunCommand>)): Promise<void> =>
  ctx.serial(runId, async () => {
    const state = await run(ctx.tracker.effect.loadRun(runId))
    const ended = !state.deleted && state.status !== "RUNNING"
    // A write that depends on the run (a tag appended to) is computed here, in the run's turn.
    if (typeof commands === "function") commands = commands(state)
    await run(ctx.tracker.effect.record(runId, ended ? [reopen(state), ...commands, endAgain(state)] : commands))
  })

/**
 * `runs/update`: RUNNING reopens an ended run; an end status ends a running run, or changes an
 * ended run's status (reopen, then end with the new one); the run's own status again is a no-op.
 */
export const updateStatus = async (ctx: MlflowContext, runId: string, status: "RUNNING" | "FINISHED" | "FAILED" | "KILLED", extra: ReadonlyArray<RunCommand>): Promise<void> => {
  const commands = await ctx.serial(runId, () => updateCommands(ctx, runId, status, extra))
  if (commands === "same") await recordMlflow(ctx, runId, extra)
}

const updateCommands = async (ctx: MlflowContext, runId: string, status: "RUNNING" | "FINISHED" | "FAILED" | "KILLED", extra: ReadonlyArray<RunCommand>): Promise<"same" | RunCommand[]> => {
  const state = await run(ctx.tracker.effect.loadRun(runId))
  const commands: RunCommand[] = []
  if (status === "RUNNING") {
    // A deleted run is handed to the tracker too, which refuses it (deleted runs take no writes).
    if (state.status !== "RUNNING" || state.deleted) commands.push(reopen(state))
    for (const c of extra) commands.push(c)
  } else if (state.status === "RUNNING" || state.deleted) {
    for (const c of extra) commands.push(c)
    commands.push({ _tag: "EndRun", status })
  } else if (state.status !== status) {
    commands.push(reopen(state))
    for (const c of extra) commands.push(c)
    commands.push({ _tag: "EndRun", status })
  } else {
    return "same"
  }
  if (commands.length > 0) await run(ctx.tracker.effect.record(runId, commands))
  return commands
}
