/** @runledger/store-fs: runledger's default store, a directory. */
export { FsArtifactStore } from "./artifact-store.ts"
export { type Durability, type EventLogOptions, FsEventLog, LOG_FILE, type Recovery } from "./event-log.ts"
export { FsStoreLayer, fsArtifactStore, fsEventStore, openEventLog } from "./layer.ts"
export { chainAfter, DEFLATE_MAX, encodeFrame, encodeFrameBytes, type RecordForm, recordJson, scanFrame, scanFrames, sha256 } from "./frame.ts"
export { type Anchor, anchorProblem, type Finding, formatAnchor, parseAnchors, type VerifyOptions, type VerifyReport, verifyStore } from "./verify.ts"
export { isProcessGone } from "./process.ts"
export { writeWholeFile } from "./whole-file.ts"
