/**
 * A metric value as JSON carries it. Metric values are any double, and JSON has no NaN, infinities
 * or -0: those are written as the strings "NaN", "Infinity", "-Infinity", "-0" (protobuf JSON's
 * convention, keeping -0 too), so a value read back over HTTP is the value logged.
 */
import { Schema, SchemaGetter } from "effect"

type NonFinite = "NaN" | "Infinity" | "-Infinity" | "-0"

export const MetricValue = Schema.Number.pipe(
  Schema.encodeTo(Schema.Union([Schema.Finite, Schema.Literals(["NaN", "Infinity", "-Infinity", "-0"])]), {
    decode: SchemaGetter.transform((x: number | NonFinite): number => (x === "NaN" ? NaN : x === "Infinity" ? Infinity : x === "-Infinity" ? -Infinity : x === "-0" ? -0 : x)),
    encode: SchemaGetter.transform((x: number): number | NonFinite =>
      Number.isNaN(x) ? "NaN" : x === Infinity ? "Infinity" : x === -Infinity ? "-Infinity" : Object.is(x, -0) ? "-0" : x
    )
  })
).annotate({ identifier: "MetricValue", description: "A double; NaN, Infinity, -Infinity and -0 are the strings \"NaN\", \"Infinity\", \"-Infinity\", \"-0\"." })
