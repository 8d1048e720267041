import { decodeMessage, encodeMessage, message, streamMessage } from 'protons-runtime'
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
          issuedAt: 0
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
