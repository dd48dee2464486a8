import fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  accuracy,
  classificationMetrics,
  confusionMatrix,
  createRng,
  crossEntropy,
  fitStandardizer,
  logisticRegression,
  macroF1,
  makeClassification,
  mlp,
  predictLabels,
  trainTestSplit,
  type Dataset,
  type Model
} from "../src/demo/ml.ts"

const draws = (seed: number, count: number): number[] => {
  const rng = createRng(seed)
  return Array.from({ length: count }, () => rng.next())
}

/** A standardised, stratified split of an easy seeded problem. */
const prepared = (classes: number, seed = 11) => {
  const data = makeClassification({
    samples: 1500,
    features: 12,
    informative: 4,
    redundant: 2,
    classes,
    classSep: 2,
    flipY: 0.01,
    seed
  })
  const { train, test } = trainTestSplit(data, { testFraction: 0.25, stratify: true, seed: seed + 1 })
  const scaler = fitStandardizer(train.X)
  return { train: { ...train, X: scaler.transform(train.X) }, test: { ...test, X: scaler.transform(test.X) } }
}

const trainFor = (model: Model, data: Dataset, epochs: number, seed = 3): number[] => {
  const rng = createRng(seed)
  return Array.from({ length: epochs }, () => model.trainEpoch(data.X, data.y, rng).loss)
}

const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length

type Factory = (features: number, classes: number, seed: number, extra?: { l2?: number; batchSize?: number; learningRate?: number }) => Model

const factories: Array<[string, Factory]> = [
  ["logistic regression", (features, classes, seed, extra) =>
    logisticRegression({ features, classes, learningRate: 0.1, seed, ...extra })],
  ["MLP (relu)", (features, classes, seed, extra) =>
    mlp({ features, hidden: 16, classes, learningRate: 0.05, activation: "relu", seed, ...extra })],
  ["MLP (tanh)", (features, classes, seed, extra) =>
    mlp({ features, hidden: 16, classes, learningRate: 0.05, activation: "tanh", seed, ...extra })]
]

describe("createRng", () => {
  it("is deterministic for a seed and differs between seeds", () => {
    expect(draws(42, 100)).toEqual(draws(42, 100))
    expect(draws(42, 100)).not.toEqual(draws(43, 100))
  })

  it("draws uniforms in [0, 1) and integers in [0, n)", () => {
    fc.assert(
      fc.property(fc.integer(), fc.integer({ min: 1, max: 1000 }), (seed, n) => {
        const rng = createRng(seed)
        for (let i = 0; i < 50; i++) {
          const u = rng.next()
          expect(u >= 0 && u < 1).toBe(true)
          const k = rng.int(n)
          expect(Number.isInteger(k) && k >= 0 && k < n).toBe(true)
        }
      })
    )
  })

  it("draws standard normals", () => {
    const rng = createRng(7)
    const values = Array.from({ length: 20_000 }, () => rng.normal())
    const m = mean(values)
    const variance = mean(values.map((v) => (v - m) ** 2))
    expect(Math.abs(m)).toBeLessThan(0.03)
    expect(Math.abs(variance - 1)).toBeLessThan(0.05)
  })

  it("shuffles into a permutation", () => {
    fc.assert(
      fc.property(fc.integer(), fc.array(fc.integer(), { maxLength: 50 }), (seed, items) => {
        const shuffled = createRng(seed).shuffle([...items])
        expect([...shuffled].sort((a, b) => a - b)).toEqual([...items].sort((a, b) => a - b))
      })
    )
  })

  it("forks reproducibly", () => {
    const a = createRng(5).fork()
    const b = createRng(5).fork()
    expect([a.next(), a.next()]).toEqual([b.next(), b.next()])
  })

  it("rejects seeds that are not integers", () => {
    expect(() => createRng(1.5)).toThrow(RangeError)
  })
})

describe("makeClassification", () => {
  const options = { samples: 600, features: 10, informative: 3, redundant: 2, classes: 3, seed: 1 }

  it("is deterministic for a seed", () => {
    expect(makeClassification(options)).toEqual(makeClassification(options))
    expect(makeClassification(options).X).not.toEqual(makeClassification({ ...options, seed: 2 }).X)
  })

  it("has the requested shape and balanced, in-range labels", () => {
    const data = makeClassification({ ...options, clustersPerClass: 2, flipY: 0 })
    expect(data.X).toHaveLength(600)
    expect(data.y).toHaveLength(600)
    expect(data.classes).toBe(3)
    for (const row of data.X) {
      expect(row).toHaveLength(10)
      for (const v of row) expect(Number.isFinite(v)).toBe(true)
    }
    const counts = [0, 0, 0]
    for (const label of data.y) counts[label]++
    expect(counts).toEqual([200, 200, 200])
  })

  it("makes redundant columns linear combinations of the informative ones", () => {
    // With 3 informative and 2 redundant columns, any 4 rows of those 5 columns are rank <= 3.
    const data = makeClassification({ ...options, flipY: 0 })
    const rows = data.X.slice(0, 4).map((row) => row.slice(0, 4))
    expect(Math.abs(determinant(rows))).toBeLessThan(1e-9)
    const withNoise = data.X.slice(0, 4).map((row) => [...row.slice(0, 3), row[5]])
    expect(Math.abs(determinant(withNoise))).toBeGreaterThan(1e-6)
  })

  it("flips about flipY * (k - 1) / k of the labels and leaves the features alone", () => {
    const clean = makeClassification({ ...options, samples: 6000, flipY: 0 })
    const noisy = makeClassification({ ...options, samples: 6000, flipY: 0.3 })
    expect(noisy.X).toEqual(clean.X)
    const changed = clean.y.filter((label, i) => label !== noisy.y[i]).length / clean.y.length
    expect(changed).toBeGreaterThan(0.17)
    expect(changed).toBeLessThan(0.23)
  })

  it("separates classes more as classSep grows", () => {
    const fit = (classSep: number) => {
      const data = makeClassification({ ...options, classSep, flipY: 0, seed: 9 })
      const model = logisticRegression({ features: 10, classes: 3, learningRate: 0.1, seed: 1 })
      trainFor(model, data, 10)
      return accuracy(data.y, model.predict(data.X))
    }
    expect(fit(3)).toBeGreaterThan(fit(0.3) + 0.2)
  })

  it("rejects impossible requests", () => {
    expect(() => makeClassification({ ...options, informative: 1, clustersPerClass: 2 })).toThrow(RangeError)
    expect(() => makeClassification({ ...options, informative: 9, redundant: 2 })).toThrow(RangeError)
    expect(() => makeClassification({ ...options, classes: 1 })).toThrow(RangeError)
  })
})

/** Gaussian elimination with partial pivoting; enough to test rank in the generator test. */
const determinant = (matrix: number[][]): number => {
  const m = matrix.map((row) => [...row])
  let det = 1
  for (let col = 0; col < m.length; col++) {
    let pivot = col
    for (let r = col + 1; r < m.length; r++) if (Math.abs(m[r][col]) > Math.abs(m[pivot][col])) pivot = r
    if (m[pivot][col] === 0) return 0
    if (pivot !== col) {
      ;[m[pivot], m[col]] = [m[col], m[pivot]]
      det = -det
    }
    det *= m[col][col]
    for (let r = col + 1; r < m.length; r++) {
      const factor = m[r][col] / m[col][col]
      for (let c = col; c < m.length; c++) m[r][c] -= factor * m[col][c]
    }
  }
  return det
}

describe("trainTestSplit", () => {
  it("partitions the samples and keeps rows with their labels", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 300 }),
        fc.double({ min: 0.01, max: 0.99, noNaN: true }),
        fc.integer(),
        fc.boolean(),
        (n, testFraction, seed, stratify) => {
          const data: Dataset = {
            X: Array.from({ length: n }, (_, i) => [i, -i]),
            y: Array.from({ length: n }, (_, i) => (i * 7) % 3),
            classes: 3
          }
          const split = trainTestSplit(data, { testFraction, seed, stratify })
          const all = [...split.trainIndices, ...split.testIndices].sort((a, b) => a - b)
          expect(all).toEqual(Array.from({ length: n }, (_, i) => i))
          expect(split.trainIndices.length).toBeGreaterThan(0)
          expect(split.testIndices.length).toBeGreaterThan(0)
          split.trainIndices.forEach((index, i) => {
            expect(split.train.X[i]).toEqual(data.X[index])
            expect(split.train.y[i]).toBe(data.y[index])
          })
          split.testIndices.forEach((index, i) => {
            expect(split.test.X[i]).toEqual(data.X[index])
            expect(split.test.y[i]).toBe(data.y[index])
          })
          if (!stratify) {
            const expected = Math.min(n - 1, Math.max(1, Math.round(n * testFraction)))
            expect(split.testIndices).toHaveLength(expected)
          }
        }
      )
    )
  })

  it("is deterministic for a seed", () => {
    const data = makeClassification({ samples: 200, features: 4, informative: 2, classes: 2, seed: 3 })
    expect(trainTestSplit(data, { seed: 1 }).testIndices).toEqual(trainTestSplit(data, { seed: 1 }).testIndices)
    expect(trainTestSplit(data, { seed: 1 }).testIndices).not.toEqual(trainTestSplit(data, { seed: 2 }).testIndices)
  })

  it("keeps class proportions when stratified", () => {
    const data: Dataset = {
      X: Array.from({ length: 1000 }, (_, i) => [i]),
      y: Array.from({ length: 1000 }, (_, i) => (i < 900 ? 0 : 1)),
      classes: 2
    }
    const { test } = trainTestSplit(data, { testFraction: 0.2, stratify: true, seed: 4 })
    expect(test.y.filter((label) => label === 1)).toHaveLength(20)
    expect(test.y.filter((label) => label === 0)).toHaveLength(180)
  })
})

describe("fitStandardizer", () => {
  it("centres and scales the fitting data, and applies the same statistics elsewhere", () => {
    const rng = createRng(2)
    const train = Array.from({ length: 500 }, () => [3 + 2 * rng.normal(), -10 + 0.5 * rng.normal(), 4])
    const scaler = fitStandardizer(train)
    const scaled = scaler.transform(train)
    for (let j = 0; j < 2; j++) {
      const column = scaled.map((row) => row[j])
      expect(Math.abs(mean(column))).toBeLessThan(1e-12)
      expect(mean(column.map((v) => v * v))).toBeCloseTo(1, 12)
    }
    // A constant column maps to 0 rather than NaN.
    expect(scaled.every((row) => row[2] === 0)).toBe(true)
    // New data is transformed with the training statistics, not its own.
    const [shifted] = scaler.transform([[scaler.mean[0] + 2 * scaler.scale[0], scaler.mean[1], 5]])
    expect(shifted[0]).toBeCloseTo(2, 12)
    expect(shifted[1]).toBeCloseTo(0, 12)
    expect(shifted[2]).toBe(1)
  })
})

describe("metrics", () => {
  const labelPairs = fc
    .integer({ min: 2, max: 4 })
    .chain((classes) =>
      fc
        .array(fc.tuple(fc.nat({ max: classes - 1 }), fc.nat({ max: classes - 1 })), { minLength: 1, maxLength: 200 })
        .map((pairs) => ({ classes, yTrue: pairs.map(([t]) => t), yPred: pairs.map(([, p]) => p) }))
    )

  it("confusion matrix: sums to n, rows count true classes, diagonal matches accuracy", () => {
    fc.assert(
      fc.property(labelPairs, ({ classes, yTrue, yPred }) => {
        const matrix = confusionMatrix(yTrue, yPred, classes)
        expect(matrix).toHaveLength(classes)
        const total = matrix.flat().reduce((a, b) => a + b, 0)
        expect(total).toBe(yTrue.length)
        matrix.forEach((row, c) => {
          expect(row.reduce((a, b) => a + b, 0)).toBe(yTrue.filter((t) => t === c).length)
        })
        const diagonal = matrix.reduce((sum, row, c) => sum + row[c], 0)
        expect(diagonal / total).toBe(accuracy(yTrue, yPred))
        const f1 = macroF1(yTrue, yPred, classes)
        expect(f1 >= 0 && f1 <= 1).toBe(true)
      })
    )
  })

  it("computes macro F1 on a worked example", () => {
    // class 0: TP 1, FP 1, FN 1 -> 1/2; class 1: TP 2, FP 1 -> 4/5; class 2: TP 1, FN 1 -> 2/3
    const yTrue = [0, 0, 1, 1, 2, 2]
    const yPred = [0, 1, 1, 1, 2, 0]
    expect(macroF1(yTrue, yPred, 3)).toBeCloseTo((1 / 2 + 4 / 5 + 2 / 3) / 3, 12)
    expect(confusionMatrix(yTrue, yPred, 3)).toEqual([
      [1, 1, 0],
      [0, 2, 0],
      [1, 0, 1]
    ])
    expect(macroF1(yTrue, yTrue, 3)).toBe(1)
    // Class 2 is neither present nor predicted: it is skipped, not counted as 0.
    expect(macroF1([0, 1], [0, 1], 3)).toBe(1)
  })

  it("macro F1 weighs classes equally, unlike accuracy", () => {
    const yTrue = [...Array(90).fill(0), ...Array(10).fill(1)]
    const alwaysZero = Array(100).fill(0)
    expect(accuracy(yTrue, alwaysZero)).toBe(0.9)
    expect(macroF1(yTrue, alwaysZero, 2)).toBeCloseTo((180 / 190 + 0) / 2, 12)
  })

  it("cross-entropy: log k for uniform guesses, ~0 for certain ones, finite for confident mistakes", () => {
    expect(crossEntropy([0, 1, 2], Array(3).fill([1 / 3, 1 / 3, 1 / 3]))).toBeCloseTo(Math.log(3), 12)
    expect(crossEntropy([1, 0], [[0, 1], [1, 0]])).toBe(0)
    const wrong = crossEntropy([0], [[0, 1]])
    expect(Number.isFinite(wrong) && wrong > 30).toBe(true)
  })

  it("bundles loss, accuracy, macro F1 and the confusion matrix consistently", () => {
    const proba = [[0.7, 0.3], [0.4, 0.6], [0.2, 0.8], [0.9, 0.1]]
    const yTrue = [0, 0, 1, 1]
    const yPred = predictLabels(proba)
    expect(yPred).toEqual([0, 1, 1, 0])
    expect(classificationMetrics(yTrue, proba, 2)).toEqual({
      loss: crossEntropy(yTrue, proba),
      accuracy: 0.5,
      macroF1: macroF1(yTrue, yPred, 2),
      confusionMatrix: [
        [1, 1],
        [1, 1]
      ]
    })
  })

  it("rejects mismatched or out-of-range input", () => {
    expect(() => accuracy([0, 1], [0])).toThrow(RangeError)
    expect(() => confusionMatrix([0, 3], [0, 1], 3)).toThrow(RangeError)
    expect(() => crossEntropy([2], [[0.5, 0.5]])).toThrow(RangeError)
  })
})

describe.each(factories)("%s", (_name, make) => {
  it.each([2, 3])("learns an easy %i-class problem: loss falls, test accuracy is high", (classes) => {
    const { train, test } = prepared(classes)
    const model = make(12, classes, 1)
    const before = classificationMetrics(test.y, model.predictProba(test.X), classes)
    const losses = trainFor(model, train, 20)
    const after = classificationMetrics(test.y, model.predictProba(test.X), classes)

    expect(mean(losses.slice(-5))).toBeLessThan(0.6 * mean(losses.slice(0, 5)))
    expect(losses[losses.length - 1]).toBeLessThan(losses[0])
    expect(after.loss).toBeLessThan(0.5 * before.loss)
    expect(after.accuracy).toBeGreaterThan(0.85)
    expect(after.macroF1).toBeGreaterThan(0.85)
    const proba = model.predictProba(test.X)
    for (const row of proba) {
      expect(row).toHaveLength(classes)
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12)
    }
  })

  it("is deterministic for a seed, and the seed matters", () => {
    const { train } = prepared(3)
    const a = make(12, 3, 7)
    const b = make(12, 3, 7)
    expect(trainFor(a, train, 3)).toEqual(trainFor(b, train, 3))
    expect(a.weights()).toEqual(b.weights())
    expect(make(12, 3, 8).weights()).not.toEqual(make(12, 3, 7).weights())
    // Same init, different mini-batch order: different trajectory.
    const c = make(12, 3, 7)
    trainFor(c, train, 3, 99)
    expect(c.weights()).not.toEqual(a.weights())
  })

  it.each([0, 0.5])("steps down the gradient of its objective (l2 = %s)", (l2) => {
    // One full-batch epoch with a tiny learning rate is one step W1 = W0 - lr * G. Recover G
    // from the weights and check the objective fell by lr * |G|^2, as first-order theory says:
    // this fails if backpropagation disagrees with predictProba in any way (sign, scale, term).
    const balanced = makeClassification({ samples: 64, features: 5, informative: 3, classes: 3, seed: 21 })
    // Skewed classes, so the bias gradient is far from zero and gets checked too.
    const data = { ...balanced, y: balanced.y.map((label) => (label === 2 ? 0 : label)) }
    const learningRate = 1e-4
    const model = make(5, 3, 2, { l2, learningRate, batchSize: 64 })
    const objective = (): number => {
      let penalty = 0
      for (const value of Object.values(model.weights())) {
        if (Array.isArray(value[0])) for (const row of value as number[][]) for (const w of row) penalty += w * w
      }
      return crossEntropy(data.y, model.predictProba(data.X)) + (l2 / 2) * penalty
    }
    const flat = () => Object.values(model.weights()).flat(2)

    const before = flat()
    const objectiveBefore = objective()
    model.trainEpoch(data.X, data.y, createRng(0))
    const after = flat()
    const gradientNormSquared = before.reduce((sum, w, i) => sum + ((w - after[i]) / learningRate) ** 2, 0)

    const predicted = learningRate * gradientNormSquared
    const actual = objectiveBefore - objective()
    expect(predicted).toBeGreaterThan(1e-7)
    // Second-order terms leave a relative gap of about 1e-4 here; a wrong gradient is far off.
    expect(Math.abs(actual - predicted) / predicted).toBeLessThan(2e-3)
  })

  it("reports the loss of the weights it trained on", () => {
    const data = makeClassification({ samples: 100, features: 4, informative: 2, classes: 2, seed: 5 })
    const model = make(4, 2, 3, { batchSize: 100 })
    const expected = crossEntropy(data.y, model.predictProba(data.X))
    expect(model.trainEpoch(data.X, data.y, createRng(1)).loss).toBeCloseTo(expected, 12)
  })

  it("shrinks weights under L2", () => {
    const { train } = prepared(3)
    const norm = (model: Model) =>
      Object.values(model.weights())
        .filter((value) => Array.isArray(value[0]))
        .flatMap((value) => (value as number[][]).flat())
        .reduce((sum, w) => sum + w * w, 0)
    const plain = make(12, 3, 1)
    const decayed = make(12, 3, 1, { l2: 0.05 })
    trainFor(plain, train, 10)
    trainFor(decayed, train, 10)
    expect(norm(decayed)).toBeLessThan(0.7 * norm(plain))
  })

  it("exposes its config and copies of its weights", () => {
    const model = make(12, 3, 1)
    expect(model.features).toBe(12)
    expect(model.classes).toBe(3)
    expect(model.config).toMatchObject({ features: 12, classes: 3, batchSize: 32, l2: 0, seed: 1 })
    const weights = model.weights()
    const first = Object.values(weights)[0] as number[][]
    first[0][0] = 1e9
    expect(model.weights()).not.toEqual(weights)
  })

  it("rejects malformed training data", () => {
    const model = make(2, 2, 1)
    const rng = createRng(1)
    expect(() => model.trainEpoch([[0, 0]], [2], rng)).toThrow(RangeError)
    expect(() => model.trainEpoch([[0, 0, 0]], [1], rng)).toThrow(RangeError)
    expect(() => model.trainEpoch([[0, 0]], [0, 1], rng)).toThrow(RangeError)
    expect(() => model.predictProba([[1]])).toThrow(RangeError)
  })
})

describe("model shapes", () => {
  it("names weights by layer with (out x in) matrices", () => {
    const lr = logisticRegression({ features: 4, classes: 3, learningRate: 0.1, seed: 1 }).weights()
    expect(Object.keys(lr)).toEqual(["weight", "bias"])
    expect([lr.weight.length, (lr.weight as number[][])[0].length, lr.bias.length]).toEqual([3, 4, 3])
    const net = mlp({ features: 4, hidden: 5, classes: 3, learningRate: 0.1, seed: 1 }).weights()
    expect(Object.keys(net)).toEqual(["hidden.weight", "hidden.bias", "output.weight", "output.bias"])
    expect((net["hidden.weight"] as number[][]).map((row) => row.length)).toEqual([4, 4, 4, 4, 4])
    expect((net["output.weight"] as number[][]).map((row) => row.length)).toEqual([5, 5, 5])
  })
})

describe("MLP vs logistic regression", () => {
  it("only the MLP solves XOR", () => {
    // Four blobs at the corners of a square, opposite corners sharing a class: no line separates
    // them, and the best a line can do is cut off one corner (about 75% accuracy).
    const rng = createRng(17)
    const X: number[][] = []
    const y: number[] = []
    for (let i = 0; i < 800; i++) {
      const sx = rng.next() < 0.5 ? -1 : 1
      const sy = rng.next() < 0.5 ? -1 : 1
      X.push([1.5 * sx + 0.4 * rng.normal(), 1.5 * sy + 0.4 * rng.normal()])
      y.push(sx === sy ? 0 : 1)
    }
    const data: Dataset = { X, y, classes: 2 }
    const linear = logisticRegression({ features: 2, classes: 2, learningRate: 0.1, seed: 1 })
    const net = mlp({ features: 2, hidden: 16, classes: 2, learningRate: 0.1, seed: 1 })
    trainFor(linear, data, 30)
    trainFor(net, data, 30)
    expect(accuracy(y, linear.predict(X))).toBeLessThan(0.8)
    expect(accuracy(y, net.predict(X))).toBeGreaterThan(0.95)
  })
})
