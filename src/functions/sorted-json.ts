/**
 * functions/sorted-json: writes a map as a JSON object whose keys are in code-unit order, one
 * key per line, so job results are byte-for-byte deterministic. (JSON.stringify would put
 * integer-like keys first and treat "__proto__" specially.) Formatting only; never parses.
 */

const encoder = new TextEncoder()

/** `{\n  "a": <value>,\n  "b": <value>\n}\n` with keys sorted by UTF-16 code units; `{}\n` when empty. */
export function encodeSortedObject<V> (entries: Map<string, V>, formatValue: (value: V) => string): Uint8Array {
  const keys = [...entries.keys()].sort(compareCodeUnits)
  if (keys.length === 0) return encoder.encode('{}\n')
  const lines = keys.map(key => `  ${JSON.stringify(key)}: ${formatValue(entries.get(key) as V)}`)
  return encoder.encode(`{\n${lines.join(',\n')}\n}\n`)
}

/** Orders strings by UTF-16 code units, as `<` does (not by locale). */
function compareCodeUnits (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
