/**
 * A multilayer perceptron with one hidden layer (ReLU or tanh) and a softmax output,
 * trained with mini-batch SGD by hand-written backpropagation. Small enough that plain
 * loops over flat Float64Arrays beat any general tensor machinery at this size.
 */
import { checkDimension, type Features, type Labels, type Model, resolveSgdOptions, type SgdOptions, softmaxCrossEntropy, softmaxModel, toRows } from "./model.ts"
import { accumulateDense, dense, forwardDense, sgdStep, zeroGradients } from "./dense.ts"
import { createRng } from "./random.ts"

export type Activation = "relu" | "tanh"

export interface MlpOptions extends SgdOptions {
  readonly features: number
  readonly hidden: number
  readonly classes: number
  /** Hidden-layer non-linearity. Default "relu". */
  readonly activation?: Activation
}

export const mlp = (options: MlpOptions): Model => {
  const { features: d, hidden: h, classes: k } = options
  checkDimension("features", d, 1)
  checkDimension("hidden", h, 1)
  checkDimension("classes", k, 2)
  const activation = options.activation ?? "relu"
  if (activation !== "relu" && activation !== "tanh") throw new RangeError(`unknown activation ${String(activation)}`)
  const relu = activation === "relu"
  const { learningRate, l2, batchSize } = resolveSgdOptions(options)

  // Random init breaks the symmetry between hidden units. The scale keeps activations'
  // variance roughly constant through the layers: He for ReLU (which zeroes half its
  // inputs), Glorot for tanh and for the linear output layer.
  const initRng = createRng(options.seed)
  const hiddenStd = relu ? Math.sqrt(2 / d) : Math.sqrt(2 / (d + h))
  const outputStd = Math.sqrt(2 / (h + k))
  const hidden = dense(d, h, () => hiddenStd * initRng.normal())
  const output = dense(h, k, () => outputStd * initRng.normal())
  const preActivation = new Float64Array(h)
  const hiddenOut = new Float64Array(h)
  const hiddenDelta = new Float64Array(h)
  const logits = new Float64Array(k)

  const forward = (x: ArrayLike<number>): void => {
    forwardDense(hidden, x, preActivation)
    for (let u = 0; u < h; u++) {
      const z = preActivation[u]
      hiddenOut[u] = relu ? (z > 0 ? z : 0) : Math.tanh(z)
    }
    forwardDense(output, hiddenOut, logits)
  }

  const trainBatch = (X: Features, y: Labels) => (order: Int32Array, start: number, end: number): number => {
    zeroGradients(hidden)
    zeroGradients(output)
    let lossSum = 0
    for (let i = start; i < end; i++) {
      const x = X[order[i]]
      const label = y[order[i]]
      forward(x)
      lossSum += softmaxCrossEntropy(logits, label)
      logits[label] -= 1 // now d(loss)/d(logits)
      accumulateDense(output, hiddenOut, logits)
      const W2 = output.W
      for (let u = 0; u < h; u++) {
        // Back through the output layer (W2 transposed), then the activation.
        let back = 0
        for (let c = 0; c < k; c++) back += W2[c * h + u] * logits[c]
        hiddenDelta[u] = relu ? (preActivation[u] > 0 ? back : 0) : back * (1 - hiddenOut[u] * hiddenOut[u])
      }
      accumulateDense(hidden, x, hiddenDelta)
    }
    sgdStep(hidden, learningRate, l2, end - start)
    sgdStep(output, learningRate, l2, end - start)
    return lossSum
  }

  return softmaxModel({
    kind: "mlp",
    config: { model: "mlp", features: d, hidden: h, classes: k, activation, learningRate, l2, batchSize, seed: options.seed },
    features: d,
    classes: k,
    batchSize,
    forward,
    logits,
    trainBatch,
    weights: () => ({
      "hidden.weight": toRows(hidden.W, h, d),
      "hidden.bias": Array.from(hidden.b),
      "output.weight": toRows(output.W, k, h),
      "output.bias": Array.from(output.b)
    })
  })
}
