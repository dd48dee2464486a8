/**
 * Classification metrics. Argument order follows scikit-learn: true labels first, then
 * predictions (labels or per-class probabilities).
 */
import { argmax, type Labels } from "./model.ts"

/** Probabilities are clamped to this before the log, so one confident mistake costs ~34.5, not Infinity. */
const MIN_PROBABILITY = 1e-15

const checkSameLength = (yTrue: Labels, predicted: ArrayLike<unknown>): void => {
  if (yTrue.length !== predicted.length) {
    throw new RangeError(`${yTrue.length} true labels but ${predicted.length} predictions`)
  }
  if (yTrue.length === 0) throw new RangeError("metrics need at least one sample")
}

/** Mean negative log-probability of the true class. */
export const crossEntropy = (yTrue: Labels, proba: ReadonlyArray<ArrayLike<number>>): number => {
  checkSameLength(yTrue, proba)
  let sum = 0
  for (let i = 0; i < yTrue.length; i++) {
    const label = yTrue[i]
    if (!(Number.isInteger(label) && label >= 0 && label < proba[i].length)) {
      throw new RangeError(`label ${label} at row ${i} is outside [0, ${proba[i].length})`)
    }
    sum -= Math.log(Math.max(proba[i][label], MIN_PROBABILITY))
  }
  return sum / yTrue.length
}

/** The most probable class of each row. */
export const predictLabels = (proba: ReadonlyArray<ArrayLike<number>>): number[] => proba.map(argmax)

/** Fraction of predictions equal to the true label. */
export const accuracy = (yTrue: Labels, yPred: Labels): number => {
  checkSameLength(yTrue, yPred)
  let correct = 0
  for (let i = 0; i < yTrue.length; i++) if (yTrue[i] === yPred[i]) correct++
  return correct / yTrue.length
}

/** counts[t][p] = number of samples of true class t predicted as p (rows are true classes). */
export const confusionMatrix = (yTrue: Labels, yPred: Labels, classes: number): number[][] => {
  checkSameLength(yTrue, yPred)
  const counts = Array.from({ length: classes }, () => new Array<number>(classes).fill(0))
  for (let i = 0; i < yTrue.length; i++) {
    const t = yTrue[i]
    const p = yPred[i]
    if (!(t >= 0 && t < classes && p >= 0 && p < classes && Number.isInteger(t) && Number.isInteger(p))) {
      throw new RangeError(`label pair (${t}, ${p}) at row ${i} is outside [0, ${classes})`)
    }
    counts[t][p]++
  }
  return counts
}

/**
 * Unweighted mean of per-class F1, so a minority class counts as much as a majority one.
 * F1 is taken as 2TP / (2TP + FP + FN), which is 0 for a class that is predicted but never
 * right. Classes absent from both yTrue and yPred are skipped (F1 is 0/0 there), as
 * scikit-learn does when it infers the labels.
 */
export const macroF1 = (yTrue: Labels, yPred: Labels, classes: number): number =>
  macroF1FromConfusion(confusionMatrix(yTrue, yPred, classes))

const macroF1FromConfusion = (counts: number[][]): number => {
  const classes = counts.length
  let sum = 0
  let present = 0
  for (let c = 0; c < classes; c++) {
    const truePositives = counts[c][c]
    let actual = 0 // TP + FN
    let predicted = 0 // TP + FP
    for (let other = 0; other < classes; other++) {
      actual += counts[c][other]
      predicted += counts[other][c]
    }
    if (actual + predicted === 0) continue
    sum += (2 * truePositives) / (actual + predicted)
    present++
  }
  return sum / present
}

export interface ClassificationMetrics {
  readonly loss: number
  readonly accuracy: number
  readonly macroF1: number
  readonly confusionMatrix: number[][]
}

/** All of the above at once, from true labels and predicted probabilities. */
export const classificationMetrics = (
  yTrue: Labels,
  proba: ReadonlyArray<ArrayLike<number>>,
  classes: number
): ClassificationMetrics => {
  const yPred = predictLabels(proba)
  const counts = confusionMatrix(yTrue, yPred, classes)
  let correct = 0
  for (let c = 0; c < classes; c++) correct += counts[c][c]
  return {
    loss: crossEntropy(yTrue, proba),
    accuracy: correct / yTrue.length,
    macroF1: macroF1FromConfusion(counts),
    confusionMatrix: counts
  }
}
