/**
 * The audit hashes, the same rule as the directory store's frames (adapters-fs/src/frame.ts), so a
 * log copied between stores verifies the same way:
 *   - `hash`: sha256 (hex) of the event's JSON text as stored; the next event of the same stream
 *     carries it as `prev`.
 *   - `chain`: sha256(previous event's chain + this event's hash) over the whole log, in position
 *     order; the first event chains from "".
 * Replicated rather than imported: an adapter never imports another adapter.
 */
import { createHash } from "node:crypto"

export const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex")

/** The whole-log chain after an event whose JSON hashes to `hash`. */
export const chainAfter = (previousChain: string, hash: string): string => sha256(previousChain + hash)
