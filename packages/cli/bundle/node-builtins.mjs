/**
 * Node's built-in modules as the bundled bin loads them: through `require`, not as ES modules.
 *
 * Imported as an ES module, a built-in gets a namespace of all its exports, and filling it reads
 * every one, lazy getters included: node:fs's stream classes load the streams, node:http's
 * WebSocket loads undici. Measured on a cold start here: node:fs 8 ms as ESM against 0.2 ms
 * through require, node:http 46 against 7. node:crypto costs about 14 ms however it loads, and
 * most commands never hash (listing, showing, `--help`): its functions load it at their first call.
 *
 * Each `node:X` the bundle imports becomes a small module that requires it and exports its
 * properties. Getters are left out (but `promises`, which only returns a module Node has loaded),
 * so an import of one fails the build rather than loading what it hides. node:module stays a
 * plain import: it is what the others are required through.
 */
import { createRequire } from "node:module"

const require = createRequire(import.meta.url)

const PREFIX = "\0runledger-builtin:"

/** Built-ins whose functions load the module at their first call, not when the bin starts. */
const LAZY = new Set(["node:crypto"])

/** Getters that are safe to read at start: they return a module Node has already loaded. */
const CHEAP_GETTERS = new Set(["promises"])

const identifier = /^[A-Za-z_$][\w$]*$/

/** The exports of `spec` the generated module can give: own properties with names JS can bind. */
const exportable = (spec) => {
  const mod = require(spec)
  return Object.keys(mod).filter((name) => {
    if (!identifier.test(name) || name === "default") return false
    const d = Object.getOwnPropertyDescriptor(mod, name)
    return d !== undefined && ("value" in d || CHEAP_GETTERS.has(name))
  }).map((name) => ({ name, fn: typeof mod[name] === "function" }))
}

const eager = (spec) =>
  [
    `import { createRequire } from "node:module";`,
    `const m = createRequire(import.meta.url)(${JSON.stringify(spec)});`,
    `export default m;`,
    ...exportable(spec).map(({ name }) => `export const ${name} = m.${name};`)
  ].join("\n")

// Functions only: a value export would have to load the module to be read. A class called with
// `new` is constructed from the loaded one.
const lazy = (spec) =>
  [
    `import { createRequire } from "node:module";`,
    `let m;`,
    `const load = () => (m ??= createRequire(import.meta.url)(${JSON.stringify(spec)}));`,
    ...exportable(spec)
      .filter(({ fn }) => fn)
      .map(({ name }) => `export function ${name}(...args) { const f = load().${name}; return new.target ? Reflect.construct(f, args, new.target) : f.apply(this, args); }`)
  ].join("\n")

export const nodeBuiltins = {
  name: "runledger-node-builtins",
  resolveId(id, importer) {
    if (!id.startsWith("node:") || id === "node:module" || importer?.startsWith(PREFIX)) return null
    return PREFIX + id
  },
  load(id) {
    if (!id.startsWith(PREFIX)) return null
    const spec = id.slice(PREFIX.length)
    return LAZY.has(spec) ? lazy(spec) : eager(spec)
  }
}
