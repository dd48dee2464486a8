/**
 * Multinomial logistic regression: one linear layer and a softmax, trained with mini-batch
 * SGD on the mean cross-entropy plus an optional L2 penalty. Weights live in flat
 * Float64Arrays and every buffer is allocated once, so an epoch allocates almost nothing.
 */
import { checkDimension, type Features, type Labels, type Model, resolveSgdOptions, type SgdOptions, softmaxCrossEntropy, softmaxModel, toRows } from "./model.ts"
import { accumulateDense, dense, forwardDense, sgdStep, zeroGradients } from "./dense.ts"
import { createRng } from "./random.ts"

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
  const layer = dense(d, k, () => 0.01 * initRng.normal())
  const logits = new Float64Array(k)

  const trainBatch = (X: Features, y: Labels) => (order: Int32Array, start: number, end: number): number => {
    zeroGradients(layer)
    let lossSum = 0
    for (let i = start; i < end; i++) {
      const x = X[order[i]]
      const label = y[order[i]]
      forwardDense(layer, x, logits)
      lossSum += softmaxCrossEntropy(logits, label)
      // d(loss)/d(logits) = p - onehot(label)
      logits[label] -= 1
      accumulateDense(layer, x, logits)
    }
    sgdStep(layer, learningRate, l2, end - start)
    return lossSum
  }

  return softmaxModel({
    kind: "logistic-regression",
    config: { model: "logistic-regression", features: d, classes: k, learningRate, l2, batchSize, seed: options.seed },
    features: d,
    classes: k,
    batchSize,
    forward: (x) => forwardDense(layer, x, logits),
    logits,
    trainBatch,
    weights: () => ({ weight: toRows(layer.W, k, d), bias: Array.from(layer.b) })
  })
}
