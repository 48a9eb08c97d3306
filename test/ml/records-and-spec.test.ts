import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { columnsOf, parseNumber, parseRecords } from '../../src/ml/csv-records.ts'
import {
  decodeModel, encodeModel, MAX_TRAIN_ROUNDS, ModelBlockError, parseTrainSpec, resolveFeatures, trainParams, TrainSpecError, type Model
} from '../../src/ml/index.ts'
import { coordinateMedian, trimmedMean, weightedMean } from '../../src/ml/aggregation.ts'
import { toUnits, roundRatio } from '../../src/ml/rounding.ts'

const encode = (s: string): Uint8Array => new TextEncoder().encode(s)

describe('parseNumber', () => {
  const numberOf = (text: string): number | undefined => {
    const trimmed = text.trim()
    const value = Number(trimmed)
    return trimmed === '' || !Number.isFinite(value) ? undefined : value
  }
  const decimal = fc.tuple(
    fc.constantFrom('', '-', '+', ' ', '\t'),
    fc.stringMatching(/^\d{0,20}$/), fc.boolean(), fc.stringMatching(/^\d{0,20}$/),
    fc.option(fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '-', '+'), fc.integer({ min: 0, max: 400 }))),
    fc.constantFrom('', ' ', '\r')
  ).map(([sign, int, dot, frac, exp, tail]) => `${sign}${int}${dot ? '.' : ''}${frac}${exp === null ? '' : `${exp[0]}${exp[1]}${exp[2]}`}${tail}`)

  it('gives exactly what Number gives, for decimals and for anything else', () => {
    fc.assert(fc.property(fc.oneof(decimal, fc.string(), fc.double().map(String), fc.constantFrom('0x1F', '1_0', 'Infinity', '-0', '.5', '5.', '1e', '\u00a012', '١٢')), text => {
      const bytes = encode(text)
      expect(Object.is(parseNumber(bytes, 0, bytes.length), numberOf(text))).toBe(true)
    }), { numRuns: 3000 })
  })
})

describe('parseRecords', () => {
  it('reads the named columns, skips the header and rows that do not parse, keeps CRLF and blank lines as records', () => {
    const input = encode('a,b,y\r\n1,2,3\r\n\r\n4,x,6\r\n7,8,9,10\r\n11,12\r\n13, 14 ,red\n')
    const records = parseRecords(input, true, columnsOf('a,b,y', ['b', 'a'], 'y'), 'number')
    expect(records.lines).toBe(6)
    expect(records.count).toBe(2)
    expect([...records.parsed]).toEqual([1, 0, 0, 1, 0, 0])
    expect([...records.x]).toEqual([2, 1, 8, 7])
    expect([...records.y]).toEqual([3, 9])
    const texts = parseRecords(input, true, columnsOf('a,b,y', ['a'], 'y'), 'text')
    expect(texts.labels).toEqual(['3', '6', '9', 'red'])
  })

  it('reads every cell as Number reads it, whatever the cells hold', () => {
    const numberOf = (text: string): number | undefined => {
      const trimmed = text.trim()
      const value = Number(trimmed)
      return trimmed === '' || !Number.isFinite(value) ? undefined : value
    }
    const cellText = fc.oneof(fc.double().map(String), fc.integer().map(String), fc.constantFrom(' 1 ', '+.5', '-0', '1e5', '1e-400', '0x1f', '', ' ', 'a', '1.5.5', '2e', '\t3\r', '12 34'), fc.string().map(t => t.replace(/[,\n]/g, '')))
    fc.assert(fc.property(fc.array(fc.array(cellText, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 20 }), rows => {
      const header = 'a,b,c'
      const records = parseRecords(encode([header, ...rows.map(r => r.join(','))].join('\n') + '\n'), true, columnsOf(header, ['a', 'c'], 'b'), 'number')
      const expected = rows.map(r => [r[0], r[2], r[1]].map(c => c === undefined ? undefined : numberOf(c)))
      const parsed = expected.filter(v => v.every(n => n !== undefined)) as number[][]
      expect([...records.parsed]).toEqual(expected.map(v => v.every(n => n !== undefined) ? 1 : 0))
      expect([...records.x].map(v => Object.is(v, -0) ? '-0' : v)).toEqual(parsed.flatMap(v => [v[0], v[1]]).map(v => Object.is(v, -0) ? '-0' : v))
      expect([...records.y]).toEqual(parsed.map(v => v[2]))
    }), { numRuns: 500 })
  })

  it('names a column the header lacks', () => {
    expect(() => columnsOf('a,b', ['a', 'c'], null)).toThrow('feature "c" is not a column of the header (columns: a, b)')
    expect(() => columnsOf('a,b', ['a'], 'y')).toThrow('label "y" is not a column of the header')
  })
})

describe('parseTrainSpec: every bad input is one clear line', () => {
  const base = { kind: 'linear', label: 'y', features: 'a,b' }
  const cases: Array<[Record<string, string>, string]> = [
    [{ ...base, kind: 'tree' }, 'train: unknown model kind "tree" (expected linear, logistic, softmax)'],
    [{ label: 'y' }, 'train: parameter "kind" is required (linear, logistic, softmax)'],
    [{ ...base, label: ' ' }, 'train: parameter "label" (the column to predict) is required'],
    [{ ...base, rounds: '0' }, `train: rounds must be an integer from 1 to ${MAX_TRAIN_ROUNDS}, got "0"`],
    [{ ...base, rounds: '100001' }, `train: rounds must be an integer from 1 to ${MAX_TRAIN_ROUNDS}, got "100001"`],
    [{ ...base, rounds: '2.5' }, `train: rounds must be an integer from 1 to ${MAX_TRAIN_ROUNDS}, got "2.5"`],
    [{ ...base, lr: '0' }, 'train: lr must be a finite number above 0, got "0"'],
    [{ ...base, lr: '-0.1' }, 'train: lr must be a finite number above 0, got "-0.1"'],
    [{ ...base, lr: 'Infinity' }, 'train: lr must be a finite number above 0, got "Infinity"'],
    [{ ...base, lr: 'NaN' }, 'train: lr must be a finite number above 0, got "NaN"'],
    [{ ...base, lr: '1e999' }, 'train: lr must be a finite number above 0, got "1e999"'],
    [{ ...base, lr: 'fast' }, 'train: lr must be a finite number above 0, got "fast"'],
    [{ ...base, l2: '-1' }, 'train: l2 must be a finite number of at least 0, got "-1"'],
    [{ ...base, aggregate: 'trimmed-mean', trim: '0.5' }, 'train: trim must be in [0, 0.5), got "0.5"'],
    [{ ...base, aggregate: 'trimmed-mean', trim: '-0.1' }, 'train: trim must be in [0, 0.5), got "-0.1"'],
    [{ ...base, trim: '0.1' }, 'train: trim applies only with aggregate=trimmed-mean'],
    [{ ...base, aggregate: 'max' }, 'train: unknown aggregate "max" (expected mean, median, trimmed-mean)'],
    [{ ...base, batchSize: '8' }, 'train: batchSize applies only with localSteps (mini-batch steps per task)'],
    [{ ...base, localSteps: '-1' }, 'train: localSteps must be an integer from 0 to 100000, got "-1"'],
    [{ ...base, standardize: 'yes' }, 'train: standardize must be true or false, got "yes"'],
    [{ ...base, features: 'a,y' }, 'train: the label "y" cannot also be a feature'],
    [{ ...base, features: 'a,,b' }, 'train: features must be a comma-separated list of column names, got "a,,b"'],
    [{ ...base, features: 'a,a' }, 'train: feature "a" is listed twice'],
    [{ ...base, epochs: '3' }, 'train: unknown parameter "epochs" (known: kind, label, features, rounds, lr, l2, standardize, localSteps, batchSize, aggregate, trim)'],
    [{ kind: 'linear', label: 'y' }, 'train: parameter "features" is required (a comma-separated list of columns)']
  ]
  it.each(cases)('%j', (params, message) => {
    expect(() => parseTrainSpec(params)).toThrow(TrainSpecError)
    expect(() => parseTrainSpec(params)).toThrow(message)
    expect(message).not.toContain('\n')
  })

  it('fills defaults, allows features to be resolved later, and round-trips through trainParams', () => {
    const spec = parseTrainSpec({ kind: 'softmax', label: 'y', features: ' a , b ', standardize: '', localSteps: '4', aggregate: 'trimmed-mean' })
    expect(spec).toEqual({ kind: 'softmax', label: 'y', features: ['a', 'b'], rounds: 10, lr: 0.1, l2: 0, standardize: true, localSteps: 4, batchSize: 32, aggregate: 'trimmed-mean', trim: 0.1 })
    expect(parseTrainSpec(trainParams(spec))).toEqual(spec)
    expect(parseTrainSpec({ kind: 'linear', label: 'y' }, true).features).toEqual([])
  })
})

describe('resolveFeatures', () => {
  it('takes the numeric columns of the first record but the label, or checks the given ones', () => {
    expect(resolveFeatures('id,temp, hum ,y,note', 'a1,20.5,0.4,1,hello', 'y')).toEqual(['temp', 'hum'])
    expect(resolveFeatures('id,temp,hum,y', 'a1,20.5,0.4,1', 'y', 'hum')).toEqual(['hum'])
    expect(() => resolveFeatures('a,b', '1,2', 'y')).toThrow('train: label "y" is not a column of the header (columns: a, b)')
    expect(() => resolveFeatures('a,b,y', '1,2,3', 'y', 'a,c')).toThrow('train: feature "c" is not a column of the header (columns: a, b, y)')
    expect(() => resolveFeatures('name,y', 'bob,1', 'y')).toThrow('train: no numeric feature: no column but the label "y" holds a number in the first record')
    expect(() => resolveFeatures('a,y', null, 'y')).toThrow('train: the input has no record after its header')
    expect(() => resolveFeatures(null, null, 'y')).toThrow('train: the input is empty')
  })
})

describe('model blocks', () => {
  const model: Model = {
    kind: 'softmax',
    label: 'c',
    features: ['a', 'b'],
    classes: ['x', 'y', 'z'],
    standardization: { mean: Float64Array.of(1.5, -0), std: Float64Array.of(0, 2) },
    weights: Float64Array.from({ length: 9 }, (_, i) => i === 4 ? -0 : i / 7),
    round: 3,
    job: 'bafy-job',
    records: 10,
    skipped: 2
  }

  it('round-trips every bit, -0 included', () => {
    const back = decodeModel(encodeModel(model))
    expect(back).toEqual(model)
    expect(Object.is(back.weights[4], -0)).toBe(true)
    expect(encodeModel(back)).toEqual(encodeModel(model))
  })

  it('refuses bytes that are not a model, naming what is wrong', () => {
    const bad = (patch: Partial<Model>, message: string): void => {
      expect(() => decodeModel(encodeModel({ ...model, ...patch }))).toThrow(ModelBlockError)
      expect(() => decodeModel(encodeModel({ ...model, ...patch }))).toThrow(message)
    }
    expect(() => decodeModel(encode('{"type":"edgeswarm/model"}'))).toThrow('not a model: not dag-cbor')
    bad({ weights: new Float64Array(5) }, 'model weights must hold 9 float64 values, not 40 bytes')
    bad({ classes: ['x'] }, 'a softmax model needs at least 2 classes')
    bad({ kind: 'logistic' }, 'a logistic model\'s classes are "0" and "1"')
    bad({ weights: Float64Array.of(NaN, 0, 0, 0, 0, 0, 0, 0, 0) }, 'model weights holds a value that is not finite')
    bad({ features: ['a', 'a'] }, 'model features are not distinct')
  })
})

describe('aggregation rules', () => {
  const vectors = [Float64Array.of(1, -0), Float64Array.of(3, 0), Float64Array.of(100, 5), Float64Array.of(2, -7), Float64Array.of(-50, 0.1)]

  it('median: the middle value, or 0.5a + 0.5b of the middle two; the same for any order of tasks', () => {
    expect([...coordinateMedian(vectors, 2)]).toEqual([2, 0])
    expect([...coordinateMedian(vectors.slice(0, 4), 2)]).toEqual([0.5 * 2 + 0.5 * 3, 0])
    expect(Object.is(coordinateMedian([Float64Array.of(-0), Float64Array.of(0), Float64Array.of(-0)], 1)[0], -0)).toBe(true)
    fc.assert(fc.property(fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 9 }), fc.nat(), (values, seed) => {
      const vs = values.map(v => Float64Array.of(v))
      const perm = [...vs].sort((a, b) => ((a[0] * 7 + seed) % 5) - ((b[0] * 7 + seed) % 5) || 0)
      expect(coordinateMedian(perm, 1)).toEqual(coordinateMedian(vs, 1))
    }))
  })

  it('trimmed mean drops ⌊trim·m⌋ from each end and averages the rest exactly', () => {
    const roundedSum = (...values: number[]): number => roundRatio(values.reduce((sum, v) => sum + toUnits(v), 0n), 1n, -1074)
    expect([...trimmedMean(vectors, 2, 0.2)]).toEqual([(1 + 3 + 2) / 3, roundedSum(-0, 0, 0.1) / 3])
    expect([...trimmedMean(vectors, 2, 0)]).toEqual([(1 + 3 + 100 + 2 - 50) / 5, roundedSum(-0, 0, 5, -7, 0.1) / 5])
  })

  it('weighted mean: the exact sum of n_t·v_t rounded once, over Σn_t, in any order', () => {
    const a = Float64Array.of(0.1, 1e300)
    const b = Float64Array.of(0.2, -1e300)
    const c = Float64Array.of(0.3, 1)
    const roundedSum = (...values: number[]): number => roundRatio(values.reduce((sum, v) => sum + toUnits(v), 0n), 1n, -1074)
    expect([...weightedMean([a, b, c], [2, 1, 3], 2)]).toEqual([roundedSum(2 * 0.1, 0.2, 3 * 0.3) / 6, roundedSum(2e300, -1e300, 3) / 6])
    expect(weightedMean([c, a, b], [3, 2, 1], 2)).toEqual(weightedMean([a, b, c], [2, 1, 3], 2))
  })
})
