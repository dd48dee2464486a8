/**
 * A fixed sequence of appends and what the stores wrote for it before store-kit existed (the
 * directory store's file bytes and the whole-log chain), so a change to stamping or framing that
 * would leave existing logs failing verification shows up.
 */
import type { ExpectedVersion, NewEvent } from "../packages/core/src/index.ts"

type Append = { readonly stream: string; readonly events: ReadonlyArray<NewEvent>; readonly expected: ExpectedVersion }

/** Groups of appends: those of one group are submitted together (one group commit). */
export const FIXED_APPENDS: ReadonlyArray<ReadonlyArray<Append>> = [
  [{
    stream: "run-a",
    expected: 0,
    events: [
      { id: "e1", at: 1000, type: "TagsSet", data: { tags: { note: "héllo ✓" } } },
      { id: "e2", at: 1001, type: "MetricsLogged", data: { keys: ["loss", "loss"], values: [NaN, -0], steps: [0, 1], timestamps: [1001, 1002] } }
    ]
  }],
  [
    { stream: "run-b", expected: 0, events: [{ id: "e3", at: 1003, type: "TagsSet", data: { tags: { k: "v" } } }] },
    { stream: "run-a", expected: 2, events: [{ id: "e4", at: 1004, type: "TagsSet", data: { tags: { k: "w" } } }] }
  ]
]

/** sha256 of events.log after FIXED_APPENDS, as written by the directory store at 962ef25. */
export const FIXED_LOG_SHA256 = "d2e60a19a80138cf9e9145b4aed32782397e98941187510b7792636b5d7ab7a0"
/** The whole-log chain after FIXED_APPENDS: the same in every store (one hash rule). */
export const FIXED_CHAIN = "e64a8fe0a5602d58e191be07753657901ad912833772759e8eefdb256eb08297"
