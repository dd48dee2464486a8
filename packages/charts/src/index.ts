/** @runledger/charts: SVG line charts and their axis ticks. No database dependency. */
export {
  CHART_PALETTE,
  lineChartSvg,
  type ChartPoint,
  type ChartSeries,
  type LineChartOptions
} from "./svg-chart.ts"
export { logTicks, niceTicks, type LogTicks, type Ticks } from "./ticks.ts"
export { escapeXml } from "./xml-text.ts"
