/** @runledger/stats: significance tests for comparing two groups of runs. No database dependency. */
export {
  bootstrapDifferenceCI,
  MIN_RUNS_PER_GROUP,
  significanceVerdict,
  type SignificanceVerdict,
  welchTTest,
  type BootstrapOptions,
  type BootstrapResult,
  type WelchTTestResult
} from "./significance.ts"
export { studentTCdf, studentTTwoSidedPValue } from "./student-t.ts"
export { mulberry32, type Random } from "./prng.ts"
