/**
 * Multinomial logistic regression: one linear layer and a softmax, trained with mini-batch
 * SGD on the mean cross-entropy plus an optional L2 penalty. Weights live in flat
 * Float64Arrays and every buffer is allocated once, so an epoch allocates almost nothing.
 */
import {
  argmax,
  checkDimension,
  checkFeatures,
  checkTrainingData,
  resolveSgdOptions,
  runEpoch,
  softmaxCrossEntropy,
  softmaxInPlace,
  toRows,
  type Features,
  type Labels,
  type Model,
  type SgdOptions
} from "./model.ts"
import { createRng, type Rng } from "./random.ts"

export interface LogisticRegressionOptions extends SgdOptions {
  readonly features: number
  readonly classes: number
}

export const logisticRegression = (options: LogisticRegressionOptions): Model => {
  const { features: d, classes: k } = options
  checkDimension("features", d, 1)
  checkDimension("classes", k, 2)
  const { learningRate, l2, batchSize } = resolveSgdOptions(options)

  // The loss is convex, so zero weights would do; a tiny seeded perturbation makes runs
  // with different seeds differ, which is what a seed sweep in a demo wants to show.
  const initRng = createRng(options.seed)
  const W = new Float64Array(k * d).map(() => 0.01 * initRng.normal()) // k x d, row-major
  const b = new Float64Array(k)
  const gradW = new Float64Array(k * d)
  const gradB = new Float64Array(k)
  const logits = new Float64Array(k)

  const forward = (x: ArrayLike<number>): void => {
    for (let c = 0; c < k; c++) {
      let sum = b[c]
      const offset = c * d
      for (let j = 0; j < d; j++) sum += W[offset + j] * x[j]
      logits[c] = sum
    }
  }

  const trainBatch = (X: Features, y: Labels) => (order: Int32Array, start: number, end: number): number => {
    gradW.fill(0)
    gradB.fill(0)
    let lossSum = 0
    for (let i = start; i < end; i++) {
      const x = X[order[i]]
      const label = y[order[i]]
      forward(x)
      lossSum += softmaxCrossEntropy(logits, label)
      // d(loss)/d(logits) = p - onehot(label)
      logits[label] -= 1
      for (let c = 0; c < k; c++) {
        const delta = logits[c]
        gradB[c] += delta
        const offset = c * d
        for (let j = 0; j < d; j++) gradW[offset + j] += delta * x[j]
      }
    }
    const step = learningRate / (end - start)
    // Weight decay, folded into one pass: W <- W - lr * (grad / m + l2 * W).
    const shrink = 1 - learningRate * l2
    for (let p = 0; p < W.length; p++) W[p] = W[p] * shrink - step * gradW[p]
    for (let c = 0; c < k; c++) b[c] -= step * gradB[c]
    return lossSum
  }

  const predictProba = (X: Features): number[][] => {
    checkFeatures(X, d)
    return X.map((x) => {
      forward(x)
      softmaxInPlace(logits)
      return Array.from(logits)
    })
  }

  return {
    kind: "logistic-regression",
    config: { model: "logistic-regression", features: d, classes: k, learningRate, l2, batchSize, seed: options.seed },
    features: d,
    classes: k,
    trainEpoch: (X: Features, y: Labels, rng: Rng) => {
      checkTrainingData(X, y, d, k)
      return { loss: runEpoch(X.length, batchSize, rng, trainBatch(X, y)) }
    },
    predictProba,
    predict: (X: Features) => predictProba(X).map(argmax),
    weights: () => ({ weight: toRows(W, k, d), bias: Array.from(b) })
  }
}
