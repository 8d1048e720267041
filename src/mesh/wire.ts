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
    value: number
  }

  export interface ShardFrameWorkRequestGflopsFieldEvent {
    field: '$.workRequest.gflops'
    value: number
  }

  export interface ShardFrameWorkRequestAdapterFieldEvent {
    field: '$.workRequest.adapter'
    value: string
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

  export interface ShardFrameLeaseWorkFieldEvent {
    field: '$.lease.work'
    value: Uint8Array
  }

  export interface ShardFrameLeaseLifetimeMsFieldEvent {
    field: '$.lease.lifetimeMs'
    value: number
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

  export interface ShardFrameNoWorkReasonFieldEvent {
    field: '$.noWork.reason'
    value: string
  }

  export interface ShardFrameHeartbeatLeaseIdFieldEvent {
    field: '$.heartbeat.leaseId'
    value: string
  }

  export interface ShardFrameResultLeaseIdFieldEvent {
    field: '$.result.leaseId'
    value: string
  }

  export interface ShardFrameResultOutputFieldEvent {
    field: '$.result.output'
    value: Uint8Array
  }

  export interface ShardFrameResultComputeMsFieldEvent {
    field: '$.result.computeMs'
    value: number
  }

  export interface ShardFrameResultJobIdFieldEvent {
    field: '$.result.jobId'
    value: string
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

  export interface ShardFrameVerdictJobIdFieldEvent {
    field: '$.verdict.jobId'
    value: string
  }

  export interface ShardFrameVerdictShardIdFieldEvent {
    field: '$.verdict.shardId'
    value: number
  }

  export interface ShardFrameVerdictStaleFieldEvent {
    field: '$.verdict.stale'
    value: boolean
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

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ShardFrame>): Generator<ShardFrameVersionFieldEvent | ShardFrameWorkRequestJobIdFieldEvent | ShardFrameWorkRequestMaxBufferBytesFieldEvent | ShardFrameWorkRequestGflopsFieldEvent | ShardFrameWorkRequestAdapterFieldEvent | ShardFrameLeaseJobIdFieldEvent | ShardFrameLeaseShardIdFieldEvent | ShardFrameLeaseLeaseIdFieldEvent | ShardFrameLeaseDeadlineMsFieldEvent | ShardFrameLeaseHeartbeatMsFieldEvent | ShardFrameLeaseWorkFieldEvent | ShardFrameLeaseLifetimeMsFieldEvent | ShardFrameNoWorkJobIdFieldEvent | ShardFrameNoWorkRetryAfterMsFieldEvent | ShardFrameNoWorkFinishedFieldEvent | ShardFrameNoWorkReasonFieldEvent | ShardFrameHeartbeatLeaseIdFieldEvent | ShardFrameResultLeaseIdFieldEvent | ShardFrameResultOutputFieldEvent | ShardFrameResultComputeMsFieldEvent | ShardFrameResultJobIdFieldEvent | ShardFrameVerdictLeaseIdFieldEvent | ShardFrameVerdictAcceptedFieldEvent | ShardFrameVerdictReasonFieldEvent | ShardFrameVerdictReceiptFieldEvent | ShardFrameVerdictJobIdFieldEvent | ShardFrameVerdictShardIdFieldEvent | ShardFrameVerdictStaleFieldEvent | ShardFrameFailureLeaseIdFieldEvent | ShardFrameFailureCodeFieldEvent | ShardFrameFailureMessageFieldEvent> {
    return streamMessage(buf, ShardFrame.codec(), opts)
  }
}

export interface WorkRequest {
  jobId: string
  maxBufferBytes: number
  gflops: number
  adapter: string
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

        if ((obj.maxBufferBytes != null && obj.maxBufferBytes !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.maxBufferBytes)
        }

        if ((obj.gflops != null && obj.gflops !== 0)) {
          w.uint32(25)
          w.double(obj.gflops)
        }

        if ((obj.adapter != null && obj.adapter !== '')) {
          w.uint32(34)
          w.string(obj.adapter)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          jobId: '',
          maxBufferBytes: 0,
          gflops: 0,
          adapter: ''
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
              obj.maxBufferBytes = reader.uint64Number()
              break
            }
            case 3: {
              obj.gflops = reader.double()
              break
            }
            case 4: {
              obj.adapter = reader.string()
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
                value: reader.uint64Number()
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
            case 4: {
              yield {
                field: `${prefix}.adapter`,
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

  export interface WorkRequestJobIdFieldEvent {
    field: '$.jobId'
    value: string
  }

  export interface WorkRequestMaxBufferBytesFieldEvent {
    field: '$.maxBufferBytes'
    value: number
  }

  export interface WorkRequestGflopsFieldEvent {
    field: '$.gflops'
    value: number
  }

  export interface WorkRequestAdapterFieldEvent {
    field: '$.adapter'
    value: string
  }

  export function encode (obj: Partial<WorkRequest>): Uint8Array {
    return encodeMessage(obj, WorkRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WorkRequest>): WorkRequest {
    return decodeMessage(buf, WorkRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<WorkRequest>): Generator<WorkRequestJobIdFieldEvent | WorkRequestMaxBufferBytesFieldEvent | WorkRequestGflopsFieldEvent | WorkRequestAdapterFieldEvent> {
    return streamMessage(buf, WorkRequest.codec(), opts)
  }
}

export interface Lease {
  jobId: string
  shardId: number
  leaseId: string
  deadlineMs: number
  heartbeatMs: number
  work: Uint8Array
  lifetimeMs: number
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

        if ((obj.work != null && obj.work.byteLength > 0)) {
          w.uint32(50)
          w.bytes(obj.work)
        }

        if ((obj.lifetimeMs != null && obj.lifetimeMs !== 0)) {
          w.uint32(56)
          w.uint32(obj.lifetimeMs)
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
          work: uint8ArrayAlloc(0),
          lifetimeMs: 0
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
              obj.work = reader.bytes()
              break
            }
            case 7: {
              obj.lifetimeMs = reader.uint32()
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
                field: `${prefix}.work`,
                value: reader.bytes()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.lifetimeMs`,
                value: reader.uint32()
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

  export interface LeaseWorkFieldEvent {
    field: '$.work'
    value: Uint8Array
  }

  export interface LeaseLifetimeMsFieldEvent {
    field: '$.lifetimeMs'
    value: number
  }

  export function encode (obj: Partial<Lease>): Uint8Array {
    return encodeMessage(obj, Lease.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Lease>): Lease {
    return decodeMessage(buf, Lease.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Lease>): Generator<LeaseJobIdFieldEvent | LeaseShardIdFieldEvent | LeaseLeaseIdFieldEvent | LeaseDeadlineMsFieldEvent | LeaseHeartbeatMsFieldEvent | LeaseWorkFieldEvent | LeaseLifetimeMsFieldEvent> {
    return streamMessage(buf, Lease.codec(), opts)
  }
}

export interface NoWork {
  jobId: string
  retryAfterMs: number
  finished: boolean
  reason: string
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

        if ((obj.reason != null && obj.reason !== '')) {
          w.uint32(34)
          w.string(obj.reason)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          jobId: '',
          retryAfterMs: 0,
          finished: false,
          reason: ''
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
            case 4: {
              obj.reason = reader.string()
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
            case 4: {
              yield {
                field: `${prefix}.reason`,
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

  export interface NoWorkReasonFieldEvent {
    field: '$.reason'
    value: string
  }

  export function encode (obj: Partial<NoWork>): Uint8Array {
    return encodeMessage(obj, NoWork.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<NoWork>): NoWork {
    return decodeMessage(buf, NoWork.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<NoWork>): Generator<NoWorkJobIdFieldEvent | NoWorkRetryAfterMsFieldEvent | NoWorkFinishedFieldEvent | NoWorkReasonFieldEvent> {
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
  output: Uint8Array
  computeMs: number
  jobId: string
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

        if ((obj.output != null && obj.output.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.output)
        }

        if ((obj.computeMs != null && obj.computeMs !== 0)) {
          w.uint32(25)
          w.double(obj.computeMs)
        }

        if ((obj.jobId != null && obj.jobId !== '')) {
          w.uint32(34)
          w.string(obj.jobId)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          leaseId: '',
          output: uint8ArrayAlloc(0),
          computeMs: 0,
          jobId: ''
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
              obj.output = reader.bytes()
              break
            }
            case 3: {
              obj.computeMs = reader.double()
              break
            }
            case 4: {
              obj.jobId = reader.string()
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
                field: `${prefix}.output`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.computeMs`,
                value: reader.double()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.jobId`,
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

  export interface ResultLeaseIdFieldEvent {
    field: '$.leaseId'
    value: string
  }

  export interface ResultOutputFieldEvent {
    field: '$.output'
    value: Uint8Array
  }

  export interface ResultComputeMsFieldEvent {
    field: '$.computeMs'
    value: number
  }

  export interface ResultJobIdFieldEvent {
    field: '$.jobId'
    value: string
  }

  export function encode (obj: Partial<Result>): Uint8Array {
    return encodeMessage(obj, Result.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Result>): Result {
    return decodeMessage(buf, Result.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Result>): Generator<ResultLeaseIdFieldEvent | ResultOutputFieldEvent | ResultComputeMsFieldEvent | ResultJobIdFieldEvent> {
    return streamMessage(buf, Result.codec(), opts)
  }
}

export interface Verdict {
  leaseId: string
  accepted: boolean
  reason: string
  receipt: Uint8Array
  jobId: string
  shardId: number
  stale: boolean
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

        if ((obj.jobId != null && obj.jobId !== '')) {
          w.uint32(42)
          w.string(obj.jobId)
        }

        if ((obj.shardId != null && obj.shardId !== 0)) {
          w.uint32(48)
          w.uint32(obj.shardId)
        }

        if ((obj.stale != null && obj.stale !== false)) {
          w.uint32(56)
          w.bool(obj.stale)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          leaseId: '',
          accepted: false,
          reason: '',
          receipt: uint8ArrayAlloc(0),
          jobId: '',
          shardId: 0,
          stale: false
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
            case 5: {
              obj.jobId = reader.string()
              break
            }
            case 6: {
              obj.shardId = reader.uint32()
              break
            }
            case 7: {
              obj.stale = reader.bool()
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
            case 5: {
              yield {
                field: `${prefix}.jobId`,
                value: reader.string()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.shardId`,
                value: reader.uint32()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.stale`,
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

  export interface VerdictJobIdFieldEvent {
    field: '$.jobId'
    value: string
  }

  export interface VerdictShardIdFieldEvent {
    field: '$.shardId'
    value: number
  }

  export interface VerdictStaleFieldEvent {
    field: '$.stale'
    value: boolean
  }

  export function encode (obj: Partial<Verdict>): Uint8Array {
    return encodeMessage(obj, Verdict.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Verdict>): Verdict {
    return decodeMessage(buf, Verdict.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Verdict>): Generator<VerdictLeaseIdFieldEvent | VerdictAcceptedFieldEvent | VerdictReasonFieldEvent | VerdictReceiptFieldEvent | VerdictJobIdFieldEvent | VerdictShardIdFieldEvent | VerdictStaleFieldEvent> {
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

export interface ModelFrame {
  version: number
  request?: ModelRequest
  manifest?: ModelManifest
  chunk?: ModelChunk
  refusal?: ModelRefusal
}

export namespace ModelFrame {
  let _codec: Codec<ModelFrame>

  export const codec = (): Codec<ModelFrame> => {
    if (_codec == null) {
      _codec = message<ModelFrame>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if (obj.request != null) {
          w.uint32(18)
          ModelRequest.codec().encode(obj.request, w)
        }

        if (obj.manifest != null) {
          w.uint32(26)
          ModelManifest.codec().encode(obj.manifest, w)
        }

        if (obj.chunk != null) {
          w.uint32(34)
          ModelChunk.codec().encode(obj.chunk, w)
        }

        if (obj.refusal != null) {
          w.uint32(42)
          ModelRefusal.codec().encode(obj.refusal, w)
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
              obj.request = ModelRequest.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.request
              })
              break
            }
            case 3: {
              obj.manifest = ModelManifest.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.manifest
              })
              break
            }
            case 4: {
              obj.chunk = ModelChunk.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.chunk
              })
              break
            }
            case 5: {
              obj.refusal = ModelRefusal.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.refusal
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
              yield * ModelRequest.codec().stream(reader, reader.uint32(), `${prefix}.request`, {
                limits: opts.limits?.request
              })

              break
            }
            case 3: {
              yield * ModelManifest.codec().stream(reader, reader.uint32(), `${prefix}.manifest`, {
                limits: opts.limits?.manifest
              })

              break
            }
            case 4: {
              yield * ModelChunk.codec().stream(reader, reader.uint32(), `${prefix}.chunk`, {
                limits: opts.limits?.chunk
              })

              break
            }
            case 5: {
              yield * ModelRefusal.codec().stream(reader, reader.uint32(), `${prefix}.refusal`, {
                limits: opts.limits?.refusal
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

  export interface ModelFrameVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface ModelFrameRequestDigestFieldEvent {
    field: '$.request.digest'
    value: string
  }

  export interface ModelFrameRequestJobIdFieldEvent {
    field: '$.request.jobId'
    value: string
  }

  export interface ModelFrameRequestOffsetFieldEvent {
    field: '$.request.offset'
    value: number
  }

  export interface ModelFrameManifestDigestFieldEvent {
    field: '$.manifest.digest'
    value: string
  }

  export interface ModelFrameManifestConfigFieldEvent {
    field: '$.manifest.config'
    value: string
  }

  export interface ModelFrameManifestFileBytesFieldEvent {
    field: '$.manifest.fileBytes'
    value: number
  }

  export interface ModelFrameManifestChunkBytesFieldEvent {
    field: '$.manifest.chunkBytes'
    value: number
  }

  export interface ModelFrameManifestChunkHashesFieldEvent {
    field: '$.manifest.chunkHashes[]'
    index: number
    value: Uint8Array
  }

  export interface ModelFrameChunkOffsetFieldEvent {
    field: '$.chunk.offset'
    value: number
  }

  export interface ModelFrameChunkDataFieldEvent {
    field: '$.chunk.data'
    value: Uint8Array
  }

  export interface ModelFrameRefusalCodeFieldEvent {
    field: '$.refusal.code'
    value: string
  }

  export interface ModelFrameRefusalMessageFieldEvent {
    field: '$.refusal.message'
    value: string
  }

  export function encode (obj: Partial<ModelFrame>): Uint8Array {
    return encodeMessage(obj, ModelFrame.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ModelFrame>): ModelFrame {
    return decodeMessage(buf, ModelFrame.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ModelFrame>): Generator<ModelFrameVersionFieldEvent | ModelFrameRequestDigestFieldEvent | ModelFrameRequestJobIdFieldEvent | ModelFrameRequestOffsetFieldEvent | ModelFrameManifestDigestFieldEvent | ModelFrameManifestConfigFieldEvent | ModelFrameManifestFileBytesFieldEvent | ModelFrameManifestChunkBytesFieldEvent | ModelFrameManifestChunkHashesFieldEvent | ModelFrameChunkOffsetFieldEvent | ModelFrameChunkDataFieldEvent | ModelFrameRefusalCodeFieldEvent | ModelFrameRefusalMessageFieldEvent> {
    return streamMessage(buf, ModelFrame.codec(), opts)
  }
}

export interface ModelRequest {
  digest: string
  jobId: string
  offset: number
}

export namespace ModelRequest {
  let _codec: Codec<ModelRequest>

  export const codec = (): Codec<ModelRequest> => {
    if (_codec == null) {
      _codec = message<ModelRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.digest != null && obj.digest !== '')) {
          w.uint32(10)
          w.string(obj.digest)
        }

        if ((obj.jobId != null && obj.jobId !== '')) {
          w.uint32(18)
          w.string(obj.jobId)
        }

        if ((obj.offset != null && obj.offset !== 0)) {
          w.uint32(24)
          w.uint64Number(obj.offset)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          digest: '',
          jobId: '',
          offset: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.digest = reader.string()
              break
            }
            case 2: {
              obj.jobId = reader.string()
              break
            }
            case 3: {
              obj.offset = reader.uint64Number()
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
                field: `${prefix}.digest`,
                value: reader.string()
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
                field: `${prefix}.offset`,
                value: reader.uint64Number()
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

  export interface ModelRequestDigestFieldEvent {
    field: '$.digest'
    value: string
  }

  export interface ModelRequestJobIdFieldEvent {
    field: '$.jobId'
    value: string
  }

  export interface ModelRequestOffsetFieldEvent {
    field: '$.offset'
    value: number
  }

  export function encode (obj: Partial<ModelRequest>): Uint8Array {
    return encodeMessage(obj, ModelRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ModelRequest>): ModelRequest {
    return decodeMessage(buf, ModelRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ModelRequest>): Generator<ModelRequestDigestFieldEvent | ModelRequestJobIdFieldEvent | ModelRequestOffsetFieldEvent> {
    return streamMessage(buf, ModelRequest.codec(), opts)
  }
}

export interface ModelManifest {
  digest: string
  config: string
  fileBytes: number
  chunkBytes: number
  chunkHashes: Uint8Array[]
}

export namespace ModelManifest {
  let _codec: Codec<ModelManifest>

  export const codec = (): Codec<ModelManifest> => {
    if (_codec == null) {
      _codec = message<ModelManifest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.digest != null && obj.digest !== '')) {
          w.uint32(10)
          w.string(obj.digest)
        }

        if ((obj.config != null && obj.config !== '')) {
          w.uint32(18)
          w.string(obj.config)
        }

        if ((obj.fileBytes != null && obj.fileBytes !== 0)) {
          w.uint32(24)
          w.uint64Number(obj.fileBytes)
        }

        if ((obj.chunkBytes != null && obj.chunkBytes !== 0)) {
          w.uint32(32)
          w.uint32(obj.chunkBytes)
        }

        if (obj.chunkHashes != null && obj.chunkHashes.length > 0) {
          for (const value of obj.chunkHashes) {
            w.uint32(42)
            w.bytes(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          digest: '',
          config: '',
          fileBytes: 0,
          chunkBytes: 0,
          chunkHashes: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.digest = reader.string()
              break
            }
            case 2: {
              obj.config = reader.string()
              break
            }
            case 3: {
              obj.fileBytes = reader.uint64Number()
              break
            }
            case 4: {
              obj.chunkBytes = reader.uint32()
              break
            }
            case 5: {
              if (opts.limits?.chunkHashes != null && obj.chunkHashes.length === opts.limits.chunkHashes) {
                throw new MaxLengthError('Decode error - repeated field "chunkHashes" had too many elements')
              }

              obj.chunkHashes.push(reader.bytes())
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
          chunkHashes: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.digest`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.config`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.fileBytes`,
                value: reader.uint64Number()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.chunkBytes`,
                value: reader.uint32()
              }
              break
            }
            case 5: {
              if (opts.limits?.chunkHashes != null && obj.chunkHashes === opts.limits.chunkHashes) {
                throw new MaxLengthError('Streaming decode error - repeated field "chunkHashes" had too many elements')
              }

              yield {
                field: `${prefix}.chunkHashes[]`,
                index: obj.chunkHashes,
                value: reader.bytes()
              }

              obj.chunkHashes++

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

  export interface ModelManifestDigestFieldEvent {
    field: '$.digest'
    value: string
  }

  export interface ModelManifestConfigFieldEvent {
    field: '$.config'
    value: string
  }

  export interface ModelManifestFileBytesFieldEvent {
    field: '$.fileBytes'
    value: number
  }

  export interface ModelManifestChunkBytesFieldEvent {
    field: '$.chunkBytes'
    value: number
  }

  export interface ModelManifestChunkHashesFieldEvent {
    field: '$.chunkHashes[]'
    index: number
    value: Uint8Array
  }

  export function encode (obj: Partial<ModelManifest>): Uint8Array {
    return encodeMessage(obj, ModelManifest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ModelManifest>): ModelManifest {
    return decodeMessage(buf, ModelManifest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ModelManifest>): Generator<ModelManifestDigestFieldEvent | ModelManifestConfigFieldEvent | ModelManifestFileBytesFieldEvent | ModelManifestChunkBytesFieldEvent | ModelManifestChunkHashesFieldEvent> {
    return streamMessage(buf, ModelManifest.codec(), opts)
  }
}

export interface ModelChunk {
  offset: number
  data: Uint8Array
}

export namespace ModelChunk {
  let _codec: Codec<ModelChunk>

  export const codec = (): Codec<ModelChunk> => {
    if (_codec == null) {
      _codec = message<ModelChunk>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.offset != null && obj.offset !== 0)) {
          w.uint32(8)
          w.uint64Number(obj.offset)
        }

        if ((obj.data != null && obj.data.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.data)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          offset: 0,
          data: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.offset = reader.uint64Number()
              break
            }
            case 2: {
              obj.data = reader.bytes()
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
                field: `${prefix}.offset`,
                value: reader.uint64Number()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.data`,
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

  export interface ModelChunkOffsetFieldEvent {
    field: '$.offset'
    value: number
  }

  export interface ModelChunkDataFieldEvent {
    field: '$.data'
    value: Uint8Array
  }

  export function encode (obj: Partial<ModelChunk>): Uint8Array {
    return encodeMessage(obj, ModelChunk.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ModelChunk>): ModelChunk {
    return decodeMessage(buf, ModelChunk.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ModelChunk>): Generator<ModelChunkOffsetFieldEvent | ModelChunkDataFieldEvent> {
    return streamMessage(buf, ModelChunk.codec(), opts)
  }
}

export interface ModelRefusal {
  code: string
  message: string
}

export namespace ModelRefusal {
  let _codec: Codec<ModelRefusal>

  export const codec = (): Codec<ModelRefusal> => {
    if (_codec == null) {
      _codec = message<ModelRefusal>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.code != null && obj.code !== '')) {
          w.uint32(10)
          w.string(obj.code)
        }

        if ((obj.message != null && obj.message !== '')) {
          w.uint32(18)
          w.string(obj.message)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          code: '',
          message: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.code = reader.string()
              break
            }
            case 2: {
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
                field: `${prefix}.code`,
                value: reader.string()
              }
              break
            }
            case 2: {
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

  export interface ModelRefusalCodeFieldEvent {
    field: '$.code'
    value: string
  }

  export interface ModelRefusalMessageFieldEvent {
    field: '$.message'
    value: string
  }

  export function encode (obj: Partial<ModelRefusal>): Uint8Array {
    return encodeMessage(obj, ModelRefusal.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ModelRefusal>): ModelRefusal {
    return decodeMessage(buf, ModelRefusal.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ModelRefusal>): Generator<ModelRefusalCodeFieldEvent | ModelRefusalMessageFieldEvent> {
    return streamMessage(buf, ModelRefusal.codec(), opts)
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
  expiresAt: number
  addrs: string[]
  modelDigest: string
  modelBytes: number
  price: number
  shardGflop: number
  ended: boolean
  paused: boolean
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

        if ((obj.expiresAt != null && obj.expiresAt !== 0)) {
          w.uint32(64)
          w.uint64Number(obj.expiresAt)
        }

        if (obj.addrs != null && obj.addrs.length > 0) {
          for (const value of obj.addrs) {
            w.uint32(74)
            w.string(value)
          }
        }

        if ((obj.modelDigest != null && obj.modelDigest !== '')) {
          w.uint32(82)
          w.string(obj.modelDigest)
        }

        if ((obj.modelBytes != null && obj.modelBytes !== 0)) {
          w.uint32(88)
          w.uint64Number(obj.modelBytes)
        }

        if ((obj.price != null && obj.price !== 0)) {
          w.uint32(97)
          w.double(obj.price)
        }

        if ((obj.shardGflop != null && obj.shardGflop !== 0)) {
          w.uint32(105)
          w.double(obj.shardGflop)
        }

        if ((obj.ended != null && obj.ended !== false)) {
          w.uint32(112)
          w.bool(obj.ended)
        }

        if ((obj.paused != null && obj.paused !== false)) {
          w.uint32(120)
          w.bool(obj.paused)
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
          expiresAt: 0,
          addrs: [],
          modelDigest: '',
          modelBytes: 0,
          price: 0,
          shardGflop: 0,
          ended: false,
          paused: false
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
              obj.expiresAt = reader.uint64Number()
              break
            }
            case 9: {
              if (opts.limits?.addrs != null && obj.addrs.length === opts.limits.addrs) {
                throw new MaxLengthError('Decode error - repeated field "addrs" had too many elements')
              }

              obj.addrs.push(reader.string())
              break
            }
            case 10: {
              obj.modelDigest = reader.string()
              break
            }
            case 11: {
              obj.modelBytes = reader.uint64Number()
              break
            }
            case 12: {
              obj.price = reader.double()
              break
            }
            case 13: {
              obj.shardGflop = reader.double()
              break
            }
            case 14: {
              obj.ended = reader.bool()
              break
            }
            case 15: {
              obj.paused = reader.bool()
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
                value: reader.uint64Number()
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
            case 10: {
              yield {
                field: `${prefix}.modelDigest`,
                value: reader.string()
              }
              break
            }
            case 11: {
              yield {
                field: `${prefix}.modelBytes`,
                value: reader.uint64Number()
              }
              break
            }
            case 12: {
              yield {
                field: `${prefix}.price`,
                value: reader.double()
              }
              break
            }
            case 13: {
              yield {
                field: `${prefix}.shardGflop`,
                value: reader.double()
              }
              break
            }
            case 14: {
              yield {
                field: `${prefix}.ended`,
                value: reader.bool()
              }
              break
            }
            case 15: {
              yield {
                field: `${prefix}.paused`,
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
    value: number
  }

  export interface JobAnnouncementAddrsFieldEvent {
    field: '$.addrs[]'
    index: number
    value: string
  }

  export interface JobAnnouncementModelDigestFieldEvent {
    field: '$.modelDigest'
    value: string
  }

  export interface JobAnnouncementModelBytesFieldEvent {
    field: '$.modelBytes'
    value: number
  }

  export interface JobAnnouncementPriceFieldEvent {
    field: '$.price'
    value: number
  }

  export interface JobAnnouncementShardGflopFieldEvent {
    field: '$.shardGflop'
    value: number
  }

  export interface JobAnnouncementEndedFieldEvent {
    field: '$.ended'
    value: boolean
  }

  export interface JobAnnouncementPausedFieldEvent {
    field: '$.paused'
    value: boolean
  }

  export function encode (obj: Partial<JobAnnouncement>): Uint8Array {
    return encodeMessage(obj, JobAnnouncement.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<JobAnnouncement>): JobAnnouncement {
    return decodeMessage(buf, JobAnnouncement.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<JobAnnouncement>): Generator<JobAnnouncementVersionFieldEvent | JobAnnouncementJobIdFieldEvent | JobAnnouncementOwnerFieldEvent | JobAnnouncementKindFieldEvent | JobAnnouncementShardCountFieldEvent | JobAnnouncementShardsLeftFieldEvent | JobAnnouncementKernelDigestFieldEvent | JobAnnouncementExpiresAtFieldEvent | JobAnnouncementAddrsFieldEvent | JobAnnouncementModelDigestFieldEvent | JobAnnouncementModelBytesFieldEvent | JobAnnouncementPriceFieldEvent | JobAnnouncementShardGflopFieldEvent | JobAnnouncementEndedFieldEvent | JobAnnouncementPausedFieldEvent> {
    return streamMessage(buf, JobAnnouncement.codec(), opts)
  }
}
