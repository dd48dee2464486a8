export * from "./common.ts"
export * from "./experiments.ts"
export * from "./models.ts"
export * from "./runs.ts"
