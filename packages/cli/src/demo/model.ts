/**
 * The interface every demo model implements, and what they share: the pieces of mini-batch SGD and
 * the softmax classifier around a model's forward pass and batch step (softmaxModel).
 * Training is exposed one epoch at a time so the caller can log metrics between epochs.
 */
import type { Rng } from "./random.ts"

/** Feature rows; plain arrays and Float64Arrays both work. */
export type Features = ReadonlyArray<ArrayLike<number>>
/** Class labels, integers in [0, classes). */
export type Labels = ArrayLike<number>

export interface EpochResult {
  /**
   * Mean cross-entropy over the epoch's samples, each measured on the weights as they were
   * when its mini-batch was processed (the usual "running training loss"; no L2 penalty).
   */
  readonly loss: number
}

export interface Model {
  readonly kind: "logistic-regression" | "mlp"
  /** The resolved hyperparameters (defaults filled in), ready to log as run params. */
  readonly config: Readonly<Record<string, string | number>>
  readonly features: number
  readonly classes: number
  /**
   * One pass over (X, y) in mini-batches, in an order drawn from `rng`. `onBatch`, when given,
   * hears each mini-batch's mean loss as it is trained (a per-step training curve).
   */
  trainEpoch(X: Features, y: Labels, rng: Rng, onBatch?: (meanLoss: number) => void): EpochResult
  /** Class probabilities, one row per sample; each row sums to 1. */
  predictProba(X: Features): number[][]
  /** The most probable class per sample. */
  predict(X: Features): number[]
  /** A copy of the parameters: matrices as rows (out x in), biases as vectors. */
  weights(): Record<string, number[][] | number[]>
}

/** Checks shapes and labels up front: a bad label would otherwise index past a buffer silently. */
export const checkTrainingData = (X: Features, y: Labels, features: number, classes: number): void => {
  if (X.length !== y.length) throw new RangeError(`X has ${X.length} rows but y has ${y.length} labels`)
  if (X.length === 0) throw new RangeError("cannot train on zero samples")
  for (let i = 0; i < X.length; i++) {
    if (X[i].length !== features) throw new RangeError(`row ${i} has ${X[i].length} features, expected ${features}`)
    const label = y[i]
    if (!Number.isInteger(label) || label < 0 || label >= classes) {
      throw new RangeError(`label ${label} at row ${i} is outside [0, ${classes})`)
    }
  }
}

export const checkFeatures = (X: Features, features: number): void => {
  for (let i = 0; i < X.length; i++) {
    if (X[i].length !== features) throw new RangeError(`row ${i} has ${X[i].length} features, expected ${features}`)
  }
}

/**
 * Shuffles the sample order with `rng` and hands consecutive mini-batches of it to
 * `trainBatch`, which updates the weights and returns its summed loss. Returns the mean
 * loss per sample. The last batch may be smaller; nothing is dropped. `onBatch` hears each
 * batch's mean loss.
 */
export const runEpoch = (
  samples: number,
  batchSize: number,
  rng: Rng,
  trainBatch: (order: Int32Array, start: number, end: number) => number,
  onBatch?: (meanLoss: number) => void
): number => {
  const order = new Int32Array(samples)
  for (let i = 0; i < samples; i++) order[i] = i
  rng.shuffle(order)
  let lossSum = 0
  for (let start = 0; start < samples; start += batchSize) {
    const end = Math.min(start + batchSize, samples)
    const batchLoss = trainBatch(order, start, end)
    lossSum += batchLoss
    onBatch?.(batchLoss / (end - start))
  }
  return lossSum / samples
}

/**
 * Turns logits into probabilities in place and returns the cross-entropy of `label`.
 * The loss is log-sum-exp minus the true logit, computed from logits rather than from
 * log(p), so it stays finite and exact even when p underflows to 0.
 */
export const softmaxCrossEntropy = (logits: Float64Array, label: number): number => {
  const trueLogit = logits[label]
  const lse = softmaxInPlace(logits)
  return lse - trueLogit
}

/** Softmax in place, shifted by the max logit so exp cannot overflow. Returns log-sum-exp. */
export const softmaxInPlace = (logits: Float64Array): number => {
  let max = -Infinity
  for (let c = 0; c < logits.length; c++) if (logits[c] > max) max = logits[c]
  let sum = 0
  for (let c = 0; c < logits.length; c++) {
    logits[c] = Math.exp(logits[c] - max)
    sum += logits[c]
  }
  for (let c = 0; c < logits.length; c++) logits[c] /= sum
  return max + Math.log(sum)
}

/** Index of the largest entry; ties go to the lowest index. */
export const argmax = (values: ArrayLike<number>): number => {
  let best = 0
  for (let c = 1; c < values.length; c++) if (values[c] > values[best]) best = c
  return best
}

/** A row-major Float64Array as an array of row arrays (copies). */
export const toRows = (data: Float64Array, rows: number, cols: number): number[][] =>
  Array.from({ length: rows }, (_, r) => Array.from(data.subarray(r * cols, (r + 1) * cols)))

export interface SgdOptions {
  readonly learningRate: number
  /** L2 penalty coefficient: the objective gains (l2 / 2) * ||W||^2 on weight matrices, not biases. Default 0. */
  readonly l2?: number
  /** Samples per gradient step. Default 32. */
  readonly batchSize?: number
  /** Seeds the weight initialisation. */
  readonly seed: number
}

/** Validates the options both models share and fills in their defaults. */
export const resolveSgdOptions = (options: SgdOptions): { learningRate: number; l2: number; batchSize: number } => {
  const l2 = options.l2 ?? 0
  const batchSize = options.batchSize ?? 32
  if (!(options.learningRate > 0 && Number.isFinite(options.learningRate))) {
    throw new RangeError(`learningRate must be a positive number, got ${options.learningRate}`)
  }
  if (!(l2 >= 0 && Number.isFinite(l2))) throw new RangeError(`l2 must be a non-negative number, got ${l2}`)
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`)
  return { learningRate: options.learningRate, l2, batchSize }
}

export const checkDimension = (name: string, value: number, minimum: number): void => {
  if (!Number.isInteger(value) || value < minimum) throw new RangeError(`${name} must be an integer >= ${minimum}, got ${value}`)
}

/** What a softmax classifier supplies to become a Model; the rest (checks, epochs, prediction) is shared. */
export interface SoftmaxClassifier {
  readonly kind: Model["kind"]
  readonly config: Model["config"]
  readonly features: number
  readonly classes: number
  readonly batchSize: number
  /** Computes the logits of `x` into `logits`. */
  readonly forward: (x: ArrayLike<number>) => void
  /** The buffer `forward` writes. */
  readonly logits: Float64Array
  /** Trains on the samples `order[start..end)` of (X, y) and returns their summed loss. */
  readonly trainBatch: (X: Features, y: Labels) => (order: Int32Array, start: number, end: number) => number
  readonly weights: Model["weights"]
}

export const softmaxModel = (m: SoftmaxClassifier): Model => {
  const predictProba = (X: Features): number[][] => {
    checkFeatures(X, m.features)
    return X.map((x) => {
      m.forward(x)
      softmaxInPlace(m.logits)
      return Array.from(m.logits)
    })
  }
  return {
    kind: m.kind,
    config: m.config,
    features: m.features,
    classes: m.classes,
    trainEpoch: (X: Features, y: Labels, rng: Rng, onBatch?: (meanLoss: number) => void) => {
      checkTrainingData(X, y, m.features, m.classes)
      return { loss: runEpoch(X.length, m.batchSize, rng, m.trainBatch(X, y), onBatch) }
    },
    predictProba,
    predict: (X: Features) => predictProba(X).map(argmax),
    weights: m.weights
  }
}
