/**
 * sim/errors: the named errors of the simulation, so the CLI and tests can
 * tell a user mistake (bad options) from a swarm that misbehaved.
 */

/** An option is out of range or malformed; the message names it. */
export class InvalidSimOptionsError extends Error {
  override name = 'InvalidSimOptionsError'
}

/** A step of the scenario did not finish in time (swarm never connected, job never finished). */
export class SimTimeoutError extends Error {
  override name = 'SimTimeoutError'
}

/** A child process hosting peers failed, exited, or answered with an error. */
export class SimHostError extends Error {
  override name = 'SimHostError'
}

/** A message over the IPC channel did not match the protocol. */
export class InvalidHostMessageError extends Error {
  override name = 'InvalidHostMessageError'
}

/** This machine's limits cannot carry the run as asked (open files); the message says what to change. */
export class SimLimitError extends Error {
  override name = 'SimLimitError'
}
