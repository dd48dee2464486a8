/**
 * `@runledger/core/write`: what the tracker (@runledger/tracker) builds its commands from, kept
 * out of core's public index: decide per aggregate, the one command handler (decide -> append
 * under the stream's version -> retry on a lost race), and the call-time validation.
 */
export * from "./command.ts"
export * from "./decide/index.ts"
export * from "./media-type.ts"
export * from "./validate.ts"
export { runNameFromId } from "./ids.ts"
export { MetricColumns } from "./metrics-wire.ts"
