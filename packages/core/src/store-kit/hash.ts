/**
 * The audit hash rule, the one every store follows, so a log copied between stores verifies the
 * same way:
 *   - an event's `hash` is the sha256 (hex) of its JSON text as stored (UTF-8); the next event of
 *     the same stream carries it as `prev`;
 *   - `chain` is sha256(previous event's chain + this event's hash) over the whole log, in
 *     position order; the first event chains from "".
 * The digest itself comes from the adapter (node:crypto, say): core does no I/O and the only
 * digest the platform offers everywhere (WebCrypto) is asynchronous, too slow for a hot append path.
 */

/** sha256 as 64 lowercase hex digits; a string is hashed as its UTF-8 bytes. */
export type Sha256 = (data: string | Uint8Array) => string

/** The whole-log chain after an event whose JSON hashes to `hash`. */
export const chainAfter = (sha256: Sha256, previousChain: string, hash: string): string => sha256(previousChain + hash)
