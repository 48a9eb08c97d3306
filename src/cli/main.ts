#!/usr/bin/env node
/**
 * cli/main: the `edgeswarm` executable. Runs the command line and turns every
 * failure into one line on stderr and a non-zero exit.
 */
import { CommanderError } from 'commander'
import { buildProgram } from './program.ts'
import { printError } from './output.ts'

try {
  await buildProgram().parseAsync(process.argv)
} catch (err) {
  if (err instanceof CommanderError) {
    // commander has already printed its one-line message (or the help/version)
    process.exitCode = err.exitCode
  } else {
    printError(err)
    process.exitCode = 1
  }
}
