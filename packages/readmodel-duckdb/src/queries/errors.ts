import { Schema } from "effect"

/**
 * A group of runs too small for a statistical comparison: `runs` of them have a usable (finite)
 * value of the metric, and the comparison needs `needed`.
 */
export class NotEnoughRuns extends Schema.TaggedError<NotEnoughRuns>()("NotEnoughRuns", {
  message: Schema.String,
  group: Schema.Literals(["a", "b"]),
  filter: Schema.String,
  runs: Schema.Number,
  needed: Schema.Number
}) {}
