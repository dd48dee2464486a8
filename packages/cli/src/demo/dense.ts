/**
 * A dense (fully connected) layer over flat row-major Float64Arrays: the forward pass, the
 * gradient of its weights and bias for one example, and the SGD step with L2 weight decay.
 * Both demo models are built from it.
 */

export interface Dense {
  /** outputs x inputs, row-major. */
  readonly W: Float64Array
  readonly b: Float64Array
  readonly gradW: Float64Array
  readonly gradB: Float64Array
  readonly inputs: number
  readonly outputs: number
}

export const dense = (inputs: number, outputs: number, init: () => number): Dense => ({
  W: new Float64Array(outputs * inputs).map(init),
  b: new Float64Array(outputs),
  gradW: new Float64Array(outputs * inputs),
  gradB: new Float64Array(outputs),
  inputs,
  outputs
})

/** out = W x + b. */
export const forwardDense = (layer: Dense, x: ArrayLike<number>, out: Float64Array): void => {
  const { W, b, inputs: d } = layer
  for (let o = 0; o < layer.outputs; o++) {
    let sum = b[o]
    const offset = o * d
    for (let j = 0; j < d; j++) sum += W[offset + j] * x[j]
    out[o] = sum
  }
}

/** Add one example's gradient, given d(loss)/d(output) as `delta`. */
export const accumulateDense = (layer: Dense, x: ArrayLike<number>, delta: ArrayLike<number>): void => {
  const { gradW, gradB, inputs: d } = layer
  for (let o = 0; o < layer.outputs; o++) {
    const g = delta[o]
    if (g === 0) continue // e.g. an inactive ReLU unit: its row gets no gradient
    gradB[o] += g
    const offset = o * d
    for (let j = 0; j < d; j++) gradW[offset + j] += g * x[j]
  }
}

export const zeroGradients = (layer: Dense): void => {
  layer.gradW.fill(0)
  layer.gradB.fill(0)
}

/** W <- W - lr * (grad / m + l2 * W) and b <- b - lr * grad / m: the L2 penalty spares biases. */
export const sgdStep = (layer: Dense, learningRate: number, l2: number, batch: number): void => {
  const step = learningRate / batch
  const shrink = 1 - learningRate * l2
  const { W, gradW, b, gradB } = layer
  for (let p = 0; p < W.length; p++) W[p] = W[p] * shrink - step * gradW[p]
  for (let o = 0; o < b.length; o++) b[o] -= step * gradB[o]
}
