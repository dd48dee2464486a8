/**
 * A fixed sequence of appends and what the stores wrote for it before store-kit existed (the
 * directory store's file bytes and the whole-log chain), so a change to stamping or framing that
 * would leave existing logs failing verification shows up. The events' keys are in the order the
 * tracker stamps them (id, type, at, data): the codec writes that order whatever order it is handed,
 * as the old codec wrote the tracker's events, so these are the bytes both codecs write.
 */
import type { ExpectedVersion, NewEvent } from "../packages/core/src/index.ts"

type Append = { readonly stream: string; readonly events: ReadonlyArray<NewEvent>; readonly expected: ExpectedVersion }

/** Groups of appends: those of one group are submitted together (one group commit). */
export const FIXED_APPENDS: ReadonlyArray<ReadonlyArray<Append>> = [
  [{
    stream: "run-a",
    expected: 0,
    events: [
      { id: "e1", type: "TagsSet", at: 1000, data: { tags: { note: "héllo ✓" } } },
      { id: "e2", type: "MetricsLogged", at: 1001, data: { keys: ["loss", "loss"], values: [NaN, -0], steps: [0, 1], timestamps: [1001, 1002] } }
    ]
  }],
  [
    { stream: "run-b", expected: 0, events: [{ id: "e3", type: "TagsSet", at: 1003, data: { tags: { k: "v" } } }] },
    { stream: "run-a", expected: 2, events: [{ id: "e4", type: "TagsSet", at: 1004, data: { tags: { k: "w" } } }] }
  ]
]

/**
 * sha256 of events.log after FIXED_APPENDS in the text form, as written since MetricsLogged's schema
 * version 2 (its record now says `"schema":2`; every other record is the bytes the directory store
 * wrote before store-kit and the Schema codec, main at 7f66fc8).
 */
export const FIXED_LOG_SHA256 = "1413716307ae37327c1929bb2e04b73d96593261f71caa63783f89affb8c1542"
/** The whole-log chain after FIXED_APPENDS: the same in every store (one hash rule). */
export const FIXED_CHAIN = "4a00397344f78dee662595bad5079efffc80b11671f055b79c340f695c0b7234"

/**
 * The same appends as written before MetricsLogged v2: `fixtures/fixed-v1.events.log` holds those
 * bytes (sha256 3772780054cf9ce1...), and this was their chain. A log written then must still read,
 * verify and take appends.
 */
export const FIXED_V1_LOG = new URL("./fixtures/fixed-v1.events.log", import.meta.url)
export const FIXED_V1_LOG_SHA256 = "3772780054cf9ce15e3d6c7c7e1744d714adab99c9f3f1c3ad63b56f616e0ab6"
export const FIXED_V1_CHAIN = "e1b9dad480fda0f1f74f0a599e118a390638433c5927ca7ef6234bb6b7a2fe4c"
