/**
 * Seeded synthetic classification data, modelled on scikit-learn's make_classification, plus
 * the two preparation steps every tabular demo needs: a train/test split and standardisation.
 */
import { createRng, type Rng } from "./random.ts"

/** A labelled data set: one feature row per sample, labels are integers in [0, classes). */
export interface Dataset {
  readonly X: number[][]
  readonly y: number[]
  readonly classes: number
}

export interface ClassificationOptions {
  readonly samples: number
  /** Total columns: informative, then redundant, then pure noise. */
  readonly features: number
  /** Columns that carry the class signal. */
  readonly informative: number
  /** Random linear combinations of the informative columns (collinear, no new signal). Default 0. */
  readonly redundant?: number
  /** Number of classes, at least 2. */
  readonly classes: number
  /** Gaussian clusters per class; more than one makes the problem non-linear. Default 1. */
  readonly clustersPerClass?: number
  /** Half the side of the hypercube the cluster centres sit on; larger is easier. Default 1. */
  readonly classSep?: number
  /** Fraction of labels replaced by a uniformly random class (which may be the same one). Default 0.01. */
  readonly flipY?: number
  readonly seed: number
}

const positiveInteger = (name: string, value: number): void => {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`)
}

/**
 * Generates `samples` points in `clustersPerClass * classes` gaussian clusters. As in
 * make_classification, cluster centres are distinct vertices of a hypercube in the
 * informative subspace and each cluster gets its own random covariance, so classes overlap
 * a little however large classSep is; flipY adds label noise on top. Rows are shuffled.
 */
export const makeClassification = (options: ClassificationOptions): Dataset => {
  const { samples, features, informative, classes, seed } = options
  const redundant = options.redundant ?? 0
  const clustersPerClass = options.clustersPerClass ?? 1
  const classSep = options.classSep ?? 1
  const flipY = options.flipY ?? 0.01
  positiveInteger("samples", samples)
  positiveInteger("features", features)
  positiveInteger("informative", informative)
  positiveInteger("clustersPerClass", clustersPerClass)
  if (!Number.isInteger(classes) || classes < 2) throw new RangeError(`classes must be an integer >= 2, got ${classes}`)
  if (!Number.isInteger(redundant) || redundant < 0) throw new RangeError(`redundant must be a non-negative integer, got ${redundant}`)
  if (informative + redundant > features) {
    throw new RangeError(`informative + redundant (${informative + redundant}) exceeds features (${features})`)
  }
  const clusters = classes * clustersPerClass
  if (informative < 31 && 2 ** informative < clusters) {
    throw new RangeError(`${clusters} clusters need at least ${Math.ceil(Math.log2(clusters))} informative features`)
  }
  if (!(classSep > 0)) throw new RangeError(`classSep must be positive, got ${classSep}`)
  if (!(flipY >= 0 && flipY <= 1)) throw new RangeError(`flipY must be in [0, 1], got ${flipY}`)

  // Separate streams, so that e.g. changing flipY leaves the features untouched.
  const root = createRng(seed)
  const structureRng = root.fork()
  const sampleRng = root.fork()
  const noiseRng = root.fork()
  const orderRng = root.fork()

  const centres = hypercubeVertices(clusters, informative, structureRng).map((vertex) =>
    vertex.map((bit) => (bit ? classSep : -classSep))
  )
  const uniformMatrix = (rows: number, cols: number): number[][] =>
    Array.from({ length: rows }, () => Array.from({ length: cols }, () => 2 * structureRng.next() - 1))
  // x = z A + centre with z standard normal gives each cluster covariance A^T A.
  const covariances = centres.map(() => uniformMatrix(informative, informative))
  const redundancy = uniformMatrix(informative, redundant)

  const X: number[][] = []
  const y: number[] = []
  const perCluster = Math.floor(samples / clusters)
  const z = new Float64Array(informative)
  for (let cluster = 0; cluster < clusters; cluster++) {
    const size = perCluster + (cluster < samples % clusters ? 1 : 0)
    const centre = centres[cluster]
    const A = covariances[cluster]
    for (let s = 0; s < size; s++) {
      for (let i = 0; i < informative; i++) z[i] = sampleRng.normal()
      const row = new Array<number>(features)
      for (let j = 0; j < informative; j++) {
        let value = centre[j]
        for (let i = 0; i < informative; i++) value += z[i] * A[i][j]
        row[j] = value
      }
      for (let r = 0; r < redundant; r++) {
        let value = 0
        for (let i = 0; i < informative; i++) value += row[i] * redundancy[i][r]
        row[informative + r] = value
      }
      for (let j = informative + redundant; j < features; j++) row[j] = sampleRng.normal()
      X.push(row)
      // Clusters are dealt to classes round-robin, so classes are balanced.
      y.push(cluster % classes)
    }
  }

  for (let i = 0; i < samples; i++) {
    if (noiseRng.next() < flipY) y[i] = noiseRng.int(classes)
  }

  const order = orderRng.shuffle(Array.from({ length: samples }, (_, i) => i))
  return { X: order.map((i) => X[i]), y: order.map((i) => y[i]), classes }
}

/** `count` distinct random vertices of the unit hypercube in `dimensions` dimensions, as bit vectors. */
const hypercubeVertices = (count: number, dimensions: number, rng: Rng): boolean[][] => {
  const seen = new Set<string>()
  const vertices: boolean[][] = []
  // Rejection sampling terminates quickly: the caller guarantees 2^dimensions >= count.
  while (vertices.length < count) {
    const vertex = Array.from({ length: dimensions }, () => rng.next() < 0.5)
    const key = vertex.map((bit) => (bit ? "1" : "0")).join("")
    if (seen.has(key)) continue
    seen.add(key)
    vertices.push(vertex)
  }
  return vertices
}

/** Selects rows of a data set, keeping their order in `indices`. */
export const subset = (data: Dataset, indices: ReadonlyArray<number>): Dataset => ({
  X: indices.map((i) => data.X[i]),
  y: indices.map((i) => data.y[i]),
  classes: data.classes
})

export interface SplitOptions {
  /** Fraction of samples held out for testing, in (0, 1). Default 0.2. */
  readonly testFraction?: number
  /** Keep each class's proportion equal in both halves. Default false. */
  readonly stratify?: boolean
  readonly seed: number
}

export interface Split {
  readonly train: Dataset
  readonly test: Dataset
  /** Row numbers in the original data set; together they are a partition of 0..n-1. */
  readonly trainIndices: number[]
  readonly testIndices: number[]
}

/**
 * A seeded random train/test split. The test set gets round(n * testFraction) samples (per
 * class when stratified), clamped so that neither half is empty when n >= 2.
 */
export const trainTestSplit = (data: Dataset, options: SplitOptions): Split => {
  const testFraction = options.testFraction ?? 0.2
  if (!(testFraction > 0 && testFraction < 1)) throw new RangeError(`testFraction must be in (0, 1), got ${testFraction}`)
  const n = data.y.length
  if (n < 2) throw new RangeError(`cannot split ${n} sample(s)`)
  const rng = createRng(options.seed)

  const groups: number[][] = options.stratify
    ? Array.from({ length: data.classes }, () => [])
    : [Array.from({ length: n }, (_, i) => i)]
  if (options.stratify) {
    for (let i = 0; i < n; i++) {
      const label = data.y[i]
      if (!(label >= 0 && label < data.classes && Number.isInteger(label))) {
        throw new RangeError(`label ${label} at row ${i} is outside [0, ${data.classes})`)
      }
      groups[label].push(i)
    }
  }

  const trainIndices: number[] = []
  const testIndices: number[] = []
  for (const group of groups) {
    rng.shuffle(group)
    const testCount = Math.round(group.length * testFraction)
    // Loops, not push(...group): a spread of a large class into a call overflows the stack.
    for (let i = 0; i < group.length; i++) (i < testCount ? testIndices : trainIndices).push(group[i])
  }
  // Rounding can empty one half of a tiny data set; move one sample across.
  if (testIndices.length === 0) testIndices.push(trainIndices.pop()!)
  if (trainIndices.length === 0) trainIndices.push(testIndices.pop()!)
  // Stratified groups come out class by class; reshuffle so rows are not sorted by label.
  if (options.stratify) {
    rng.shuffle(trainIndices)
    rng.shuffle(testIndices)
  }
  return { train: subset(data, trainIndices), test: subset(data, testIndices), trainIndices, testIndices }
}

/** Per-feature affine rescaling learnt from one matrix and applied to others. */
export interface Standardizer {
  readonly mean: number[]
  /** Population standard deviation; 1 for constant features, so they map to 0 instead of NaN. */
  readonly scale: number[]
  transform(X: ReadonlyArray<ArrayLike<number>>): number[][]
}

/**
 * Learns mean and standard deviation per feature. Fit on the training set only: statistics
 * taken from the test set would leak information about it into training.
 */
export const fitStandardizer = (X: ReadonlyArray<ArrayLike<number>>): Standardizer => {
  if (X.length === 0) throw new RangeError("cannot fit a standardizer on zero rows")
  const d = X[0].length
  const mean = new Array<number>(d).fill(0)
  const scale = new Array<number>(d).fill(0)
  for (const row of X) for (let j = 0; j < d; j++) mean[j] += row[j]
  for (let j = 0; j < d; j++) mean[j] /= X.length
  // Two passes rather than E[x^2] - E[x]^2, which cancels catastrophically for large means.
  for (const row of X) {
    for (let j = 0; j < d; j++) {
      const delta = row[j] - mean[j]
      scale[j] += delta * delta
    }
  }
  for (let j = 0; j < d; j++) {
    const std = Math.sqrt(scale[j] / X.length)
    scale[j] = std > 1e-12 ? std : 1
  }
  const transform = (rows: ReadonlyArray<ArrayLike<number>>): number[][] =>
    rows.map((row) => {
      if (row.length !== d) throw new RangeError(`expected ${d} features, got ${row.length}`)
      return Array.from({ length: d }, (_, j) => (row[j] - mean[j]) / scale[j])
    })
  return { mean, scale, transform }
}
