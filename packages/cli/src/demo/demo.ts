/**
 * `runledger demo`, the main job: train a handful of real small classifiers on a seeded synthetic
 * data set, log everything a real training script would (params, per-epoch metrics, weights and a
 * confusion matrix as artifacts) and print a leaderboard. Then, so that every page of the web UI
 * has something to show on the demo's runs: a batch-size sweep as a parent run with child runs
 * (one logging thousands of per-batch losses, enough for a chart's min/max band; CSV, PNG and SVG
 * artifacts), and the two best models registered, promoted through stages and given an alias.
 * Running it again adds runs and model versions.
 */
import { lineChartSvg } from "@runledger/charts"
import type { TrackerClient } from "@runledger/tracker"
import { formatDuration, formatNumber, table } from "../format.ts"
import { confusionHeatmapPng } from "./png.ts"
import {
  classificationMetrics,
  createRng,
  fitStandardizer,
  logisticRegression,
  makeClassification,
  mlp,
  type Model,
  type Rng,
  trainTestSplit
} from "./ml.ts"

export const DEMO_EXPERIMENT = "demo-classification"
/** The registered model the demo's two best runs become versions of. */
export const DEMO_MODEL = "demo-classifier"
/** The sweep's batch sizes: 8 gives about 190 steps an epoch, so 30 epochs log over 5,000 per-batch losses. */
export const SWEEP_BATCH_SIZES: ReadonlyArray<number> = [8, 32, 128]
/** Not a candidate's rate: at batch size 32 the sweep would otherwise repeat logreg-lr0.1 exactly. */
const SWEEP_LEARNING_RATE = 0.05

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

export interface SweepResult {
  readonly parentId: string
  readonly name: string
  readonly children: ReadonlyArray<{ readonly runId: string; readonly name: string; readonly batchSize: number; readonly valAccuracy: number; readonly valLoss: number; readonly steps: number }>
}

export interface RegisteredDemoModel {
  readonly name: string
  readonly versions: ReadonlyArray<{ readonly version: number; readonly runId: string; readonly runName: string; readonly stage: string; readonly aliases: ReadonlyArray<string> }>
}

export interface DemoOutcome {
  /** The six candidates, best first. */
  readonly leaderboard: ReadonlyArray<DemoResult>
  readonly sweep: SweepResult
  readonly model: RegisteredDemoModel
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

interface Prepared {
  readonly seed: number
  readonly epochs: number
  readonly classes: number
  readonly samples: number
  readonly features: number
  readonly Xtrain: number[][]
  readonly ytrain: ArrayLike<number>
  readonly Xtest: number[][]
  readonly ytest: ArrayLike<number>
}

interface EpochRow {
  readonly epoch: number
  readonly trainLoss: number
  readonly valLoss: number
  readonly valAccuracy: number
  readonly valF1: number
}

type Run = Parameters<Parameters<TrackerClient["withRun"]>[1]>[0]

/**
 * Logs the model's params, trains it epoch by epoch logging per-epoch metrics (and, with
 * `perBatch`, train_loss per mini-batch at its global step instead of per epoch, as many training
 * loops log it), and flushes. Returns the per-epoch rows and the last evaluation.
 */
const train = async (run: Run, model: Model, data: Prepared, perBatch: boolean) => {
  await run.logParams({
    ...model.config,
    epochs: data.epochs,
    "data.seed": data.seed,
    "data.samples": data.samples,
    "data.features": data.features,
    "data.classes": data.classes
  })
  const rng: Rng = createRng(data.seed + 1)
  let last = classificationMetrics(data.ytest, model.predictProba(data.Xtest), data.classes)
  const rows: EpochRow[] = []
  let step = 0
  // Not awaited: the run handle batches these into one event per flush, as a training loop would.
  const onBatch = perBatch ? (loss: number) => void run.logMetric("train_loss", loss, { step: step++ }) : undefined
  for (let epoch = 0; epoch < data.epochs; epoch++) {
    const { loss } = model.trainEpoch(data.Xtrain, data.ytrain, rng, onBatch)
    last = classificationMetrics(data.ytest, model.predictProba(data.Xtest), data.classes)
    rows.push({ epoch, trainLoss: loss, valLoss: last.loss, valAccuracy: last.accuracy, valF1: last.macroF1 })
    const validation = { val_loss: last.loss, val_accuracy: last.accuracy, val_f1: last.macroF1 }
    void run.logMetrics(perBatch ? validation : { train_loss: loss, ...validation }, { step: epoch })
  }
  await run.flush()
  return { rows, last, steps: step }
}

export const runDemo = async (tracker: TrackerClient, options: DemoOptions = {}): Promise<DemoOutcome> => {
  const seed = options.seed ?? 42
  const epochs = options.epochs ?? 30
  const experiment = options.experiment ?? DEMO_EXPERIMENT
  const log = options.log ?? (() => {})
  const dataset = { samples: 2000, features: 20, informative: 8, redundant: 4, classes: 3, classSep: 1.0, flipY: 0.03, seed }
  const data = makeClassification(dataset)
  const split = trainTestSplit(data, { testFraction: 0.25, stratify: true, seed })
  const scaler = fitStandardizer(split.train.X)
  const prepared: Prepared = {
    seed,
    epochs,
    classes: dataset.classes,
    samples: dataset.samples,
    features: dataset.features,
    Xtrain: scaler.transform(split.train.X),
    ytrain: split.train.y,
    Xtest: scaler.transform(split.test.X),
    ytest: split.test.y
  }
  log(`Data: ${dataset.samples} samples, ${dataset.features} features, ${dataset.classes} classes (seed ${seed}); ${split.train.y.length} train / ${split.test.y.length} validation.`)

  const results: DemoResult[] = []
  for (const candidate of candidates) {
    const started = Date.now()
    const model = candidate.make(dataset.features, dataset.classes, seed)
    const result = await tracker.withRun(
      { experiment, name: candidate.name, tags: { source: "runledger demo", model: model.kind } },
      async (run) => {
        const { last } = await train(run, model, prepared, false)
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
  const leaderboard = results.sort((a, b) => b.valAccuracy - a.valAccuracy || a.valLoss - b.valLoss)
  const model = await registerBest(tracker, leaderboard)
  log(`  registered ${model.name}: ${model.versions.map((v) => `v${v.version} ${v.runName} (${v.stage}${v.aliases.length > 0 ? `, @${v.aliases.join(" @")}` : ""})`).join(", ")}`)
  const sweep = await runSweep(tracker, experiment, prepared, log)
  return { leaderboard, sweep, model }
}

/**
 * A batch-size sweep of logistic regression, as MLflow users log one: a parent run holding the
 * sweep's params and its results table and plot, one child run per batch size. Every child logs a
 * per-epoch metrics CSV and its confusion matrix as a PNG heatmap; the parent a results CSV and an
 * SVG of each child's validation loss.
 */
const runSweep = async (tracker: TrackerClient, experiment: string, data: Prepared, log: (line: string) => void): Promise<SweepResult> => {
  const name = "sweep-batch-size"
  return tracker.withRun({ experiment, name, tags: { source: "runledger demo", sweep: "batchSize" } }, async (parent) => {
    await parent.logParams({
      model: "logistic-regression",
      learningRate: SWEEP_LEARNING_RATE,
      "sweep.param": "batchSize",
      "sweep.values": SWEEP_BATCH_SIZES.join(","),
      epochs: data.epochs,
      "data.seed": data.seed,
      "data.samples": data.samples,
      "data.features": data.features,
      "data.classes": data.classes
    })
    const children: Array<SweepResult["children"][number] & { readonly rows: ReadonlyArray<EpochRow> }> = []
    for (const batchSize of SWEEP_BATCH_SIZES) {
      const started = Date.now()
      const model = logisticRegression({ features: data.features, classes: data.classes, learningRate: SWEEP_LEARNING_RATE, batchSize, seed: data.seed })
      const childName = `logreg-bs${batchSize}`
      const child = await tracker.withRun(
        { experiment, name: childName, parentRunId: parent.id, tags: { source: "runledger demo", model: model.kind } },
        async (run) => {
          const { rows, last, steps } = await train(run, model, data, true)
          await run.logText(epochsCsv(rows), "eval/epochs.csv")
          await run.logBytes(confusionHeatmapPng(last.confusionMatrix), "eval/confusion_matrix.png")
          return { runId: run.id, name: childName, batchSize, valAccuracy: last.accuracy, valLoss: last.loss, steps, rows }
        }
      )
      children.push(child)
      log(`  sweep   ${childName.padEnd(18)} val_accuracy ${formatNumber(child.valAccuracy).padEnd(8)} (${formatDuration(Date.now() - started)}, ${child.steps} batch steps)  run ${child.runId}`)
    }
    const best = children.reduce((a, b) => (b.valLoss < a.valLoss ? b : a))
    // Named to sort after the children's val_accuracy: the runs table's default columns are the
    // first metric keys, and the sweep should not push the candidates' metrics out of them.
    await parent.logMetrics({ val_loss_best: best.valLoss, val_accuracy_best: best.valAccuracy })
    await parent.logText(
      "batch_size,run_id,val_accuracy,val_loss,steps\n" + children.map((c) => `${c.batchSize},${c.runId},${c.valAccuracy},${c.valLoss},${c.steps}`).join("\n") + "\n",
      "sweep/results.csv"
    )
    await parent.logText(
      lineChartSvg({
        title: "Validation loss by batch size",
        xLabel: "epoch",
        yLabel: "val_loss",
        series: children.map((c) => ({ label: `batch ${c.batchSize}`, points: c.rows.map((r) => ({ step: r.epoch, value: r.valLoss })) }))
      }),
      "sweep/val_loss.svg"
    )
    return { parentId: parent.id, name, children: children.map(({ rows: _, ...c }) => c) }
  })
}

const epochsCsv = (rows: ReadonlyArray<EpochRow>): string =>
  "epoch,train_loss,val_loss,val_accuracy,val_f1\n" + rows.map((r) => `${r.epoch},${r.trainLoss},${r.valLoss},${r.valAccuracy},${r.valF1}`).join("\n") + "\n"

/**
 * Registers the runner-up's and the best run's weights as two versions of DEMO_MODEL (the model is
 * created with the first), walks each through Staging to Production (the newer archiving the older
 * there) and points the alias "champion" at the best: a stage history with a timeline.
 */
const registerBest = async (tracker: TrackerClient, leaderboard: ReadonlyArray<DemoResult>): Promise<RegisteredDemoModel> => {
  const picks = leaderboard.slice(0, 2).reverse()
  const versions: Array<RegisteredDemoModel["versions"][number]> = []
  for (const pick of picks) {
    const created = await tracker.createModelVersion(DEMO_MODEL, {
      runId: pick.runId,
      artifactPath: "model/weights.json",
      register: { description: "The runledger demo's best classifier of the synthetic 3-class task.", tags: { source: "runledger demo" } }
    })
    await tracker.transitionStage(DEMO_MODEL, created.version, "Staging")
    const promoted = await tracker.transitionStage(DEMO_MODEL, created.version, "Production", { archiveExisting: true })
    versions.push({ version: promoted.version, runId: pick.runId, runName: pick.name, stage: promoted.stage, aliases: promoted.aliases })
  }
  const champion = versions[versions.length - 1]
  await tracker.setAlias(DEMO_MODEL, "champion", champion.version)
  // Re-read: the later promotion archived the earlier version, and the alias is new.
  const current = await tracker.listModelVersions(DEMO_MODEL)
  return {
    name: DEMO_MODEL,
    versions: versions.map((v) => {
      const now = current.find((c) => c.version === v.version)
      return now === undefined ? v : { ...v, stage: now.stage, aliases: now.aliases }
    })
  }
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
