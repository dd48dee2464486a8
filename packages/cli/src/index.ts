/**
 * runledger: the batteries-included entry point, the runtime's public API (see @runledger/runtime).
 *
 *     import { openTracker } from "runledger"
 *     const tracker = await openTracker({ dir: "runledger" })
 */
export * from "@runledger/runtime"
