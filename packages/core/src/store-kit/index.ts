/**
 * @runledger/core/store-kit: what an EventStore adapter is built from, so that every store applies
 * the same rules: the append judgement (expected versions, idempotent ids), staged judging and
 * stamping of a group-commit batch (prev, hash, chain by one hash rule), the group-commit queue,
 * the audit checks over any event source, and the Promise-to-Effect port wrapper. Pure: imports
 * only `effect` and core. The conformance suite every store must pass is @runledger/store-conformance.
 */
export { type AsyncEventLog, eventStoreOf, passTagged, toStoreError } from "./async-store.ts"
export { type AuditFinding, type AuditKind, type AuditRecord, type AuditReport, AuditTrail, verifyRecords } from "./audit.ts"
export { Serial } from "./serial.ts"
export { GroupCommit, type GroupCommitOptions } from "./group-commit.ts"
export { chainAfter, type Sha256 } from "./hash.ts"
export { type AppendVerdict, judgeAppend, newStreamInfo, RECENT_IDS, remember, type StreamInfo } from "./judge.ts"
export { type AppendRequest, type LogHead, newStreamState, type Settlement, type StagedBatch, type StageOptions, type StampedEvent, stageBatch, type StreamState } from "./stage.ts"
// The event codec, as stores write and read it.
export { decodeEvent, decodeEventValue, encodeEvent } from "../codec.ts"
