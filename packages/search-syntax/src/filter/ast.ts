/**
 * The filter AST: MLflow's search-runs language (comparisons joined by AND) plus OR, NOT
 * and parentheses. The tree is canonical: entity aliases (`metric.`, `param.`, `attr.`, …),
 * attribute aliases (`created`, `Run name`, `tags.mlflow.runName`) and quoting are resolved
 * by the parser, so two filters that mean the same comparison have the same node.
 */

/** Run attributes compared as strings (=, !=, LIKE, ILIKE, IN, NOT IN). */
export type StringAttributeKey = "run_id" | "run_name" | "status" | "experiment_id"
/** Run attributes compared as numbers (epoch milliseconds): =, !=, <, <=, >, >=. */
export type NumericAttributeKey = "start_time" | "end_time"
export type AttributeKey = StringAttributeKey | NumericAttributeKey

export const stringAttributeKeys: ReadonlyArray<StringAttributeKey> = ["run_id", "run_name", "status", "experiment_id"]
export const numericAttributeKeys: ReadonlyArray<NumericAttributeKey> = ["start_time", "end_time"]
export const attributeKeys: ReadonlyArray<AttributeKey> = [...stringAttributeKeys, ...numericAttributeKeys]

export const isStringAttributeKey = (key: string): key is StringAttributeKey =>
  (stringAttributeKeys as ReadonlyArray<string>).includes(key)
export const isNumericAttributeKey = (key: string): key is NumericAttributeKey =>
  (numericAttributeKeys as ReadonlyArray<string>).includes(key)

export interface MetricTarget {
  readonly _tag: "Metric"
  readonly key: string
}
export interface ParamTarget {
  readonly _tag: "Param"
  readonly key: string
}
/** A tag. The key `mlflow.runName` never appears here: the parser maps it to the `run_name` attribute. */
export interface TagTarget {
  readonly _tag: "Tag"
  readonly key: string
}
export interface StringAttributeTarget {
  readonly _tag: "Attribute"
  readonly key: StringAttributeKey
}
export interface NumericAttributeTarget {
  readonly _tag: "Attribute"
  readonly key: NumericAttributeKey
}
export type AttributeTarget = StringAttributeTarget | NumericAttributeTarget

/** What a comparison looks at; also what an order_by term sorts by. */
export type Target = MetricTarget | ParamTarget | TagTarget | AttributeTarget
export type NumericTarget = MetricTarget | NumericAttributeTarget
export type StringTarget = ParamTarget | TagTarget | StringAttributeTarget

export type NumericComparator = "=" | "!=" | "<" | "<=" | ">" | ">="
export type StringComparator = "=" | "!=" | "LIKE" | "ILIKE"

export const numericComparators: ReadonlyArray<NumericComparator> = ["=", "!=", "<", "<=", ">", ">="]
export const stringComparators: ReadonlyArray<StringComparator> = ["=", "!=", "LIKE", "ILIKE"]

/** `metrics.acc > 0.9`, `attributes.start_time >= 1700000000000`. */
export interface NumericComparison {
  readonly _tag: "NumericComparison"
  readonly target: NumericTarget
  readonly op: NumericComparator
  readonly value: number
}

/** `params.model = 'cnn'`, `tags.team ILIKE '%ml%'`. LIKE/ILIKE: `%` any run of characters, `_` one character, no escape character. */
export interface StringComparison {
  readonly _tag: "StringComparison"
  readonly target: StringTarget
  readonly op: StringComparator
  readonly value: string
}

/** `attributes.run_id IN ('a', 'b')`, `params.model IN ('cnn', 'mlp')`, `tags.team NOT IN ('x')`. */
export interface InList {
  readonly _tag: "InList"
  readonly target: StringTarget
  readonly negated: boolean
  readonly values: readonly [string, ...Array<string>]
}

export interface And {
  readonly _tag: "And"
  readonly left: Filter
  readonly right: Filter
}
export interface Or {
  readonly _tag: "Or"
  readonly left: Filter
  readonly right: Filter
}
export interface Not {
  readonly _tag: "Not"
  readonly operand: Filter
}

export type Comparison = NumericComparison | StringComparison | InList
export type Filter = Comparison | And | Or | Not

// Constructors -------------------------------------------------------------------------------

export const metric = (key: string): MetricTarget => ({ _tag: "Metric", key })
export const param = (key: string): ParamTarget => ({ _tag: "Param", key })
export const tag = (key: string): TagTarget => ({ _tag: "Tag", key })
export function attribute(key: StringAttributeKey): StringAttributeTarget
export function attribute(key: NumericAttributeKey): NumericAttributeTarget
export function attribute(key: AttributeKey): AttributeTarget
export function attribute(key: AttributeKey): AttributeTarget {
  return { _tag: "Attribute", key } as AttributeTarget
}

export const compareNumber = (target: NumericTarget, op: NumericComparator, value: number): NumericComparison => ({
  _tag: "NumericComparison",
  target,
  op,
  value
})
export const compareString = (target: StringTarget, op: StringComparator, value: string): StringComparison => ({
  _tag: "StringComparison",
  target,
  op,
  value
})
export const inList = (
  target: StringTarget,
  values: readonly [string, ...Array<string>],
  negated = false
): InList => ({ _tag: "InList", target, negated, values })

export const and = (left: Filter, right: Filter): And => ({ _tag: "And", left, right })
export const or = (left: Filter, right: Filter): Or => ({ _tag: "Or", left, right })
export const not = (operand: Filter): Not => ({ _tag: "Not", operand })

export const isNumericTarget = (target: Target): target is NumericTarget =>
  target._tag === "Metric" || (target._tag === "Attribute" && isNumericAttributeKey(target.key))
