/**
 * ml/local-trainer: the single-machine reference of a training: the documented formulas
 * computed in one process over whole files, so a swarm's models can be checked bit for bit.
 * Full-batch mean rounds sum every record in file order in one exact bank (no tasks at all);
 * local steps and robust aggregation need shards, cut here as the data layer cuts files
 * (fixed-size chunks, a line owned by the chunk it starts in). Never touches the network.
 */

import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { coordinateMedian, trimmedMean, weightedMean } from './aggregation.ts'
import { MAX_CLASS_LABEL_CHARS } from './constants.ts'
import { columnsOf, parseRecords, type ParsedRecords } from './csv-records.ts'
import { DatasetError } from './errors.ts'
import { ExactBank } from './exact-bank.ts'
import { gradientStep } from './gradient-step.ts'
import { kernelFor } from './kernels.ts'
import { encodeModel, outputsOf, type Model } from './model-block.ts'
import { taskSeed } from './seeded-order.ts'
import type { TrainSpec } from './spec.ts'
import { addScanSums, standardize } from './standardization.ts'
import { closeRound, emptyScanTotals, modelFromScan, trainingResult } from './training-reduce.ts'
import { labelMode, labelsOf, localSteps, type TrainingData } from './training-tasks.ts'
import { headerOf, ownedRanges } from './file-shards.ts'

export interface LocalTrainOptions {
  /** bytes per shard, as the data layer cuts each file; a task per shard. Default: a file is one shard. */
  chunkSize?: number
  /** the job id: seeds local steps and is written into every model. Default '' */
  job?: string
}

export interface LocalTraining {
  /** the model block of every pass: θ_0 after the scan, then θ_1 … θ_R (up to the failure) */
  states: Uint8Array[]
  /** loss[r]: the mean training loss at θ_r */
  loss: number[]
  /** what the training's `finish` gives: `{"model", "rounds", "loss", "classes"}`; null if it failed */
  result: Uint8Array | null
  /** why the training failed, as the swarm reports it; null if it did not */
  failure: string | null
}

interface LocalTask {
  taskIndex: number
  records: ParsedRecords
}

/** The CID of a block of dag-cbor bytes, as the data layer names it (CIDv1, sha2-256). */
export async function dagCborCid (bytes: Uint8Array): Promise<string> {
  return CID.createV1(dagCbor.code, await sha256.digest(bytes)).toString()
}

/**
 * Trains on one machine over the CSV files (each with its header line).
 * @throws DatasetError when a file lacks a column of the spec or a label is too long, as a swarm task would
 */
export async function trainLocally (csv: Uint8Array | readonly Uint8Array[], spec: TrainSpec, options: LocalTrainOptions = {}): Promise<LocalTraining> {
  const files = csv instanceof Uint8Array ? [csv] : csv
  const job = options.job ?? ''
  const d = spec.features.length
  const tasks: LocalTask[] = []
  for (const file of files) {
    // an empty file has no shards, so no tasks
    if (file.length === 0) continue
    const columns = columnsOf(headerOf(file), spec.features, spec.label)
    ownedRanges(file, options.chunkSize ?? file.length).forEach((bytes, taskIndex) => {
      tasks.push({ taskIndex, records: parseRecords(bytes, taskIndex === 0, columns, labelMode(spec.kind)) })
    })
  }

  // pass 0: the scan
  const totals = emptyScanTotals(spec)
  for (const { records } of tasks) {
    totals.records += records.count
    totals.skipped += records.lines - records.count
    for (let i = 0; i < records.count; i++) {
      if (totals.sums !== null) addScanSums(totals.sums, records.x, i * d, d)
      if (spec.kind === 'logistic') {
        const y = records.y[i]
        if (y !== 0 && y !== 1) {
          totals.bad++
          totals.badMin = totals.badMin === null ? y : Math.min(totals.badMin, y)
        }
      }
    }
    for (const label of records.labels) {
      if (label.length > MAX_CLASS_LABEL_CHARS) throw new DatasetError(`label "${spec.label}" has a value longer than ${MAX_CLASS_LABEL_CHARS} characters: "${label.slice(0, 40)}…"`)
      totals.labels.add(label)
    }
  }
  const scanned = modelFromScan(totals, spec, job)
  if ('failure' in scanned) return { states: [], loss: [], result: null, failure: scanned.failure }
  let model: Model = scanned.model
  const states = [encodeModel(model)]
  const losses: number[] = []

  // the rounds
  const outputs = outputsOf(model.kind, model.classes)
  const width = d + 1
  const size = outputs * width
  const kernel = kernelFor(model.kind, d, outputs)
  const data: Array<TrainingData & { taskIndex: number }> = tasks.map(({ taskIndex, records }) => ({
    taskIndex,
    n: records.count,
    d,
    z: standardize(records.x, d, model.standardization),
    y: labelsOf(records, model)
  }))
  const g = new Float64Array(size)
  for (let round = 0; round < spec.rounds; round++) {
    const w = model.weights
    const lossBank = new ExactBank(1)
    const weights = w.slice()
    if (spec.localSteps === 0 && spec.aggregate === 'mean') {
      const gradient = new ExactBank(size)
      for (const { n, z, y } of data) {
        for (let i = 0; i < n; i++) {
          lossBank.add(0, kernel.lossGradient(z, i * d, y[i], w, g))
          gradient.addAll(g)
        }
      }
      gradientStep(weights, gradient.toArray(), model.records, spec.lr, spec.l2, width)
    } else if (spec.localSteps === 0) {
      const means: Float64Array[] = []
      for (const { n, z, y } of data) {
        if (n === 0) continue
        const gradient = new ExactBank(size)
        for (let i = 0; i < n; i++) {
          lossBank.add(0, kernel.lossGradient(z, i * d, y[i], w, g))
          gradient.addAll(g)
        }
        means.push(gradient.toArray().map(v => v / n))
      }
      const aggregated = spec.aggregate === 'median' ? coordinateMedian(means, size) : trimmedMean(means, size, spec.trim)
      gradientStep(weights, aggregated, 1, spec.lr, spec.l2, width)
    } else {
      const vectors: Float64Array[] = []
      const counts: number[] = []
      for (const task of data) {
        for (let i = 0; i < task.n; i++) lossBank.add(0, kernel.loss(task.z, i * d, task.y[i], w))
        if (task.n === 0) continue
        vectors.push(localSteps(kernel, task, w, spec, taskSeed(job, round, task.taskIndex)))
        counts.push(task.n)
      }
      weights.set(spec.aggregate === 'mean'
        ? weightedMean(vectors, counts, size)
        : spec.aggregate === 'median' ? coordinateMedian(vectors, size) : trimmedMean(vectors, size, spec.trim))
    }
    const outcome = closeRound(round, model, weights, lossBank.toNumber(0) / model.records)
    if ('failure' in outcome) return { states, loss: losses, result: null, failure: outcome.failure }
    model = outcome.model
    losses.push(outcome.loss)
    states.push(encodeModel(model))
  }
  const cid = await dagCborCid(states[states.length - 1])
  return { states, loss: losses, result: trainingResult(cid, losses, model.classes), failure: null }
}
