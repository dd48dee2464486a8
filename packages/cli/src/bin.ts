#!/usr/bin/env node
/**
 * The `runledger` executable (the CLI itself is main.ts). Node's compile cache is turned on before
 * the CLI's modules load: they are a few hundred (most of them Effect's), and compiling them again
 * at every start was much of a short command's time. The cache lives in the OS temp directory (or
 * $NODE_COMPILE_CACHE; NODE_DISABLE_COMPILE_CACHE=1 turns it off), never in a store.
 */
import * as nodeModule from "node:module"

nodeModule.enableCompileCache?.()
await import("./main.ts")
