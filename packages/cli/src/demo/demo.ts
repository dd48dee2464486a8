/**
 * `runledger demo`, the main job: train a handful of real small classifiers on a seeded synthetic
 * data set, log everything a real training script would (params, per-epoch metrics, weights and a
 * confusion matrix as artifacts) and print a leaderboard. Running it again adds runs.
 */
import type { TrackerClient } from "@runledger/tracker"
import { formatDuration, formatNumber, table } from "../format.ts"
import {
  classificationMetrics,
  createRng,
  fitStandardizer,
  logisticRegression,
  makeClassification,
  mlp,
  type Model,
  trainTestSplit
} from "./ml.ts"

export const DEMO_EXPERIMENT = "demo-classification"

export interface DemoOptions {
  readonly seed?: number
  readonly epochs?: number
  readonly experiment?: string
  /** Where progress lines go. */
  readonly log?: (line: string) => void
}

export interface DemoResult {
  readonly runId: string
  readonly name: string
  readonly model: string
  readonly valAccuracy: number
  readonly valF1: number
  readonly valLoss: number
  readonly durationMs: number
}

interface Candidate {
  readonly name: string
  readonly make: (features: number, classes: number, seed: number) => Model
}

const candidates: ReadonlyArray<Candidate> = [
  { name: "logreg-lr0.01", make: (features, classes, seed) => logisticRegression({ features, classes, learningRate: 0.01, seed }) },
  { name: "logreg-lr0.1", make: (features, classes, seed) => logisticRegression({ features, classes, learningRate: 0.1, seed }) },
  { name: "logreg-lr0.5-l2", make: (features, classes, seed) => logisticRegression({ features, classes, learningRate: 0.5, l2: 0.01, seed }) },
  { name: "mlp-32-relu", make: (features, classes, seed) => mlp({ features, hidden: 32, classes, learningRate: 0.05, seed }) },
  { name: "mlp-64-tanh", make: (features, classes, seed) => mlp({ features, hidden: 64, classes, learningRate: 0.05, activation: "tanh", seed }) },
  { name: "mlp-64-relu-lr0.1", make: (features, classes, seed) => mlp({ features, hidden: 64, classes, learningRate: 0.1, seed }) }
]

export const runDemo = async (tracker: TrackerClient, options: DemoOptions = {}): Promise<DemoResult[]> => {
  const seed = options.seed ?? 42
  const epochs = options.epochs ?? 30
  const experiment = options.experiment ?? DEMO_EXPERIMENT
  const log = options.log ?? (() => {})
  const dataset = { samples: 2000, features: 20, informative: 8, redundant: 4, classes: 3, classSep: 1.0, flipY: 0.03, seed }
  const data = makeClassification(dataset)
  const split = trainTestSplit(data, { testFraction: 0.25, stratify: true, seed })
  const scaler = fitStandardizer(split.train.X)
  const Xtrain = scaler.transform(split.train.X)
  const Xtest = scaler.transform(split.test.X)
  log(`Data: ${dataset.samples} samples, ${dataset.features} features, ${dataset.classes} classes (seed ${seed}); ${split.train.y.length} train / ${split.test.y.length} validation.`)

  const results: DemoResult[] = []
  for (const candidate of candidates) {
    const started = Date.now()
    const model = candidate.make(dataset.features, dataset.classes, seed)
    const result = await tracker.withRun(
      { experiment, name: candidate.name, tags: { source: "runledger demo", model: model.kind } },
      async (run) => {
        await run.logParams({
          ...model.config,
          epochs,
          "data.seed": seed,
          "data.samples": dataset.samples,
          "data.features": dataset.features,
          "data.classes": dataset.classes
        })
        const rng = createRng(seed + 1)
        let last = classificationMetrics(split.test.y, model.predictProba(Xtest), dataset.classes)
        for (let epoch = 0; epoch < epochs; epoch++) {
          const { loss } = model.trainEpoch(Xtrain, split.train.y, rng)
          last = classificationMetrics(split.test.y, model.predictProba(Xtest), dataset.classes)
          // Not awaited: the run handle batches these into one event per flush, as a training loop would.
          void run.logMetrics(
            { train_loss: loss, val_loss: last.loss, val_accuracy: last.accuracy, val_f1: last.macroF1 },
            { step: epoch }
          )
        }
        await run.flush()
        await run.logJson({ kind: model.kind, config: model.config, weights: model.weights() }, "model/weights.json")
        await run.logJson({ labels: [...Array(dataset.classes).keys()], rows: "true class", columns: "predicted class", matrix: last.confusionMatrix }, "eval/confusion_matrix.json")
        await run.logText(renderConfusion(last.confusionMatrix), "eval/confusion_matrix.txt")
        return { runId: run.id, name: run.name, model: model.kind, valAccuracy: last.accuracy, valF1: last.macroF1, valLoss: last.loss }
      }
    )
    const done = { ...result, durationMs: Date.now() - started }
    results.push(done)
    log(`  trained ${candidate.name.padEnd(18)} val_accuracy ${formatNumber(done.valAccuracy).padEnd(8)} (${formatDuration(done.durationMs)})  run ${done.runId}`)
  }
  return results.sort((a, b) => b.valAccuracy - a.valAccuracy || a.valLoss - b.valLoss)
}

export const leaderboard = (results: ReadonlyArray<DemoResult>): string =>
  table(
    ["RANK", "RUN", "MODEL", "VAL_ACCURACY", "VAL_F1", "VAL_LOSS", "TIME", "RUN ID"],
    results.map((r, i) => [
      String(i + 1),
      r.name,
      r.model,
      formatNumber(r.valAccuracy),
      formatNumber(r.valF1),
      formatNumber(r.valLoss),
      formatDuration(r.durationMs),
      r.runId
    ])
  )

const renderConfusion = (m: ReadonlyArray<ReadonlyArray<number>>): string =>
  table(["true\\pred", ...m.map((_, j) => String(j))], m.map((row, i) => [String(i), ...row.map(String)])) + "\n"
