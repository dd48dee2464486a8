/**
 * Effect's CLI output (effect/dist/cli/CliOutput.js) builds an Intl.Segmenter as it loads, to
 * measure help text in terminal cells. Building one loads ICU's grapheme rules: 8 ms of a cold
 * start here when another part of ICU is loaded already, 15 ms when none is. Only help and its
 * tables measure text, so in the bundle the segmenter is built at its first use.
 *
 * Should an Effect release change those lines, the build fails here rather than ship without it:
 * see whether CliOutput still builds its segmenter at load, then update or drop this plugin.
 */
const MODULE = /effect[\\/]dist[\\/]cli[\\/]CliOutput\.js$/
const EAGER = /const graphemeSegmenter = \/\*#__PURE__\*\/new Intl\.Segmenter\(undefined, \{\s*granularity: "grapheme"\s*\}\);/

const LAZY = `let graphemeSegmenterBuilt;
const graphemeSegmenter = {
  segment: (text) => (graphemeSegmenterBuilt ??= new Intl.Segmenter(undefined, { granularity: "grapheme" })).segment(text)
};`

export const lazySegmenter = {
  name: "runledger-lazy-segmenter",
  transform(code, id) {
    if (!MODULE.test(id)) return null
    if (!EAGER.test(code) || code.split("graphemeSegmenter").length !== 3) {
      this.error(`${id} no longer builds its Intl.Segmenter as this plugin expects (bundle/lazy-segmenter.mjs): update or drop the plugin.`)
    }
    return code.replace(EAGER, LAZY)
  }
}
