/**
 * wasm/lib/text: string helpers for edgeswarm's example functions (AssemblyScript), with
 * JavaScript's semantics. Pure; no imports.
 */

/**
 * `s` without leading and trailing white space, like JavaScript's String.prototype.trim.
 * AssemblyScript's own `String#trim` (0.28) stops early when more than about half of the
 * string is leading white space (its loop compares the offset with the shrinking size), so
 * "     123".trim() is " 123" there; trimEnd and trimStart are each correct.
 */
export function trim(s: string): string {
  return s.trimEnd().trimStart()
}
