/**
 * A multilayer perceptron with one hidden layer (ReLU or tanh) and a softmax output,
 * trained with mini-batch SGD by hand-written backpropagation. Small enough that plain
 * loops over flat Float64Arrays beat any general tensor machinery at this size.
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
  const W1 = new Float64Array(h * d).map(() => hiddenStd * initRng.normal()) // h x d
  const b1 = new Float64Array(h)
  const W2 = new Float64Array(k * h).map(() => outputStd * initRng.normal()) // k x h
  const b2 = new Float64Array(k)

  const gradW1 = new Float64Array(h * d)
  const gradB1 = new Float64Array(h)
  const gradW2 = new Float64Array(k * h)
  const gradB2 = new Float64Array(k)
  const preActivation = new Float64Array(h)
  const hiddenOut = new Float64Array(h)
  const logits = new Float64Array(k)

  const forward = (x: ArrayLike<number>): void => {
    for (let u = 0; u < h; u++) {
      let sum = b1[u]
      const offset = u * d
      for (let j = 0; j < d; j++) sum += W1[offset + j] * x[j]
      preActivation[u] = sum
      hiddenOut[u] = relu ? (sum > 0 ? sum : 0) : Math.tanh(sum)
    }
    for (let c = 0; c < k; c++) {
      let sum = b2[c]
      const offset = c * h
      for (let u = 0; u < h; u++) sum += W2[offset + u] * hiddenOut[u]
      logits[c] = sum
    }
  }

  const trainBatch = (X: Features, y: Labels) => (order: Int32Array, start: number, end: number): number => {
    gradW1.fill(0)
    gradB1.fill(0)
    gradW2.fill(0)
    gradB2.fill(0)
    let lossSum = 0
    for (let i = start; i < end; i++) {
      const x = X[order[i]]
      const label = y[order[i]]
      forward(x)
      lossSum += softmaxCrossEntropy(logits, label)
      logits[label] -= 1 // now d(loss)/d(logits)
      for (let c = 0; c < k; c++) {
        const delta = logits[c]
        gradB2[c] += delta
        const offset = c * h
        for (let u = 0; u < h; u++) gradW2[offset + u] += delta * hiddenOut[u]
      }
      for (let u = 0; u < h; u++) {
        // Back through the output layer (W2 transposed), then the activation.
        let back = 0
        for (let c = 0; c < k; c++) back += W2[c * h + u] * logits[c]
        const delta = relu ? (preActivation[u] > 0 ? back : 0) : back * (1 - hiddenOut[u] * hiddenOut[u])
        if (delta === 0) continue // inactive ReLU unit: its row gets no gradient
        gradB1[u] += delta
        const offset = u * d
        for (let j = 0; j < d; j++) gradW1[offset + j] += delta * x[j]
      }
    }
    const step = learningRate / (end - start)
    const shrink = 1 - learningRate * l2
    for (let p = 0; p < W1.length; p++) W1[p] = W1[p] * shrink - step * gradW1[p]
    for (let p = 0; p < W2.length; p++) W2[p] = W2[p] * shrink - step * gradW2[p]
    for (let u = 0; u < h; u++) b1[u] -= step * gradB1[u]
    for (let c = 0; c < k; c++) b2[c] -= step * gradB2[c]
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
    kind: "mlp",
    config: { model: "mlp", features: d, hidden: h, classes: k, activation, learningRate, l2, batchSize, seed: options.seed },
    features: d,
    classes: k,
    trainEpoch: (X: Features, y: Labels, rng: Rng) => {
      checkTrainingData(X, y, d, k)
      return { loss: runEpoch(X.length, batchSize, rng, trainBatch(X, y)) }
    },
    predictProba,
    predict: (X: Features) => predictProba(X).map(argmax),
    weights: () => ({
      "hidden.weight": toRows(W1, h, d),
      "hidden.bias": Array.from(b1),
      "output.weight": toRows(W2, k, h),
      "output.bias": Array.from(b2)
    })
  }
}
