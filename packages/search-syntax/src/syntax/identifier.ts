/**
 * Identifiers: `<entity>.<key>` as in MLflow, or a bare attribute name.
 *
 * - entity prefixes (case-sensitive, as in MLflow): `metrics`/`metric`,
 *   `params`/`param`/`parameters`/`parameter`, `tags`/`tag`,
 *   `attributes`/`attribute`/`attr`/`run`;
 * - keys are bare (`[A-Za-z0-9_]+` segments joined by dots, e.g. `tags.mlflow.user`; unlike
 *   MLflow a bare key may start with a digit) or quoted with backticks or double quotes
 *   (`metrics."my key"`, params.`lr.x`), a doubled quote inside standing for itself; single
 *   quotes are for values only, as in MLflow (`tag.'test'` is an error);
 * - a bare identifier without a prefix is an attribute (`status = 'FAILED'`), as in MLflow;
 * - attribute aliases as in MLflow: `created`/`Created` → start_time, `run name`/`Run name`/
 *   `Run Name` → run_name; and `tags.mlflow.runName` → the run_name attribute.
 */
import {
  attribute,
  attributeKeys,
  isNumericAttributeKey,
  isStringAttributeKey,
  metric,
  param,
  tag,
  type AttributeKey,
  type Target
} from "../filter/ast.ts"
import { isWordChar, type Scanner } from "./scanner.ts"

type Entity = "Metric" | "Param" | "Tag" | "Attribute"

const entityPrefixes: Readonly<Record<string, Entity>> = {
  metrics: "Metric",
  metric: "Metric",
  params: "Param",
  param: "Param",
  parameters: "Param",
  parameter: "Param",
  tags: "Tag",
  tag: "Tag",
  attributes: "Attribute",
  attribute: "Attribute",
  attr: "Attribute",
  run: "Attribute"
}

const attributeAliases: Readonly<Record<string, AttributeKey>> = {
  created: "start_time",
  Created: "start_time",
  "run name": "run_name",
  "Run name": "run_name",
  "Run Name": "run_name"
}

/** The tag MLflow uses for a run's name; `tags.mlflow.runName` means the run_name attribute. */
export const RUN_NAME_TAG = "mlflow.runName"

const attributeList = attributeKeys.join(", ")

const resolveAttribute = (key: string): AttributeKey | undefined => {
  const aliased = Object.hasOwn(attributeAliases, key) ? attributeAliases[key] : key
  return isStringAttributeKey(aliased) || isNumericAttributeKey(aliased) ? aliased : undefined
}

export interface ParsedTarget {
  readonly target: Target
  /** The identifier as written, for error messages. */
  readonly text: string
  readonly position: number
}

/** Reads an identifier at the current position; `expected` names what the caller wanted there. */
export const parseTarget = (s: Scanner, expected: string): ParsedTarget => {
  s.skipWhitespace()
  const start = s.pos
  const word = s.readWord()
  if (word === undefined) s.fail(start, `expected ${expected}, found ${s.describeAt(start)}`)
  const done = (target: Target): ParsedTarget => ({ target, text: s.input.slice(start, s.pos), position: start })

  if (s.peek() !== ".") {
    const key = resolveAttribute(word)
    if (key === undefined) {
      s.fail(
        start,
        `unknown identifier '${word}': expected an attribute (${attributeList}) ` +
          `or an entity-prefixed key such as metrics.${word}, params.${word} or tags.${word}`
      )
    }
    return done(attribute(key))
  }

  const entity = Object.hasOwn(entityPrefixes, word) ? entityPrefixes[word] : undefined
  if (entity === undefined) {
    if (word === "dataset" || word === "datasets") {
      s.fail(start, `dataset filters (${word}.…) are not supported; expected metrics., params., tags. or attributes.`)
    }
    s.fail(
      start,
      `unknown entity type '${word}': expected metrics., params., tags. or attributes. ` +
        `(aliases: metric, param, parameter, parameters, tag, attribute, attr, run)`
    )
  }
  s.pos++ // the dot
  const keyPos = s.pos
  const key = readKey(s, `${word}.`)

  switch (entity) {
    case "Metric":
      return done(metric(key))
    case "Param":
      return done(param(key))
    case "Tag":
      return done(key === RUN_NAME_TAG ? attribute("run_name") : tag(key))
    case "Attribute": {
      const attr = resolveAttribute(key)
      if (attr === undefined) s.fail(keyPos, `unknown attribute '${key}': expected one of ${attributeList}`)
      return done(attribute(attr))
    }
  }
}

const readKey = (s: Scanner, after: string): string => {
  const keyPos = s.pos
  const c = s.peek()
  let key: string
  if (c === "'") {
    s.fail(
      keyPos,
      `expected a key after '${after}', found ${s.describeAt(keyPos)}: single quotes are for values, ` +
        `quote keys with backticks or double quotes (${after}\`my key\`, ${after}"my key")`
    )
  }
  if (c === "`" || c === "\"") {
    key = s.readQuoted("quoted key")
  } else if (isWordChar(c)) {
    while (isWordChar(s.peek()) || (s.peek() === "." && isWordChar(s.peek(1)))) s.pos++
    key = s.input.slice(keyPos, s.pos)
  } else {
    s.fail(keyPos, `expected a key after '${after}' (quote keys with special characters: ${after}\`my key\`), found ${s.describeAt(keyPos)}`)
  }
  if (key === "") s.fail(keyPos, `expected a non-empty key after '${after}'`)
  return key
}

const BARE_KEY = /^[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*$/

/** A key as the parser reads it back: bare when possible, otherwise in backticks. */
export const printKey = (key: string): string => (BARE_KEY.test(key) ? key : `\`${key.replaceAll("`", "``")}\``)

/** The canonical spelling of a target: `metrics.acc`, `params.\`lr.x\``, `attributes.status`. */
export const printTarget = (target: Target): string => {
  switch (target._tag) {
    case "Metric":
      return `metrics.${printKey(target.key)}`
    case "Param":
      return `params.${printKey(target.key)}`
    case "Tag":
      return `tags.${printKey(target.key)}`
    case "Attribute":
      return `attributes.${target.key}`
  }
}
