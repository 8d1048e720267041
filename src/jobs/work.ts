import { decodeMessage, encodeMessage, enumeration, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface Work {
  matmul?: MatmulWork
  inference?: InferenceWork
}

export namespace Work {
  let _codec: Codec<Work>

  export const codec = (): Codec<Work> => {
    if (_codec == null) {
      _codec = message<Work>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        obj = { ...obj }

        if (obj.inference != null) {
          obj.matmul = undefined
        }

        if (obj.matmul != null) {
          obj.inference = undefined
        }

        if (obj.matmul != null) {
          w.uint32(10)
          MatmulWork.codec().encode(obj.matmul, w)
        }

        if (obj.inference != null) {
          w.uint32(18)
          InferenceWork.codec().encode(obj.inference, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {}

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.matmul = MatmulWork.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.matmul
              })
              break
            }
            case 2: {
              obj.inference = InferenceWork.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.inference
              })
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        if (obj.inference != null) {
          delete obj.matmul
        }

        if (obj.matmul != null) {
          delete obj.inference
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield * MatmulWork.codec().stream(reader, reader.uint32(), `${prefix}.matmul`, {
                limits: opts.limits?.matmul
              })

              break
            }
            case 2: {
              yield * InferenceWork.codec().stream(reader, reader.uint32(), `${prefix}.inference`, {
                limits: opts.limits?.inference
              })

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface WorkMatmulMFieldEvent {
    field: '$.matmul.m'
    value: number
  }

  export interface WorkMatmulKFieldEvent {
    field: '$.matmul.k'
    value: number
  }

  export interface WorkMatmulNFieldEvent {
    field: '$.matmul.n'
    value: number
  }

  export interface WorkMatmulAFieldEvent {
    field: '$.matmul.a'
    value: Uint8Array
  }

  export interface WorkMatmulBFieldEvent {
    field: '$.matmul.b'
    value: Uint8Array
  }

  export interface WorkInferenceModelDigestFieldEvent {
    field: '$.inference.modelDigest'
    value: string
  }

  export interface WorkInferenceLengthsFieldEvent {
    field: '$.inference.lengths'
    value: Uint8Array
  }

  export interface WorkInferenceTokensFieldEvent {
    field: '$.inference.tokens'
    value: Uint8Array
  }

  export interface WorkInferenceModeFieldEvent {
    field: '$.inference.mode'
    value: InferenceMode
  }

  export interface WorkInferenceStepsFieldEvent {
    field: '$.inference.steps'
    value: number
  }

  export interface WorkInferenceTemperatureFieldEvent {
    field: '$.inference.temperature'
    value: number
  }

  export interface WorkInferenceSeedsFieldEvent {
    field: '$.inference.seeds'
    value: Uint8Array
  }

  export function encode (obj: Partial<Work>): Uint8Array {
    return encodeMessage(obj, Work.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Work>): Work {
    return decodeMessage(buf, Work.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Work>): Generator<WorkMatmulMFieldEvent | WorkMatmulKFieldEvent | WorkMatmulNFieldEvent | WorkMatmulAFieldEvent | WorkMatmulBFieldEvent | WorkInferenceModelDigestFieldEvent | WorkInferenceLengthsFieldEvent | WorkInferenceTokensFieldEvent | WorkInferenceModeFieldEvent | WorkInferenceStepsFieldEvent | WorkInferenceTemperatureFieldEvent | WorkInferenceSeedsFieldEvent> {
    return streamMessage(buf, Work.codec(), opts)
  }
}

export interface Output {
  matmul?: MatmulOutput
  inference?: InferenceOutput
}

export namespace Output {
  let _codec: Codec<Output>

  export const codec = (): Codec<Output> => {
    if (_codec == null) {
      _codec = message<Output>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        obj = { ...obj }

        if (obj.inference != null) {
          obj.matmul = undefined
        }

        if (obj.matmul != null) {
          obj.inference = undefined
        }

        if (obj.matmul != null) {
          w.uint32(10)
          MatmulOutput.codec().encode(obj.matmul, w)
        }

        if (obj.inference != null) {
          w.uint32(18)
          InferenceOutput.codec().encode(obj.inference, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {}

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.matmul = MatmulOutput.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.matmul
              })
              break
            }
            case 2: {
              obj.inference = InferenceOutput.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.inference
              })
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        if (obj.inference != null) {
          delete obj.matmul
        }

        if (obj.matmul != null) {
          delete obj.inference
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield * MatmulOutput.codec().stream(reader, reader.uint32(), `${prefix}.matmul`, {
                limits: opts.limits?.matmul
              })

              break
            }
            case 2: {
              yield * InferenceOutput.codec().stream(reader, reader.uint32(), `${prefix}.inference`, {
                limits: opts.limits?.inference
              })

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface OutputMatmulRowsFieldEvent {
    field: '$.matmul.rows'
    value: number
  }

  export interface OutputMatmulColsFieldEvent {
    field: '$.matmul.cols'
    value: number
  }

  export interface OutputMatmulCFieldEvent {
    field: '$.matmul.c'
    value: Uint8Array
  }

  export interface OutputInferenceLogitsFieldEvent {
    field: '$.inference.logits'
    value: Uint8Array
  }

  export interface OutputInferenceTokensFieldEvent {
    field: '$.inference.tokens'
    value: Uint8Array
  }

  export function encode (obj: Partial<Output>): Uint8Array {
    return encodeMessage(obj, Output.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Output>): Output {
    return decodeMessage(buf, Output.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Output>): Generator<OutputMatmulRowsFieldEvent | OutputMatmulColsFieldEvent | OutputMatmulCFieldEvent | OutputInferenceLogitsFieldEvent | OutputInferenceTokensFieldEvent> {
    return streamMessage(buf, Output.codec(), opts)
  }
}

export interface MatmulWork {
  m: number
  k: number
  n: number
  a: Uint8Array
  b: Uint8Array
}

export namespace MatmulWork {
  let _codec: Codec<MatmulWork>

  export const codec = (): Codec<MatmulWork> => {
    if (_codec == null) {
      _codec = message<MatmulWork>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.m != null && obj.m !== 0)) {
          w.uint32(8)
          w.uint32(obj.m)
        }

        if ((obj.k != null && obj.k !== 0)) {
          w.uint32(16)
          w.uint32(obj.k)
        }

        if ((obj.n != null && obj.n !== 0)) {
          w.uint32(24)
          w.uint32(obj.n)
        }

        if ((obj.a != null && obj.a.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.a)
        }

        if ((obj.b != null && obj.b.byteLength > 0)) {
          w.uint32(42)
          w.bytes(obj.b)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          m: 0,
          k: 0,
          n: 0,
          a: uint8ArrayAlloc(0),
          b: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.m = reader.uint32()
              break
            }
            case 2: {
              obj.k = reader.uint32()
              break
            }
            case 3: {
              obj.n = reader.uint32()
              break
            }
            case 4: {
              obj.a = reader.bytes()
              break
            }
            case 5: {
              obj.b = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.m`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.k`,
                value: reader.uint32()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.n`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.a`,
                value: reader.bytes()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.b`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface MatmulWorkMFieldEvent {
    field: '$.m'
    value: number
  }

  export interface MatmulWorkKFieldEvent {
    field: '$.k'
    value: number
  }

  export interface MatmulWorkNFieldEvent {
    field: '$.n'
    value: number
  }

  export interface MatmulWorkAFieldEvent {
    field: '$.a'
    value: Uint8Array
  }

  export interface MatmulWorkBFieldEvent {
    field: '$.b'
    value: Uint8Array
  }

  export function encode (obj: Partial<MatmulWork>): Uint8Array {
    return encodeMessage(obj, MatmulWork.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<MatmulWork>): MatmulWork {
    return decodeMessage(buf, MatmulWork.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<MatmulWork>): Generator<MatmulWorkMFieldEvent | MatmulWorkKFieldEvent | MatmulWorkNFieldEvent | MatmulWorkAFieldEvent | MatmulWorkBFieldEvent> {
    return streamMessage(buf, MatmulWork.codec(), opts)
  }
}

export interface MatmulOutput {
  rows: number
  cols: number
  c: Uint8Array
}

export namespace MatmulOutput {
  let _codec: Codec<MatmulOutput>

  export const codec = (): Codec<MatmulOutput> => {
    if (_codec == null) {
      _codec = message<MatmulOutput>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.rows != null && obj.rows !== 0)) {
          w.uint32(8)
          w.uint32(obj.rows)
        }

        if ((obj.cols != null && obj.cols !== 0)) {
          w.uint32(16)
          w.uint32(obj.cols)
        }

        if ((obj.c != null && obj.c.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.c)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          rows: 0,
          cols: 0,
          c: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.rows = reader.uint32()
              break
            }
            case 2: {
              obj.cols = reader.uint32()
              break
            }
            case 3: {
              obj.c = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.rows`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.cols`,
                value: reader.uint32()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.c`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface MatmulOutputRowsFieldEvent {
    field: '$.rows'
    value: number
  }

  export interface MatmulOutputColsFieldEvent {
    field: '$.cols'
    value: number
  }

  export interface MatmulOutputCFieldEvent {
    field: '$.c'
    value: Uint8Array
  }

  export function encode (obj: Partial<MatmulOutput>): Uint8Array {
    return encodeMessage(obj, MatmulOutput.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<MatmulOutput>): MatmulOutput {
    return decodeMessage(buf, MatmulOutput.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<MatmulOutput>): Generator<MatmulOutputRowsFieldEvent | MatmulOutputColsFieldEvent | MatmulOutputCFieldEvent> {
    return streamMessage(buf, MatmulOutput.codec(), opts)
  }
}

export enum InferenceMode {
  LOGITS = 'LOGITS',
  TOKENS = 'TOKENS'
}

enum __InferenceModeValues {
  LOGITS = 0,
  TOKENS = 1
}

export namespace InferenceMode {
  export const codec = (): Codec<InferenceMode> => {
    return enumeration<InferenceMode>(__InferenceModeValues)
  }
}

export interface InferenceWork {
  modelDigest: string
  lengths: Uint8Array
  tokens: Uint8Array
  mode: InferenceMode
  steps: number
  temperature: number
  seeds: Uint8Array
}

export namespace InferenceWork {
  let _codec: Codec<InferenceWork>

  export const codec = (): Codec<InferenceWork> => {
    if (_codec == null) {
      _codec = message<InferenceWork>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.modelDigest != null && obj.modelDigest !== '')) {
          w.uint32(10)
          w.string(obj.modelDigest)
        }

        if ((obj.lengths != null && obj.lengths.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.lengths)
        }

        if ((obj.tokens != null && obj.tokens.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.tokens)
        }

        if (obj.mode != null && __InferenceModeValues[obj.mode] !== 0) {
          w.uint32(32)
          InferenceMode.codec().encode(obj.mode, w)
        }

        if ((obj.steps != null && obj.steps !== 0)) {
          w.uint32(40)
          w.uint32(obj.steps)
        }

        if ((obj.temperature != null && obj.temperature !== 0)) {
          w.uint32(49)
          w.double(obj.temperature)
        }

        if ((obj.seeds != null && obj.seeds.byteLength > 0)) {
          w.uint32(58)
          w.bytes(obj.seeds)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          modelDigest: '',
          lengths: uint8ArrayAlloc(0),
          tokens: uint8ArrayAlloc(0),
          mode: InferenceMode.LOGITS,
          steps: 0,
          temperature: 0,
          seeds: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.modelDigest = reader.string()
              break
            }
            case 2: {
              obj.lengths = reader.bytes()
              break
            }
            case 3: {
              obj.tokens = reader.bytes()
              break
            }
            case 4: {
              obj.mode = InferenceMode.codec().decode(reader)
              break
            }
            case 5: {
              obj.steps = reader.uint32()
              break
            }
            case 6: {
              obj.temperature = reader.double()
              break
            }
            case 7: {
              obj.seeds = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.modelDigest`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.lengths`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.tokens`,
                value: reader.bytes()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.mode`,
                value: InferenceMode.codec().decode(reader)
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.steps`,
                value: reader.uint32()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.temperature`,
                value: reader.double()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.seeds`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface InferenceWorkModelDigestFieldEvent {
    field: '$.modelDigest'
    value: string
  }

  export interface InferenceWorkLengthsFieldEvent {
    field: '$.lengths'
    value: Uint8Array
  }

  export interface InferenceWorkTokensFieldEvent {
    field: '$.tokens'
    value: Uint8Array
  }

  export interface InferenceWorkModeFieldEvent {
    field: '$.mode'
    value: InferenceMode
  }

  export interface InferenceWorkStepsFieldEvent {
    field: '$.steps'
    value: number
  }

  export interface InferenceWorkTemperatureFieldEvent {
    field: '$.temperature'
    value: number
  }

  export interface InferenceWorkSeedsFieldEvent {
    field: '$.seeds'
    value: Uint8Array
  }

  export function encode (obj: Partial<InferenceWork>): Uint8Array {
    return encodeMessage(obj, InferenceWork.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<InferenceWork>): InferenceWork {
    return decodeMessage(buf, InferenceWork.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<InferenceWork>): Generator<InferenceWorkModelDigestFieldEvent | InferenceWorkLengthsFieldEvent | InferenceWorkTokensFieldEvent | InferenceWorkModeFieldEvent | InferenceWorkStepsFieldEvent | InferenceWorkTemperatureFieldEvent | InferenceWorkSeedsFieldEvent> {
    return streamMessage(buf, InferenceWork.codec(), opts)
  }
}

export interface InferenceOutput {
  logits: Uint8Array
  tokens: Uint8Array
}

export namespace InferenceOutput {
  let _codec: Codec<InferenceOutput>

  export const codec = (): Codec<InferenceOutput> => {
    if (_codec == null) {
      _codec = message<InferenceOutput>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.logits != null && obj.logits.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.logits)
        }

        if ((obj.tokens != null && obj.tokens.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.tokens)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          logits: uint8ArrayAlloc(0),
          tokens: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.logits = reader.bytes()
              break
            }
            case 2: {
              obj.tokens = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.logits`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.tokens`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface InferenceOutputLogitsFieldEvent {
    field: '$.logits'
    value: Uint8Array
  }

  export interface InferenceOutputTokensFieldEvent {
    field: '$.tokens'
    value: Uint8Array
  }

  export function encode (obj: Partial<InferenceOutput>): Uint8Array {
    return encodeMessage(obj, InferenceOutput.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<InferenceOutput>): InferenceOutput {
    return decodeMessage(buf, InferenceOutput.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<InferenceOutput>): Generator<InferenceOutputLogitsFieldEvent | InferenceOutputTokensFieldEvent> {
    return streamMessage(buf, InferenceOutput.codec(), opts)
  }
}
