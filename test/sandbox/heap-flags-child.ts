/** Test helper: runs a WebAssembly module from a process started with heap-size flags; prints its output. */
import { runWasm } from '../../src/sandbox/index.ts'
import { echo } from './wasm-fixtures.ts'

const out = await runWasm(echo, new TextEncoder().encode('heap flags ok'), ['echo'])
process.stdout.write(new TextDecoder().decode(out))
process.exit(0)
