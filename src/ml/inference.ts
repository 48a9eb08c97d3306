/**
 * ml/inference: a trained model applied to CSV records. `predict`: one line per record, the
 * predicted class or value (an empty line for a record whose features do not parse), in
 * record order. `evaluate`: count, loss and accuracy with the confusion matrix (classifiers)
 * or RMSE (linear), from exact sums, so the figures never depend on how the input was cut.
 * Pure functions of (input, header, model); single-machine versions over whole files too.
 */

import { RECORDS_PER_ABORT_CHECK } from './constants.ts'
import { columnsOf, parseRecords, type ParsedRecords } from './csv-records.ts'
import { PartialResultError, TaskAbortedError } from './errors.ts'
import { ExactBank } from './exact-bank.ts'
import { kernelFor, type Kernel } from './kernels.ts'
import { outputsOf, type Model } from './model-block.ts'
import { cachedRecords, cachedStandardized } from './record-cache.ts'
import { standardize } from './standardization.ts'
import { decodeTaskResult, encodeTaskResult } from './task-results.ts'
import { headerOf } from './file-shards.ts'
import { labelMode, type TaskPlace } from './training-tasks.ts'

const encoder = new TextEncoder()

/** The prediction lines of one task's input. */
export function predictTask (input: Uint8Array, model: Model, place: Omit<TaskPlace, 'job'>): Uint8Array {
  const columns = columnsOf(place.header, model.features, null)
  const records = cachedRecords(input, place.taskIndex === 0, columns, 'none', place.isAborted)
  const z = cachedStandardized(records, model.features.length, model.standardization)
  return encoder.encode(predictionLines(records, z, model, place.isAborted))
}

/** Prediction lines of whole files (each with its header line), concatenated: what a predict job gives. */
export function predictLocally (files: readonly Uint8Array[], model: Model): Uint8Array {
  let text = ''
  for (const file of files) {
    if (file.length === 0) continue
    const records = parseRecords(file, true, columnsOf(headerOf(file), model.features, null), 'none')
    text += predictionLines(records, standardize(records.x, model.features.length, model.standardization), model)
  }
  return encoder.encode(text)
}

function predictionLines (records: ParsedRecords, z: Float64Array, model: Model, isAborted?: () => boolean): string {
  const d = model.features.length
  const kernel = kernelFor(model.kind, d, outputsOf(model.kind, model.classes))
  const lines: string[] = []
  let row = 0
  for (let line = 0; line < records.lines; line++) {
    if (line % RECORDS_PER_ABORT_CHECK === 0 && isAborted?.() === true) throw new TaskAbortedError('the task was aborted')
    if (records.parsed[line] === 0) {
      lines.push('\n')
      continue
    }
    const p = kernel.predict(z, row * d, model.weights)
    lines.push(`${model.kind === 'linear' ? String(p) : model.classes[p]}\n`)
    row++
  }
  return lines.join('')
}

/** The sums an evaluation adds up. */
interface EvaluationTotals {
  n: number
  skipped: number
  loss: ExactBank
  squares: ExactBank | null
  confusion: number[] | null
}

function emptyTotals (model: Model): EvaluationTotals {
  const k = model.classes.length
  return {
    n: 0,
    skipped: 0,
    loss: new ExactBank(1),
    squares: model.kind === 'linear' ? new ExactBank(1) : null,
    confusion: model.kind === 'linear' ? null : new Array<number>(k * k).fill(0)
  }
}

/** The evaluation result bytes of one task's input, against column `label`. */
export function evaluateTask (input: Uint8Array, model: Model, label: string, place: Omit<TaskPlace, 'job'>): Uint8Array {
  const columns = columnsOf(place.header, model.features, label)
  const records = cachedRecords(input, place.taskIndex === 0, columns, labelMode(model.kind), place.isAborted)
  const totals = emptyTotals(model)
  addRecords(totals, records, cachedStandardized(records, model.features.length, model.standardization), model, place.isAborted)
  return encodeTaskResult({
    t: 'evaluate',
    n: totals.n,
    skipped: totals.skipped,
    loss: totals.loss.pack(),
    squares: totals.squares?.pack() ?? null,
    confusion: totals.confusion,
    classes: model.kind === 'linear' ? null : [...model.classes]
  })
}

/** The evaluation from its task results in task order: a JSON line (see evaluationJson). */
export function reduceEvaluate (results: readonly Uint8Array[]): Uint8Array {
  const loss = new ExactBank(1)
  let squares: ExactBank | null = null
  let confusion: number[] | null = null
  let classes: string[] | null = null
  let n = 0
  let skipped = 0
  for (let i = 0; i < results.length; i++) {
    const r = decodeTaskResult(results[i], 'evaluate')
    if (i === 0) {
      classes = r.classes
      confusion = r.confusion === null ? null : new Array<number>(r.confusion.length).fill(0)
      squares = r.squares === null ? null : new ExactBank(1)
    } else if (r.classes?.join('\n') !== classes?.join('\n')) {
      throw new PartialResultError('evaluation results of two different models')
    }
    n += r.n
    skipped += r.skipped
    loss.addPacked(r.loss)
    if (r.squares !== null) squares?.addPacked(r.squares)
    if (r.confusion !== null && confusion !== null) {
      for (let j = 0; j < r.confusion.length; j++) confusion[j] += r.confusion[j]
    }
  }
  return evaluationJson({ n, skipped, loss, squares, confusion }, classes)
}

/** The evaluation of a model over whole files (each with its header line), on one machine. */
export function evaluateLocally (files: readonly Uint8Array[], model: Model, label: string): Uint8Array {
  const totals = emptyTotals(model)
  for (const file of files) {
    if (file.length === 0) continue
    const records = parseRecords(file, true, columnsOf(headerOf(file), model.features, label), labelMode(model.kind))
    addRecords(totals, records, standardize(records.x, model.features.length, model.standardization), model)
  }
  return evaluationJson(totals, model.kind === 'linear' ? null : model.classes)
}

/**
 * Adds the records to the totals: each record's loss, and its squared error (linear) or its
 * (actual, predicted) cell. A logistic label other than 0 and 1, or a softmax label that is
 * not a class of the model, makes the record skipped.
 */
function addRecords (totals: EvaluationTotals, records: ParsedRecords, z: Float64Array, model: Model, isAborted?: () => boolean): void {
  const d = model.features.length
  const k = model.classes.length
  const kernel: Kernel = kernelFor(model.kind, d, outputsOf(model.kind, model.classes))
  const classIndex = new Map(model.classes.map((c, i) => [c, i]))
  totals.skipped += records.lines - records.count
  for (let i = 0; i < records.count; i++) {
    if (i % RECORDS_PER_ABORT_CHECK === 0 && isAborted?.() === true) throw new TaskAbortedError('the task was aborted')
    let y: number
    if (model.kind === 'softmax') {
      const c = classIndex.get(records.labels[i])
      if (c === undefined) {
        totals.skipped++
        continue
      }
      y = c
    } else {
      y = records.y[i]
      if (model.kind === 'logistic' && y !== 0 && y !== 1) {
        totals.skipped++
        continue
      }
    }
    totals.n++
    totals.loss.add(0, kernel.loss(z, i * d, y, model.weights))
    const p = kernel.predict(z, i * d, model.weights)
    if (totals.squares !== null) {
      const e = p - y
      totals.squares.add(0, e * e)
    } else {
      (totals.confusion as number[])[y * k + p]++
    }
  }
}

/**
 * Classifiers: `{"count", "accuracy", "loss", "confusion", "classes", "skipped"}` (confusion[a][p]:
 * records of class a predicted p); linear: `{"count", "rmse", "loss", "skipped"}`. Mean figures
 * are null without records.
 */
function evaluationJson (totals: EvaluationTotals, classes: readonly string[] | null): Uint8Array {
  const n = totals.n
  const loss = n === 0 ? null : totals.loss.toNumber(0) / n
  let value: object
  if (classes === null || totals.confusion === null) {
    const squares = totals.squares?.toNumber(0) ?? 0
    value = { count: n, rmse: n === 0 ? null : Math.sqrt(squares / n), loss, skipped: totals.skipped }
  } else {
    const k = classes.length
    const cells = totals.confusion
    const confusion = Array.from({ length: k }, (_, a) => cells.slice(a * k, a * k + k))
    const correct = confusion.reduce((sum, row, a) => sum + row[a], 0)
    value = { count: n, accuracy: n === 0 ? null : correct / n, loss, confusion, classes, skipped: totals.skipped }
  }
  return encoder.encode(`${JSON.stringify(value)}\n`)
}
