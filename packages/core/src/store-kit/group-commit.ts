/**
 * The group-commit queue: appends that arrive while a batch is being committed wait and are
 * committed together as the next batch (one write, one sync), in arrival order. One batch at a
 * time; every submitted append settles, whatever the commit does.
 */
import type { AppendResult } from "../ports.ts"
import type { AppendRequest, Settlement } from "./stage.ts"

interface Waiting<R> {
  readonly request: R
  readonly resolve: (r: AppendResult) => void
  readonly reject: (e: unknown) => void
}

export interface GroupCommitOptions<R> {
  /** Commit a batch; one answer per request, in order. The answers are given after it returns. */
  readonly commit: (batch: ReadonlyArray<R>) => Promise<ReadonlyArray<Settlement>>
  /** The error every request of a batch gets when `commit` throws. */
  readonly toError: (e: unknown) => unknown
}

export class GroupCommit<R extends AppendRequest = AppendRequest> {
  private readonly options: GroupCommitOptions<R>
  private pending: Array<Waiting<R>> = []
  private running: Promise<void> | null = null

  constructor(options: GroupCommitOptions<R>) {
    this.options = options
  }

  submit(request: R): Promise<AppendResult> {
    return new Promise((resolve, reject) => {
      this.pending.push({ request, resolve, reject })
      this.running ??= this.drain()
    })
  }

  /** Resolves once nothing is being committed (for close: the last batch finishes first). */
  async idle(): Promise<void> {
    while (this.running !== null) await this.running
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending
        this.pending = []
        let answers: ReadonlyArray<Settlement>
        try {
          answers = await this.options.commit(batch.map((w) => w.request))
          if (answers.length !== batch.length) throw new Error(`the commit answered ${answers.length} of ${batch.length} appends`)
        } catch (e) {
          const error = this.options.toError(e)
          answers = batch.map(() => ({ ok: false, error }))
        }
        batch.forEach((w, i) => {
          const a = answers[i]
          if (a.ok) w.resolve(a.result)
          else w.reject(a.error)
        })
      }
    } finally {
      this.running = null
    }
  }
}
