import { decodeMessage, encodeMessage, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface Receipt {
  version: number
  jobId: string
  shardId: number
  owner: string
  contributor: string
  flops: number
  method: string
  issuedAt: number
  credit: number
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

        if ((obj.issuedAt != null && obj.issuedAt !== 0)) {
          w.uint32(64)
          w.uint64Number(obj.issuedAt)
        }

        if ((obj.credit != null && obj.credit !== 0)) {
          w.uint32(72)
          w.uint64Number(obj.credit)
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
          issuedAt: 0,
          credit: 0
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
              obj.issuedAt = reader.uint64Number()
              break
            }
            case 9: {
              obj.credit = reader.uint64Number()
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
                value: reader.uint64Number()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.credit`,
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
    value: number
  }

  export interface ReceiptCreditFieldEvent {
    field: '$.credit'
    value: number
  }

  export function encode (obj: Partial<Receipt>): Uint8Array {
    return encodeMessage(obj, Receipt.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Receipt>): Receipt {
    return decodeMessage(buf, Receipt.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Receipt>): Generator<ReceiptVersionFieldEvent | ReceiptJobIdFieldEvent | ReceiptShardIdFieldEvent | ReceiptOwnerFieldEvent | ReceiptContributorFieldEvent | ReceiptFlopsFieldEvent | ReceiptMethodFieldEvent | ReceiptIssuedAtFieldEvent | ReceiptCreditFieldEvent> {
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

export interface Proposal {
  param: string
  value: number
  reason: string
  createdAt: number
}

export namespace Proposal {
  let _codec: Codec<Proposal>

  export const codec = (): Codec<Proposal> => {
    if (_codec == null) {
      _codec = message<Proposal>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.param != null && obj.param !== '')) {
          w.uint32(10)
          w.string(obj.param)
        }

        if ((obj.value != null && obj.value !== 0)) {
          w.uint32(17)
          w.double(obj.value)
        }

        if ((obj.reason != null && obj.reason !== '')) {
          w.uint32(26)
          w.string(obj.reason)
        }

        if ((obj.createdAt != null && obj.createdAt !== 0)) {
          w.uint32(32)
          w.uint64Number(obj.createdAt)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          param: '',
          value: 0,
          reason: '',
          createdAt: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.param = reader.string()
              break
            }
            case 2: {
              obj.value = reader.double()
              break
            }
            case 3: {
              obj.reason = reader.string()
              break
            }
            case 4: {
              obj.createdAt = reader.uint64Number()
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
                field: `${prefix}.param`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.value`,
                value: reader.double()
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
                field: `${prefix}.createdAt`,
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

  export interface ProposalParamFieldEvent {
    field: '$.param'
    value: string
  }

  export interface ProposalValueFieldEvent {
    field: '$.value'
    value: number
  }

  export interface ProposalReasonFieldEvent {
    field: '$.reason'
    value: string
  }

  export interface ProposalCreatedAtFieldEvent {
    field: '$.createdAt'
    value: number
  }

  export function encode (obj: Partial<Proposal>): Uint8Array {
    return encodeMessage(obj, Proposal.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Proposal>): Proposal {
    return decodeMessage(buf, Proposal.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Proposal>): Generator<ProposalParamFieldEvent | ProposalValueFieldEvent | ProposalReasonFieldEvent | ProposalCreatedAtFieldEvent> {
    return streamMessage(buf, Proposal.codec(), opts)
  }
}

export interface Vote {
  proposal: string
  yes: boolean
  castAt: number
}

export namespace Vote {
  let _codec: Codec<Vote>

  export const codec = (): Codec<Vote> => {
    if (_codec == null) {
      _codec = message<Vote>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.proposal != null && obj.proposal !== '')) {
          w.uint32(10)
          w.string(obj.proposal)
        }

        if ((obj.yes != null && obj.yes !== false)) {
          w.uint32(16)
          w.bool(obj.yes)
        }

        if ((obj.castAt != null && obj.castAt !== 0)) {
          w.uint32(24)
          w.uint64Number(obj.castAt)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          proposal: '',
          yes: false,
          castAt: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.proposal = reader.string()
              break
            }
            case 2: {
              obj.yes = reader.bool()
              break
            }
            case 3: {
              obj.castAt = reader.uint64Number()
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
                field: `${prefix}.proposal`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.yes`,
                value: reader.bool()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.castAt`,
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

  export interface VoteProposalFieldEvent {
    field: '$.proposal'
    value: string
  }

  export interface VoteYesFieldEvent {
    field: '$.yes'
    value: boolean
  }

  export interface VoteCastAtFieldEvent {
    field: '$.castAt'
    value: number
  }

  export function encode (obj: Partial<Vote>): Uint8Array {
    return encodeMessage(obj, Vote.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Vote>): Vote {
    return decodeMessage(buf, Vote.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Vote>): Generator<VoteProposalFieldEvent | VoteYesFieldEvent | VoteCastAtFieldEvent> {
    return streamMessage(buf, Vote.codec(), opts)
  }
}

export interface Revocation {
  jobId: string
  contributor: string
  reason: string
  revokedAt: number
}

export namespace Revocation {
  let _codec: Codec<Revocation>

  export const codec = (): Codec<Revocation> => {
    if (_codec == null) {
      _codec = message<Revocation>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.jobId != null && obj.jobId !== '')) {
          w.uint32(10)
          w.string(obj.jobId)
        }

        if ((obj.contributor != null && obj.contributor !== '')) {
          w.uint32(18)
          w.string(obj.contributor)
        }

        if ((obj.reason != null && obj.reason !== '')) {
          w.uint32(26)
          w.string(obj.reason)
        }

        if ((obj.revokedAt != null && obj.revokedAt !== 0)) {
          w.uint32(32)
          w.uint64Number(obj.revokedAt)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          jobId: '',
          contributor: '',
          reason: '',
          revokedAt: 0
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
              obj.contributor = reader.string()
              break
            }
            case 3: {
              obj.reason = reader.string()
              break
            }
            case 4: {
              obj.revokedAt = reader.uint64Number()
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
                field: `${prefix}.contributor`,
                value: reader.string()
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
                field: `${prefix}.revokedAt`,
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

  export interface RevocationJobIdFieldEvent {
    field: '$.jobId'
    value: string
  }

  export interface RevocationContributorFieldEvent {
    field: '$.contributor'
    value: string
  }

  export interface RevocationReasonFieldEvent {
    field: '$.reason'
    value: string
  }

  export interface RevocationRevokedAtFieldEvent {
    field: '$.revokedAt'
    value: number
  }

  export function encode (obj: Partial<Revocation>): Uint8Array {
    return encodeMessage(obj, Revocation.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Revocation>): Revocation {
    return decodeMessage(buf, Revocation.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Revocation>): Generator<RevocationJobIdFieldEvent | RevocationContributorFieldEvent | RevocationReasonFieldEvent | RevocationRevokedAtFieldEvent> {
    return streamMessage(buf, Revocation.codec(), opts)
  }
}

export interface Signed {
  body: Uint8Array
  signature: Uint8Array
}

export namespace Signed {
  let _codec: Codec<Signed>

  export const codec = (): Codec<Signed> => {
    if (_codec == null) {
      _codec = message<Signed>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.body != null && obj.body.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.body)
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
          body: uint8ArrayAlloc(0),
          signature: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.body = reader.bytes()
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
                field: `${prefix}.body`,
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

  export interface SignedBodyFieldEvent {
    field: '$.body'
    value: Uint8Array
  }

  export interface SignedSignatureFieldEvent {
    field: '$.signature'
    value: Uint8Array
  }

  export function encode (obj: Partial<Signed>): Uint8Array {
    return encodeMessage(obj, Signed.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Signed>): Signed {
    return decodeMessage(buf, Signed.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Signed>): Generator<SignedBodyFieldEvent | SignedSignatureFieldEvent> {
    return streamMessage(buf, Signed.codec(), opts)
  }
}

export interface LogEntry {
  receipt: Uint8Array
  proposal?: Signed
  vote?: Signed
  revocation?: Signed
}

export namespace LogEntry {
  let _codec: Codec<LogEntry>

  export const codec = (): Codec<LogEntry> => {
    if (_codec == null) {
      _codec = message<LogEntry>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.receipt != null && obj.receipt.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.receipt)
        }

        if (obj.proposal != null) {
          w.uint32(18)
          Signed.codec().encode(obj.proposal, w)
        }

        if (obj.vote != null) {
          w.uint32(26)
          Signed.codec().encode(obj.vote, w)
        }

        if (obj.revocation != null) {
          w.uint32(34)
          Signed.codec().encode(obj.revocation, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          receipt: uint8ArrayAlloc(0)
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
              obj.proposal = Signed.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.proposal
              })
              break
            }
            case 3: {
              obj.vote = Signed.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.vote
              })
              break
            }
            case 4: {
              obj.revocation = Signed.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.revocation
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
                field: `${prefix}.receipt`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield * Signed.codec().stream(reader, reader.uint32(), `${prefix}.proposal`, {
                limits: opts.limits?.proposal
              })

              break
            }
            case 3: {
              yield * Signed.codec().stream(reader, reader.uint32(), `${prefix}.vote`, {
                limits: opts.limits?.vote
              })

              break
            }
            case 4: {
              yield * Signed.codec().stream(reader, reader.uint32(), `${prefix}.revocation`, {
                limits: opts.limits?.revocation
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

  export interface LogEntryReceiptFieldEvent {
    field: '$.receipt'
    value: Uint8Array
  }

  export interface LogEntryProposalBodyFieldEvent {
    field: '$.proposal.body'
    value: Uint8Array
  }

  export interface LogEntryProposalSignatureFieldEvent {
    field: '$.proposal.signature'
    value: Uint8Array
  }

  export interface LogEntryVoteBodyFieldEvent {
    field: '$.vote.body'
    value: Uint8Array
  }

  export interface LogEntryVoteSignatureFieldEvent {
    field: '$.vote.signature'
    value: Uint8Array
  }

  export interface LogEntryRevocationBodyFieldEvent {
    field: '$.revocation.body'
    value: Uint8Array
  }

  export interface LogEntryRevocationSignatureFieldEvent {
    field: '$.revocation.signature'
    value: Uint8Array
  }

  export function encode (obj: Partial<LogEntry>): Uint8Array {
    return encodeMessage(obj, LogEntry.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LogEntry>): LogEntry {
    return decodeMessage(buf, LogEntry.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LogEntry>): Generator<LogEntryReceiptFieldEvent | LogEntryProposalBodyFieldEvent | LogEntryProposalSignatureFieldEvent | LogEntryVoteBodyFieldEvent | LogEntryVoteSignatureFieldEvent | LogEntryRevocationBodyFieldEvent | LogEntryRevocationSignatureFieldEvent> {
    return streamMessage(buf, LogEntry.codec(), opts)
  }
}

export interface ReceiptBundle {
  leaf: Uint8Array
  index: number
  checkpoint: string
  proof: Uint8Array[]
}

export namespace ReceiptBundle {
  let _codec: Codec<ReceiptBundle>

  export const codec = (): Codec<ReceiptBundle> => {
    if (_codec == null) {
      _codec = message<ReceiptBundle>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.leaf != null && obj.leaf.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.leaf)
        }

        if ((obj.index != null && obj.index !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.index)
        }

        if ((obj.checkpoint != null && obj.checkpoint !== '')) {
          w.uint32(26)
          w.string(obj.checkpoint)
        }

        if (obj.proof != null && obj.proof.length > 0) {
          for (const value of obj.proof) {
            w.uint32(34)
            w.bytes(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          leaf: uint8ArrayAlloc(0),
          index: 0,
          checkpoint: '',
          proof: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.leaf = reader.bytes()
              break
            }
            case 2: {
              obj.index = reader.uint64Number()
              break
            }
            case 3: {
              obj.checkpoint = reader.string()
              break
            }
            case 4: {
              if (opts.limits?.proof != null && obj.proof.length === opts.limits.proof) {
                throw new MaxLengthError('Decode error - repeated field "proof" had too many elements')
              }

              obj.proof.push(reader.bytes())
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
          proof: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.leaf`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.index`,
                value: reader.uint64Number()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.checkpoint`,
                value: reader.string()
              }
              break
            }
            case 4: {
              if (opts.limits?.proof != null && obj.proof === opts.limits.proof) {
                throw new MaxLengthError('Streaming decode error - repeated field "proof" had too many elements')
              }

              yield {
                field: `${prefix}.proof[]`,
                index: obj.proof,
                value: reader.bytes()
              }

              obj.proof++

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

  export interface ReceiptBundleLeafFieldEvent {
    field: '$.leaf'
    value: Uint8Array
  }

  export interface ReceiptBundleIndexFieldEvent {
    field: '$.index'
    value: number
  }

  export interface ReceiptBundleCheckpointFieldEvent {
    field: '$.checkpoint'
    value: string
  }

  export interface ReceiptBundleProofFieldEvent {
    field: '$.proof[]'
    index: number
    value: Uint8Array
  }

  export function encode (obj: Partial<ReceiptBundle>): Uint8Array {
    return encodeMessage(obj, ReceiptBundle.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ReceiptBundle>): ReceiptBundle {
    return decodeMessage(buf, ReceiptBundle.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ReceiptBundle>): Generator<ReceiptBundleLeafFieldEvent | ReceiptBundleIndexFieldEvent | ReceiptBundleCheckpointFieldEvent | ReceiptBundleProofFieldEvent> {
    return streamMessage(buf, ReceiptBundle.codec(), opts)
  }
}

export interface LedgerRequest {
  version: number
  type: string
  from: number
  to: number
}

export namespace LedgerRequest {
  let _codec: Codec<LedgerRequest>

  export const codec = (): Codec<LedgerRequest> => {
    if (_codec == null) {
      _codec = message<LedgerRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if ((obj.type != null && obj.type !== '')) {
          w.uint32(18)
          w.string(obj.type)
        }

        if ((obj.from != null && obj.from !== 0)) {
          w.uint32(24)
          w.uint64Number(obj.from)
        }

        if ((obj.to != null && obj.to !== 0)) {
          w.uint32(32)
          w.uint64Number(obj.to)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          type: '',
          from: 0,
          to: 0
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
              obj.type = reader.string()
              break
            }
            case 3: {
              obj.from = reader.uint64Number()
              break
            }
            case 4: {
              obj.to = reader.uint64Number()
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
                field: `${prefix}.type`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.from`,
                value: reader.uint64Number()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.to`,
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

  export interface LedgerRequestVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface LedgerRequestTypeFieldEvent {
    field: '$.type'
    value: string
  }

  export interface LedgerRequestFromFieldEvent {
    field: '$.from'
    value: number
  }

  export interface LedgerRequestToFieldEvent {
    field: '$.to'
    value: number
  }

  export function encode (obj: Partial<LedgerRequest>): Uint8Array {
    return encodeMessage(obj, LedgerRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LedgerRequest>): LedgerRequest {
    return decodeMessage(buf, LedgerRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LedgerRequest>): Generator<LedgerRequestVersionFieldEvent | LedgerRequestTypeFieldEvent | LedgerRequestFromFieldEvent | LedgerRequestToFieldEvent> {
    return streamMessage(buf, LedgerRequest.codec(), opts)
  }
}

export interface LedgerResponse {
  version: number
  error: string
  checkpoint: string
  entries: Uint8Array[]
  proof: Uint8Array[]
  earned: Uint8Array[]
}

export namespace LedgerResponse {
  let _codec: Codec<LedgerResponse>

  export const codec = (): Codec<LedgerResponse> => {
    if (_codec == null) {
      _codec = message<LedgerResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if ((obj.error != null && obj.error !== '')) {
          w.uint32(18)
          w.string(obj.error)
        }

        if ((obj.checkpoint != null && obj.checkpoint !== '')) {
          w.uint32(26)
          w.string(obj.checkpoint)
        }

        if (obj.entries != null && obj.entries.length > 0) {
          for (const value of obj.entries) {
            w.uint32(34)
            w.bytes(value)
          }
        }

        if (obj.proof != null && obj.proof.length > 0) {
          for (const value of obj.proof) {
            w.uint32(42)
            w.bytes(value)
          }
        }

        if (obj.earned != null && obj.earned.length > 0) {
          for (const value of obj.earned) {
            w.uint32(50)
            w.bytes(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          error: '',
          checkpoint: '',
          entries: [],
          proof: [],
          earned: []
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
              obj.error = reader.string()
              break
            }
            case 3: {
              obj.checkpoint = reader.string()
              break
            }
            case 4: {
              if (opts.limits?.entries != null && obj.entries.length === opts.limits.entries) {
                throw new MaxLengthError('Decode error - repeated field "entries" had too many elements')
              }

              obj.entries.push(reader.bytes())
              break
            }
            case 5: {
              if (opts.limits?.proof != null && obj.proof.length === opts.limits.proof) {
                throw new MaxLengthError('Decode error - repeated field "proof" had too many elements')
              }

              obj.proof.push(reader.bytes())
              break
            }
            case 6: {
              if (opts.limits?.earned != null && obj.earned.length === opts.limits.earned) {
                throw new MaxLengthError('Decode error - repeated field "earned" had too many elements')
              }

              obj.earned.push(reader.bytes())
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
          entries: 0,
          proof: 0,
          earned: 0
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
                field: `${prefix}.error`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.checkpoint`,
                value: reader.string()
              }
              break
            }
            case 4: {
              if (opts.limits?.entries != null && obj.entries === opts.limits.entries) {
                throw new MaxLengthError('Streaming decode error - repeated field "entries" had too many elements')
              }

              yield {
                field: `${prefix}.entries[]`,
                index: obj.entries,
                value: reader.bytes()
              }

              obj.entries++

              break
            }
            case 5: {
              if (opts.limits?.proof != null && obj.proof === opts.limits.proof) {
                throw new MaxLengthError('Streaming decode error - repeated field "proof" had too many elements')
              }

              yield {
                field: `${prefix}.proof[]`,
                index: obj.proof,
                value: reader.bytes()
              }

              obj.proof++

              break
            }
            case 6: {
              if (opts.limits?.earned != null && obj.earned === opts.limits.earned) {
                throw new MaxLengthError('Streaming decode error - repeated field "earned" had too many elements')
              }

              yield {
                field: `${prefix}.earned[]`,
                index: obj.earned,
                value: reader.bytes()
              }

              obj.earned++

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

  export interface LedgerResponseVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface LedgerResponseErrorFieldEvent {
    field: '$.error'
    value: string
  }

  export interface LedgerResponseCheckpointFieldEvent {
    field: '$.checkpoint'
    value: string
  }

  export interface LedgerResponseEntriesFieldEvent {
    field: '$.entries[]'
    index: number
    value: Uint8Array
  }

  export interface LedgerResponseProofFieldEvent {
    field: '$.proof[]'
    index: number
    value: Uint8Array
  }

  export interface LedgerResponseEarnedFieldEvent {
    field: '$.earned[]'
    index: number
    value: Uint8Array
  }

  export function encode (obj: Partial<LedgerResponse>): Uint8Array {
    return encodeMessage(obj, LedgerResponse.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LedgerResponse>): LedgerResponse {
    return decodeMessage(buf, LedgerResponse.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<LedgerResponse>): Generator<LedgerResponseVersionFieldEvent | LedgerResponseErrorFieldEvent | LedgerResponseCheckpointFieldEvent | LedgerResponseEntriesFieldEvent | LedgerResponseProofFieldEvent | LedgerResponseEarnedFieldEvent> {
    return streamMessage(buf, LedgerResponse.codec(), opts)
  }
}

export interface CheckpointGossip {
  version: number
  note: string
  conflicting: string
  addr: string
  gflops: number
  idle: boolean
  at: number
  queuedGflop: number
}

export namespace CheckpointGossip {
  let _codec: Codec<CheckpointGossip>

  export const codec = (): Codec<CheckpointGossip> => {
    if (_codec == null) {
      _codec = message<CheckpointGossip>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if ((obj.note != null && obj.note !== '')) {
          w.uint32(18)
          w.string(obj.note)
        }

        if ((obj.conflicting != null && obj.conflicting !== '')) {
          w.uint32(26)
          w.string(obj.conflicting)
        }

        if ((obj.addr != null && obj.addr !== '')) {
          w.uint32(34)
          w.string(obj.addr)
        }

        if ((obj.gflops != null && obj.gflops !== 0)) {
          w.uint32(41)
          w.double(obj.gflops)
        }

        if ((obj.idle != null && obj.idle !== false)) {
          w.uint32(48)
          w.bool(obj.idle)
        }

        if ((obj.at != null && obj.at !== 0)) {
          w.uint32(56)
          w.uint64Number(obj.at)
        }

        if ((obj.queuedGflop != null && obj.queuedGflop !== 0)) {
          w.uint32(65)
          w.double(obj.queuedGflop)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          note: '',
          conflicting: '',
          addr: '',
          gflops: 0,
          idle: false,
          at: 0,
          queuedGflop: 0
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
              obj.note = reader.string()
              break
            }
            case 3: {
              obj.conflicting = reader.string()
              break
            }
            case 4: {
              obj.addr = reader.string()
              break
            }
            case 5: {
              obj.gflops = reader.double()
              break
            }
            case 6: {
              obj.idle = reader.bool()
              break
            }
            case 7: {
              obj.at = reader.uint64Number()
              break
            }
            case 8: {
              obj.queuedGflop = reader.double()
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
                field: `${prefix}.note`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.conflicting`,
                value: reader.string()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.addr`,
                value: reader.string()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.gflops`,
                value: reader.double()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.idle`,
                value: reader.bool()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.at`,
                value: reader.uint64Number()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.queuedGflop`,
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

  export interface CheckpointGossipVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface CheckpointGossipNoteFieldEvent {
    field: '$.note'
    value: string
  }

  export interface CheckpointGossipConflictingFieldEvent {
    field: '$.conflicting'
    value: string
  }

  export interface CheckpointGossipAddrFieldEvent {
    field: '$.addr'
    value: string
  }

  export interface CheckpointGossipGflopsFieldEvent {
    field: '$.gflops'
    value: number
  }

  export interface CheckpointGossipIdleFieldEvent {
    field: '$.idle'
    value: boolean
  }

  export interface CheckpointGossipAtFieldEvent {
    field: '$.at'
    value: number
  }

  export interface CheckpointGossipQueuedGflopFieldEvent {
    field: '$.queuedGflop'
    value: number
  }

  export function encode (obj: Partial<CheckpointGossip>): Uint8Array {
    return encodeMessage(obj, CheckpointGossip.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<CheckpointGossip>): CheckpointGossip {
    return decodeMessage(buf, CheckpointGossip.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<CheckpointGossip>): Generator<CheckpointGossipVersionFieldEvent | CheckpointGossipNoteFieldEvent | CheckpointGossipConflictingFieldEvent | CheckpointGossipAddrFieldEvent | CheckpointGossipGflopsFieldEvent | CheckpointGossipIdleFieldEvent | CheckpointGossipAtFieldEvent | CheckpointGossipQueuedGflopFieldEvent> {
    return streamMessage(buf, CheckpointGossip.codec(), opts)
  }
}
