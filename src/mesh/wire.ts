import { decodeMessage, encodeMessage, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface ShardFrame {
  version: number
  workRequest?: WorkRequest
  lease?: Lease
  noWork?: NoWork
  heartbeat?: Heartbeat
  result?: Result
  verdict?: Verdict
  failure?: Failure
}

export namespace ShardFrame {
  let _codec: Codec<ShardFrame>

  export const codec = (): Codec<ShardFrame> => {
    if (_codec == null) {
      _codec = message<ShardFrame>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if (obj.workRequest != null) {
          w.uint32(18)
          WorkRequest.codec().encode(obj.workRequest, w)
        }

        if (obj.lease != null) {
          w.uint32(26)
          Lease.codec().encode(obj.lease, w)
        }

        if (obj.noWork != null) {
          w.uint32(34)
          NoWork.codec().encode(obj.noWork, w)
        }

        if (obj.heartbeat != null) {
          w.uint32(42)
          Heartbeat.codec().encode(obj.heartbeat, w)
        }

        if (obj.result != null) {
          w.uint32(50)
          Result.codec().encode(obj.result, w)
        }

        if (obj.verdict != null) {
          w.uint32(58)
          Verdict.codec().encode(obj.verdict, w)
        }

        if (obj.failure != null) {
          w.uint32(66)
          Failure.codec().encode(obj.failure, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.version = reader.uint32()
              break
            }
            case 2: {
              obj.workRequest = WorkRequest.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.workRequest
              })
              break
            }
            case 3: {
              obj.lease = Lease.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.lease
              })
              break
            }
            case 4: {
              obj.noWork = NoWork.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.noWork
              })
              break
            }
            case 5: {
              obj.heartbeat = Heartbeat.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.heartbeat
              })
              break
            }
            case 6: {
              obj.result = Result.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.result
              })
              break
            }
            case 7: {
              obj.verdict = Verdict.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.verdict
              })
              break
            }
            case 8: {
              obj.failure = Failure.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.failure
              })
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
                field: `${prefix}.version`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield * WorkRequest.codec().stream(reader, reader.uint32(), `${prefix}.workRequest`, {
                limits: opts.limits?.workRequest
              })

              break
            }
            case 3: {
              yield * Lease.codec().stream(reader, reader.uint32(), `${prefix}.lease`, {
                limits: opts.limits?.lease
              })

              break
            }
            case 4: {
              yield * NoWork.codec().stream(reader, reader.uint32(), `${prefix}.noWork`, {
                limits: opts.limits?.noWork
              })

              break
            }
            case 5: {
              yield * Heartbeat.codec().stream(reader, reader.uint32(), `${prefix}.heartbeat`, {
                limits: opts.limits?.heartbeat
              })

              break
            }
            case 6: {
              yield * Result.codec().stream(reader, reader.uint32(), `${prefix}.result`, {
                limits: opts.limits?.result
              })

              break
            }
            case 7: {
              yield * Verdict.codec().stream(reader, reader.uint32(), `${prefix}.verdict`, {
                limits: opts.limits?.verdict
              })

              break
            }
            case 8: {
              yield * Failure.codec().stream(reader, reader.uint32(), `${prefix}.failure`, {
                limits: opts.limits?.failure
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

  export interface ShardFrameVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface ShardFrameWorkRequestJobIdFieldEvent {
    field: '$.workRequest.jobId'
    value: string
  }

  export interface ShardFrameWorkRequestMaxBufferBytesFieldEvent {
    field: '$.workRequest.maxBufferBytes'
    value: bigint
  }

  export interface ShardFrameWorkRequestGflopsFieldEvent {
    field: '$.workRequest.gflops'
    value: number
  }

  export interface ShardFrameLeaseJobIdFieldEvent {
    field: '$.lease.jobId'
    value: string
  }

  export interface ShardFrameLeaseShardIdFieldEvent {
    field: '$.lease.shardId'
    value: number
  }

  export interface ShardFrameLeaseLeaseIdFieldEvent {
    field: '$.lease.leaseId'
    value: string
  }

  export interface ShardFrameLeaseDeadlineMsFieldEvent {
    field: '$.lease.deadlineMs'
    value: number
  }

  export interface ShardFrameLeaseHeartbeatMsFieldEvent {
    field: '$.lease.heartbeatMs'
    value: number
  }

  export interface ShardFrameLeaseMFieldEvent {
    field: '$.lease.m'
    value: number
  }

  export interface ShardFrameLeaseKFieldEvent {
    field: '$.lease.k'
    value: number
  }

  export interface ShardFrameLeaseNFieldEvent {
    field: '$.lease.n'
    value: number
  }

  export interface ShardFrameLeaseAFieldEvent {
    field: '$.lease.a'
    value: Uint8Array
  }

  export interface ShardFrameLeaseBFieldEvent {
    field: '$.lease.b'
    value: Uint8Array
  }

  export interface ShardFrameNoWorkJobIdFieldEvent {
    field: '$.noWork.jobId'
    value: string
  }

  export interface ShardFrameNoWorkRetryAfterMsFieldEvent {
    field: '$.noWork.retryAfterMs'
    value: number
  }

  export interface ShardFrameNoWorkFinishedFieldEvent {
    field: '$.noWork.finished'
    value: boolean
  }

  export interface ShardFrameHeartbeatLeaseIdFieldEvent {
    field: '$.heartbeat.leaseId'
    value: string
  }

  export interface ShardFrameResultLeaseIdFieldEvent {
    field: '$.result.leaseId'
    value: string
  }

  export interface ShardFrameResultRowsFieldEvent {
    field: '$.result.rows'
    value: number
  }

  export interface ShardFrameResultColsFieldEvent {
    field: '$.result.cols'
    value: number
  }

  export interface ShardFrameResultCFieldEvent {
    field: '$.result.c'
    value: Uint8Array
  }

  export interface ShardFrameResultComputeMsFieldEvent {
    field: '$.result.computeMs'
    value: number
  }

  export interface ShardFrameVerdictLeaseIdFieldEvent {
    field: '$.verdict.leaseId'
    value: string
  }

  export interface ShardFrameVerdictAcceptedFieldEvent {
    field: '$.verdict.accepted'
    value: boolean
  }

  export interface ShardFrameVerdictReasonFieldEvent {
    field: '$.verdict.reason'
    value: string
  }

  export interface ShardFrameVerdictReceiptFieldEvent {
    field: '$.verdict.receipt'
    value: Uint8Array
  }

  export interface ShardFrameFailureLeaseIdFieldEvent {
    field: '$.failure.leaseId'
    value: string
  }

  export interface ShardFrameFailureCodeFieldEvent {
    field: '$.failure.code'
    value: string
  }

  export interface ShardFrameFailureMessageFieldEvent {
    field: '$.failure.message'
    value: string
  }

  export function encode (obj: Partial<ShardFrame>): Uint8Array {
    return encodeMessage(obj, ShardFrame.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ShardFrame>): ShardFrame {
    return decodeMessage(buf, ShardFrame.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ShardFrame>): Generator<ShardFrameVersionFieldEvent | ShardFrameWorkRequestJobIdFieldEvent | ShardFrameWorkRequestMaxBufferBytesFieldEvent | ShardFrameWorkRequestGflopsFieldEvent | ShardFrameLeaseJobIdFieldEvent | ShardFrameLeaseShardIdFieldEvent | ShardFrameLeaseLeaseIdFieldEvent | ShardFrameLeaseDeadlineMsFieldEvent | ShardFrameLeaseHeartbeatMsFieldEvent | ShardFrameLeaseMFieldEvent | ShardFrameLeaseKFieldEvent | ShardFrameLeaseNFieldEvent | ShardFrameLeaseAFieldEvent | ShardFrameLeaseBFieldEvent | ShardFrameNoWorkJobIdFieldEvent | ShardFrameNoWorkRetryAfterMsFieldEvent | ShardFrameNoWorkFinishedFieldEvent | ShardFrameHeartbeatLeaseIdFieldEvent | ShardFrameResultLeaseIdFieldEvent | ShardFrameResultRowsFieldEvent | ShardFrameResultColsFieldEvent | ShardFrameResultCFieldEvent | ShardFrameResultComputeMsFieldEvent | ShardFrameVerdictLeaseIdFieldEvent | ShardFrameVerdictAcceptedFieldEvent | ShardFrameVerdictReasonFieldEvent | ShardFrameVerdictReceiptFieldEvent | ShardFrameFailureLeaseIdFieldEvent | ShardFrameFailureCodeFieldEvent | ShardFrameFailureMessageFieldEvent> {
    return streamMessage(buf, ShardFrame.codec(), opts)
  }
}

export interface WorkRequest {
  jobId: string
  maxBufferBytes: bigint
  gflops: number
}

export namespace WorkRequest {
  let _codec: Codec<WorkRequest>

  export const codec = (): Codec<WorkRequest> => {
    if (_codec == null) {
      _codec = message<WorkRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.jobId != null && obj.jobId !== '')) {
          w.uint32(10)
          w.string(obj.jobId)
        }

        if ((obj.maxBufferBytes != null && obj.maxBufferBytes !== 0n)) {
          w.uint32(16)
          w.uint64(obj.maxBufferBytes)
        }

        if ((obj.gflops != null && obj.gflops !== 0)) {
          w.uint32(25)
          w.double(obj.gflops)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          jobId: '',
          maxBufferBytes: 0n,
          gflops: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.jobId = reader.string()
              break
            }
            case 2: {
              obj.maxBufferBytes = reader.uint64()
              break
            }
            case 3: {
              obj.gflops = reader.double()
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
                field: `${prefix}.jobId`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.maxBufferBytes`,
                value: reader.uint64()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.gflops`,
                value: reader.double()
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

  export interface WorkRequestJobIdFieldEvent {
    field: '$.jobId'
    value: string
  }

  export interface WorkRequestMaxBufferBytesFieldEvent {
    field: '$.maxBufferBytes'
    value: bigint
  }

  export interface WorkRequestGflopsFieldEvent {
    field: '$.gflops'
    value: number
  }

  export function encode (obj: Partial<WorkRequest>): Uint8Array {
    return encodeMessage(obj, WorkRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WorkRequest>): WorkRequest {
    return decodeMessage(buf, WorkRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WorkRequest>): Generator<WorkRequestJobIdFieldEvent | WorkRequestMaxBufferBytesFieldEvent | WorkRequestGflopsFieldEvent> {
    return streamMessage(buf, WorkRequest.codec(), opts)
  }
}

export interface Lease {
  jobId: string
  shardId: number
  leaseId: string
  deadlineMs: number
  heartbeatMs: number
  m: number
  k: number
  n: number
  a: Uint8Array
  b: Uint8Array
}

export namespace Lease {
  let _codec: Codec<Lease>

  export const codec = (): Codec<Lease> => {
    if (_codec == null) {
      _codec = message<Lease>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.jobId != null && obj.jobId !== '')) {
          w.uint32(10)
          w.string(obj.jobId)
        }

        if ((obj.shardId != null && obj.shardId !== 0)) {
          w.uint32(16)
          w.uint32(obj.shardId)
        }

        if ((obj.leaseId != null && obj.leaseId !== '')) {
          w.uint32(26)
          w.string(obj.leaseId)
        }

        if ((obj.deadlineMs != null && obj.deadlineMs !== 0)) {
          w.uint32(32)
          w.uint32(obj.deadlineMs)
        }

        if ((obj.heartbeatMs != null && obj.heartbeatMs !== 0)) {
          w.uint32(40)
          w.uint32(obj.heartbeatMs)
        }

        if ((obj.m != null && obj.m !== 0)) {
          w.uint32(48)
          w.uint32(obj.m)
        }

        if ((obj.k != null && obj.k !== 0)) {
          w.uint32(56)
          w.uint32(obj.k)
        }

        if ((obj.n != null && obj.n !== 0)) {
          w.uint32(64)
          w.uint32(obj.n)
        }

        if ((obj.a != null && obj.a.byteLength > 0)) {
          w.uint32(74)
          w.bytes(obj.a)
        }

        if ((obj.b != null && obj.b.byteLength > 0)) {
          w.uint32(82)
          w.bytes(obj.b)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          jobId: '',
          shardId: 0,
          leaseId: '',
          deadlineMs: 0,
          heartbeatMs: 0,
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
              obj.jobId = reader.string()
              break
            }
            case 2: {
              obj.shardId = reader.uint32()
              break
            }
            case 3: {
              obj.leaseId = reader.string()
              break
            }
            case 4: {
              obj.deadlineMs = reader.uint32()
              break
            }
            case 5: {
              obj.heartbeatMs = reader.uint32()
              break
            }
            case 6: {
              obj.m = reader.uint32()
              break
            }
            case 7: {
              obj.k = reader.uint32()
              break
            }
            case 8: {
              obj.n = reader.uint32()
              break
            }
            case 9: {
              obj.a = reader.bytes()
              break
            }
            case 10: {
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
                field: `${prefix}.jobId`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.shardId`,
                value: reader.uint32()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.leaseId`,
                value: reader.string()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.deadlineMs`,
                value: reader.uint32()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.heartbeatMs`,
                value: reader.uint32()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.m`,
                value: reader.uint32()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.k`,
                value: reader.uint32()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.n`,
                value: reader.uint32()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.a`,
                value: reader.bytes()
              }
              break
            }
            case 10: {
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

  export interface LeaseJobIdFieldEvent {
    field: '$.jobId'
    value: string
  }

  export interface LeaseShardIdFieldEvent {
    field: '$.shardId'
    value: number
  }

  export interface LeaseLeaseIdFieldEvent {
    field: '$.leaseId'
    value: string
  }

  export interface LeaseDeadlineMsFieldEvent {
    field: '$.deadlineMs'
    value: number
  }

  export interface LeaseHeartbeatMsFieldEvent {
    field: '$.heartbeatMs'
    value: number
  }

  export interface LeaseMFieldEvent {
    field: '$.m'
    value: number
  }

  export interface LeaseKFieldEvent {
    field: '$.k'
    value: number
  }

  export interface LeaseNFieldEvent {
    field: '$.n'
    value: number
  }

  export interface LeaseAFieldEvent {
    field: '$.a'
    value: Uint8Array
  }

  export interface LeaseBFieldEvent {
    field: '$.b'
    value: Uint8Array
  }

  export function encode (obj: Partial<Lease>): Uint8Array {
    return encodeMessage(obj, Lease.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Lease>): Lease {
    return decodeMessage(buf, Lease.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Lease>): Generator<LeaseJobIdFieldEvent | LeaseShardIdFieldEvent | LeaseLeaseIdFieldEvent | LeaseDeadlineMsFieldEvent | LeaseHeartbeatMsFieldEvent | LeaseMFieldEvent | LeaseKFieldEvent | LeaseNFieldEvent | LeaseAFieldEvent | LeaseBFieldEvent> {
    return streamMessage(buf, Lease.codec(), opts)
  }
}

export interface NoWork {
  jobId: string
  retryAfterMs: number
  finished: boolean
}

export namespace NoWork {
  let _codec: Codec<NoWork>

  export const codec = (): Codec<NoWork> => {
    if (_codec == null) {
      _codec = message<NoWork>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.jobId != null && obj.jobId !== '')) {
          w.uint32(10)
          w.string(obj.jobId)
        }

        if ((obj.retryAfterMs != null && obj.retryAfterMs !== 0)) {
          w.uint32(16)
          w.uint32(obj.retryAfterMs)
        }

        if ((obj.finished != null && obj.finished !== false)) {
          w.uint32(24)
          w.bool(obj.finished)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          jobId: '',
          retryAfterMs: 0,
          finished: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.jobId = reader.string()
              break
            }
            case 2: {
              obj.retryAfterMs = reader.uint32()
              break
            }
            case 3: {
              obj.finished = reader.bool()
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
                field: `${prefix}.jobId`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.retryAfterMs`,
                value: reader.uint32()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.finished`,
                value: reader.bool()
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

  export interface NoWorkJobIdFieldEvent {
    field: '$.jobId'
    value: string
  }

  export interface NoWorkRetryAfterMsFieldEvent {
    field: '$.retryAfterMs'
    value: number
  }

  export interface NoWorkFinishedFieldEvent {
    field: '$.finished'
    value: boolean
  }

  export function encode (obj: Partial<NoWork>): Uint8Array {
    return encodeMessage(obj, NoWork.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<NoWork>): NoWork {
    return decodeMessage(buf, NoWork.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<NoWork>): Generator<NoWorkJobIdFieldEvent | NoWorkRetryAfterMsFieldEvent | NoWorkFinishedFieldEvent> {
    return streamMessage(buf, NoWork.codec(), opts)
  }
}

export interface Heartbeat {
  leaseId: string
}

export namespace Heartbeat {
  let _codec: Codec<Heartbeat>

  export const codec = (): Codec<Heartbeat> => {
    if (_codec == null) {
      _codec = message<Heartbeat>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.leaseId != null && obj.leaseId !== '')) {
          w.uint32(10)
          w.string(obj.leaseId)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          leaseId: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.leaseId = reader.string()
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
                field: `${prefix}.leaseId`,
                value: reader.string()
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

  export interface HeartbeatLeaseIdFieldEvent {
    field: '$.leaseId'
    value: string
  }

  export function encode (obj: Partial<Heartbeat>): Uint8Array {
    return encodeMessage(obj, Heartbeat.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Heartbeat>): Heartbeat {
    return decodeMessage(buf, Heartbeat.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Heartbeat>): Generator<HeartbeatLeaseIdFieldEvent> {
    return streamMessage(buf, Heartbeat.codec(), opts)
  }
}

export interface Result {
  leaseId: string
  rows: number
  cols: number
  c: Uint8Array
  computeMs: number
}

export namespace Result {
  let _codec: Codec<Result>

  export const codec = (): Codec<Result> => {
    if (_codec == null) {
      _codec = message<Result>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.leaseId != null && obj.leaseId !== '')) {
          w.uint32(10)
          w.string(obj.leaseId)
        }

        if ((obj.rows != null && obj.rows !== 0)) {
          w.uint32(16)
          w.uint32(obj.rows)
        }

        if ((obj.cols != null && obj.cols !== 0)) {
          w.uint32(24)
          w.uint32(obj.cols)
        }

        if ((obj.c != null && obj.c.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.c)
        }

        if ((obj.computeMs != null && obj.computeMs !== 0)) {
          w.uint32(41)
          w.double(obj.computeMs)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          leaseId: '',
          rows: 0,
          cols: 0,
          c: uint8ArrayAlloc(0),
          computeMs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.leaseId = reader.string()
              break
            }
            case 2: {
              obj.rows = reader.uint32()
              break
            }
            case 3: {
              obj.cols = reader.uint32()
              break
            }
            case 4: {
              obj.c = reader.bytes()
              break
            }
            case 5: {
              obj.computeMs = reader.double()
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
                field: `${prefix}.leaseId`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.rows`,
                value: reader.uint32()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.cols`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.c`,
                value: reader.bytes()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.computeMs`,
                value: reader.double()
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

  export interface ResultLeaseIdFieldEvent {
    field: '$.leaseId'
    value: string
  }

  export interface ResultRowsFieldEvent {
    field: '$.rows'
    value: number
  }

  export interface ResultColsFieldEvent {
    field: '$.cols'
    value: number
  }

  export interface ResultCFieldEvent {
    field: '$.c'
    value: Uint8Array
  }

  export interface ResultComputeMsFieldEvent {
    field: '$.computeMs'
    value: number
  }

  export function encode (obj: Partial<Result>): Uint8Array {
    return encodeMessage(obj, Result.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Result>): Result {
    return decodeMessage(buf, Result.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Result>): Generator<ResultLeaseIdFieldEvent | ResultRowsFieldEvent | ResultColsFieldEvent | ResultCFieldEvent | ResultComputeMsFieldEvent> {
    return streamMessage(buf, Result.codec(), opts)
  }
}

export interface Verdict {
  leaseId: string
  accepted: boolean
  reason: string
  receipt: Uint8Array
}

export namespace Verdict {
  let _codec: Codec<Verdict>

  export const codec = (): Codec<Verdict> => {
    if (_codec == null) {
      _codec = message<Verdict>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.leaseId != null && obj.leaseId !== '')) {
          w.uint32(10)
          w.string(obj.leaseId)
        }

        if ((obj.accepted != null && obj.accepted !== false)) {
          w.uint32(16)
          w.bool(obj.accepted)
        }

        if ((obj.reason != null && obj.reason !== '')) {
          w.uint32(26)
          w.string(obj.reason)
        }

        if ((obj.receipt != null && obj.receipt.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.receipt)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          leaseId: '',
          accepted: false,
          reason: '',
          receipt: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.leaseId = reader.string()
              break
            }
            case 2: {
              obj.accepted = reader.bool()
              break
            }
            case 3: {
              obj.reason = reader.string()
              break
            }
            case 4: {
              obj.receipt = reader.bytes()
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
                field: `${prefix}.leaseId`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.accepted`,
                value: reader.bool()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.reason`,
                value: reader.string()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.receipt`,
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

  export interface VerdictLeaseIdFieldEvent {
    field: '$.leaseId'
    value: string
  }

  export interface VerdictAcceptedFieldEvent {
    field: '$.accepted'
    value: boolean
  }

  export interface VerdictReasonFieldEvent {
    field: '$.reason'
    value: string
  }

  export interface VerdictReceiptFieldEvent {
    field: '$.receipt'
    value: Uint8Array
  }

  export function encode (obj: Partial<Verdict>): Uint8Array {
    return encodeMessage(obj, Verdict.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Verdict>): Verdict {
    return decodeMessage(buf, Verdict.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Verdict>): Generator<VerdictLeaseIdFieldEvent | VerdictAcceptedFieldEvent | VerdictReasonFieldEvent | VerdictReceiptFieldEvent> {
    return streamMessage(buf, Verdict.codec(), opts)
  }
}

export interface Failure {
  leaseId: string
  code: string
  message: string
}

export namespace Failure {
  let _codec: Codec<Failure>

  export const codec = (): Codec<Failure> => {
    if (_codec == null) {
      _codec = message<Failure>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.leaseId != null && obj.leaseId !== '')) {
          w.uint32(10)
          w.string(obj.leaseId)
        }

        if ((obj.code != null && obj.code !== '')) {
          w.uint32(18)
          w.string(obj.code)
        }

        if ((obj.message != null && obj.message !== '')) {
          w.uint32(26)
          w.string(obj.message)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          leaseId: '',
          code: '',
          message: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.leaseId = reader.string()
              break
            }
            case 2: {
              obj.code = reader.string()
              break
            }
            case 3: {
              obj.message = reader.string()
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
                field: `${prefix}.leaseId`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.code`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.message`,
                value: reader.string()
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

  export interface FailureLeaseIdFieldEvent {
    field: '$.leaseId'
    value: string
  }

  export interface FailureCodeFieldEvent {
    field: '$.code'
    value: string
  }

  export interface FailureMessageFieldEvent {
    field: '$.message'
    value: string
  }

  export function encode (obj: Partial<Failure>): Uint8Array {
    return encodeMessage(obj, Failure.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Failure>): Failure {
    return decodeMessage(buf, Failure.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Failure>): Generator<FailureLeaseIdFieldEvent | FailureCodeFieldEvent | FailureMessageFieldEvent> {
    return streamMessage(buf, Failure.codec(), opts)
  }
}

export interface JobAnnouncement {
  version: number
  jobId: string
  owner: string
  kind: string
  shardCount: number
  shardsLeft: number
  kernelDigest: string
  expiresAt: bigint
  addrs: string[]
}

export namespace JobAnnouncement {
  let _codec: Codec<JobAnnouncement>

  export const codec = (): Codec<JobAnnouncement> => {
    if (_codec == null) {
      _codec = message<JobAnnouncement>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if ((obj.jobId != null && obj.jobId !== '')) {
          w.uint32(18)
          w.string(obj.jobId)
        }

        if ((obj.owner != null && obj.owner !== '')) {
          w.uint32(26)
          w.string(obj.owner)
        }

        if ((obj.kind != null && obj.kind !== '')) {
          w.uint32(34)
          w.string(obj.kind)
        }

        if ((obj.shardCount != null && obj.shardCount !== 0)) {
          w.uint32(40)
          w.uint32(obj.shardCount)
        }

        if ((obj.shardsLeft != null && obj.shardsLeft !== 0)) {
          w.uint32(48)
          w.uint32(obj.shardsLeft)
        }

        if ((obj.kernelDigest != null && obj.kernelDigest !== '')) {
          w.uint32(58)
          w.string(obj.kernelDigest)
        }

        if ((obj.expiresAt != null && obj.expiresAt !== 0n)) {
          w.uint32(64)
          w.uint64(obj.expiresAt)
        }

        if (obj.addrs != null && obj.addrs.length > 0) {
          for (const value of obj.addrs) {
            w.uint32(74)
            w.string(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          jobId: '',
          owner: '',
          kind: '',
          shardCount: 0,
          shardsLeft: 0,
          kernelDigest: '',
          expiresAt: 0n,
          addrs: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.version = reader.uint32()
              break
            }
            case 2: {
              obj.jobId = reader.string()
              break
            }
            case 3: {
              obj.owner = reader.string()
              break
            }
            case 4: {
              obj.kind = reader.string()
              break
            }
            case 5: {
              obj.shardCount = reader.uint32()
              break
            }
            case 6: {
              obj.shardsLeft = reader.uint32()
              break
            }
            case 7: {
              obj.kernelDigest = reader.string()
              break
            }
            case 8: {
              obj.expiresAt = reader.uint64()
              break
            }
            case 9: {
              if (opts.limits?.addrs != null && obj.addrs.length === opts.limits.addrs) {
                throw new MaxLengthError('Decode error - repeated field "addrs" had too many elements')
              }

              obj.addrs.push(reader.string())
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
        const obj = {
          addrs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.version`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.jobId`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.owner`,
                value: reader.string()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.kind`,
                value: reader.string()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.shardCount`,
                value: reader.uint32()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.shardsLeft`,
                value: reader.uint32()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.kernelDigest`,
                value: reader.string()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.expiresAt`,
                value: reader.uint64()
              }
              break
            }
            case 9: {
              if (opts.limits?.addrs != null && obj.addrs === opts.limits.addrs) {
                throw new MaxLengthError('Streaming decode error - repeated field "addrs" had too many elements')
              }

              yield {
                field: `${prefix}.addrs[]`,
                index: obj.addrs,
                value: reader.string()
              }

              obj.addrs++

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

  export interface JobAnnouncementVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface JobAnnouncementJobIdFieldEvent {
    field: '$.jobId'
    value: string
  }

  export interface JobAnnouncementOwnerFieldEvent {
    field: '$.owner'
    value: string
  }

  export interface JobAnnouncementKindFieldEvent {
    field: '$.kind'
    value: string
  }

  export interface JobAnnouncementShardCountFieldEvent {
    field: '$.shardCount'
    value: number
  }

  export interface JobAnnouncementShardsLeftFieldEvent {
    field: '$.shardsLeft'
    value: number
  }

  export interface JobAnnouncementKernelDigestFieldEvent {
    field: '$.kernelDigest'
    value: string
  }

  export interface JobAnnouncementExpiresAtFieldEvent {
    field: '$.expiresAt'
    value: bigint
  }

  export interface JobAnnouncementAddrsFieldEvent {
    field: '$.addrs[]'
    index: number
    value: string
  }

  export function encode (obj: Partial<JobAnnouncement>): Uint8Array {
    return encodeMessage(obj, JobAnnouncement.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<JobAnnouncement>): JobAnnouncement {
    return decodeMessage(buf, JobAnnouncement.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<JobAnnouncement>): Generator<JobAnnouncementVersionFieldEvent | JobAnnouncementJobIdFieldEvent | JobAnnouncementOwnerFieldEvent | JobAnnouncementKindFieldEvent | JobAnnouncementShardCountFieldEvent | JobAnnouncementShardsLeftFieldEvent | JobAnnouncementKernelDigestFieldEvent | JobAnnouncementExpiresAtFieldEvent | JobAnnouncementAddrsFieldEvent> {
    return streamMessage(buf, JobAnnouncement.codec(), opts)
  }
}

export interface Receipt {
  version: number
  jobId: string
  shardId: number
  owner: string
  contributor: string
  flops: number
  method: string
  issuedAt: bigint
}

export namespace Receipt {
  let _codec: Codec<Receipt>

  export const codec = (): Codec<Receipt> => {
    if (_codec == null) {
      _codec = message<Receipt>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if ((obj.jobId != null && obj.jobId !== '')) {
          w.uint32(18)
          w.string(obj.jobId)
        }

        if ((obj.shardId != null && obj.shardId !== 0)) {
          w.uint32(24)
          w.uint32(obj.shardId)
        }

        if ((obj.owner != null && obj.owner !== '')) {
          w.uint32(34)
          w.string(obj.owner)
        }

        if ((obj.contributor != null && obj.contributor !== '')) {
          w.uint32(42)
          w.string(obj.contributor)
        }

        if ((obj.flops != null && obj.flops !== 0)) {
          w.uint32(49)
          w.double(obj.flops)
        }

        if ((obj.method != null && obj.method !== '')) {
          w.uint32(58)
          w.string(obj.method)
        }

        if ((obj.issuedAt != null && obj.issuedAt !== 0n)) {
          w.uint32(64)
          w.uint64(obj.issuedAt)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          jobId: '',
          shardId: 0,
          owner: '',
          contributor: '',
          flops: 0,
          method: '',
          issuedAt: 0n
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.version = reader.uint32()
              break
            }
            case 2: {
              obj.jobId = reader.string()
              break
            }
            case 3: {
              obj.shardId = reader.uint32()
              break
            }
            case 4: {
              obj.owner = reader.string()
              break
            }
            case 5: {
              obj.contributor = reader.string()
              break
            }
            case 6: {
              obj.flops = reader.double()
              break
            }
            case 7: {
              obj.method = reader.string()
              break
            }
            case 8: {
              obj.issuedAt = reader.uint64()
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
                field: `${prefix}.version`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.jobId`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.shardId`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.owner`,
                value: reader.string()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.contributor`,
                value: reader.string()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.flops`,
                value: reader.double()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.method`,
                value: reader.string()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.issuedAt`,
                value: reader.uint64()
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

  export interface ReceiptVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface ReceiptJobIdFieldEvent {
    field: '$.jobId'
    value: string
  }

  export interface ReceiptShardIdFieldEvent {
    field: '$.shardId'
    value: number
  }

  export interface ReceiptOwnerFieldEvent {
    field: '$.owner'
    value: string
  }

  export interface ReceiptContributorFieldEvent {
    field: '$.contributor'
    value: string
  }

  export interface ReceiptFlopsFieldEvent {
    field: '$.flops'
    value: number
  }

  export interface ReceiptMethodFieldEvent {
    field: '$.method'
    value: string
  }

  export interface ReceiptIssuedAtFieldEvent {
    field: '$.issuedAt'
    value: bigint
  }

  export function encode (obj: Partial<Receipt>): Uint8Array {
    return encodeMessage(obj, Receipt.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Receipt>): Receipt {
    return decodeMessage(buf, Receipt.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Receipt>): Generator<ReceiptVersionFieldEvent | ReceiptJobIdFieldEvent | ReceiptShardIdFieldEvent | ReceiptOwnerFieldEvent | ReceiptContributorFieldEvent | ReceiptFlopsFieldEvent | ReceiptMethodFieldEvent | ReceiptIssuedAtFieldEvent> {
    return streamMessage(buf, Receipt.codec(), opts)
  }
}

export interface SignedReceipt {
  receipt: Uint8Array
  signature: Uint8Array
}

export namespace SignedReceipt {
  let _codec: Codec<SignedReceipt>

  export const codec = (): Codec<SignedReceipt> => {
    if (_codec == null) {
      _codec = message<SignedReceipt>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.receipt != null && obj.receipt.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.receipt)
        }

        if ((obj.signature != null && obj.signature.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.signature)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          receipt: uint8ArrayAlloc(0),
          signature: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.receipt = reader.bytes()
              break
            }
            case 2: {
              obj.signature = reader.bytes()
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
                field: `${prefix}.receipt`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.signature`,
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

  export interface SignedReceiptReceiptFieldEvent {
    field: '$.receipt'
    value: Uint8Array
  }

  export interface SignedReceiptSignatureFieldEvent {
    field: '$.signature'
    value: Uint8Array
  }

  export function encode (obj: Partial<SignedReceipt>): Uint8Array {
    return encodeMessage(obj, SignedReceipt.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SignedReceipt>): SignedReceipt {
    return decodeMessage(buf, SignedReceipt.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SignedReceipt>): Generator<SignedReceiptReceiptFieldEvent | SignedReceiptSignatureFieldEvent> {
    return streamMessage(buf, SignedReceipt.codec(), opts)
  }
}
