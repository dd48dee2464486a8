/**
 * The machine learning behind `runledger demo`: seeded data, two small classifiers trained
 * epoch by epoch, and the metrics to log. Dependency-free and deterministic for a seed.
 */
export { createRng, type Rng } from "./random.ts"
export {
  fitStandardizer,
  makeClassification,
  subset,
  trainTestSplit,
  type ClassificationOptions,
  type Dataset,
  type Split,
  type SplitOptions,
  type Standardizer
} from "./dataset.ts"
export type { EpochResult, Features, Labels, Model, SgdOptions } from "./model.ts"
export { logisticRegression, type LogisticRegressionOptions } from "./logistic-regression.ts"
export { mlp, type Activation, type MlpOptions } from "./mlp.ts"
export {
  accuracy,
  classificationMetrics,
  confusionMatrix,
  crossEntropy,
  macroF1,
  predictLabels,
  type ClassificationMetrics
} from "./metrics.ts"
