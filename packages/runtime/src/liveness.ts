/**
 * The Liveness port on this machine: is the process that owns a RUNNING run gone? The pid check
 * (with pid reuse detected by start time) is the store's own, shared with its lock; runs owned by
 * other hosts are never judged here: their own host's runledger does.
 */
import { isProcessGone } from "@runledger/store-fs"
import { Liveness } from "@runledger/core"
import { Layer } from "effect"

export const NodeLiveness = Layer.succeed(Liveness, Liveness.of({ isGone: isProcessGone }))
