// The compute Worker's methods, once: a table of names and transfer rules, from which the
// Worker's exposed object (`served`) and the page's client (`remoteClass`, client.ts) are built.
// The table is checked against the interface (ComputeApi, ComputeFaults): a method in one and not
// the other fails to type-check.
import * as Comlink from 'comlink';
import type { ComputeApi } from './api';
import type { ComputeFaults } from './faults';

/**
 * Which buffers of a call cross the thread boundary by transfer rather than copy. A transferred
 * buffer is detached on the sending side (byteLength 0): that is what saves a copy of every
 * shard, and why a caller who still needs an input passes a copy.
 */
export interface TransferRule<A extends unknown[], R> {
  /** The arguments' buffers that move to the Worker. */
  args?: (...args: A) => ArrayBuffer[];
  /** The result's buffers that move back to the page. */
  result?: (result: R) => ArrayBuffer[];
}

/** One rule per method of `T`, no more, no fewer (each must return a Promise: it crosses a thread). */
export type MethodTable<T> = {
  readonly [K in keyof T]-?: T[K] extends (...args: infer A) => Promise<infer R>
    ? TransferRule<A, R>
    : never;
};

/**
 * The distinct buffers under `views` (a buffer listed twice cannot be transferred). What is not
 * a view of an ArrayBuffer is left to be copied: a SharedArrayBuffer is shared, not moved, and
 * a wrong argument crosses as it is, for the Worker to refuse with a typed error.
 */
export function buffersOf(views: readonly unknown[]): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  for (const v of views) {
    if (ArrayBuffer.isView(v) && v.buffer instanceof ArrayBuffer) buffers.add(v.buffer);
  }
  return [...buffers];
}

/**
 * The compute API's methods and what each moves; everything else (numbers, strings, requests,
 * small results) is copied.
 */
export const COMPUTE_METHODS = {
  info: {},
  setEngine: {},
  tune: {},
  // A shard's inputs and its product: the largest arrays there are.
  matmul: { args: (a, b) => buffersOf([a, b]), result: (c) => buffersOf([c]) },
  benchmark: {},
  // A checkpoint's files: afterwards the caller's arrays are empty, so it stores or hashes them
  // first (or passes copies).
  loadModel: { args: (files) => buffersOf(Object.values(Object(files))) },
  hasModel: {},
  unloadModel: {},
  generate: {},
  embed: { result: (vectors) => buffersOf(vectors) },
  score: { result: (scores) => buffersOf(scores.map((s) => s.logprobs)) },
  tokenize: { result: (tokenized) => buffersOf(tokenized.rows) },
  // Rows to text: small, and the caller keeps its rows (copied, not moved).
  detokenize: {},
  logits: {
    args: (_digest, tokens) => buffersOf([tokens]),
    result: (logits) => buffersOf([logits]),
  },
  generateTokens: {
    args: (_digest, tokens) => buffersOf([tokens]),
    result: (tokens) => buffersOf([tokens]),
  },
} satisfies MethodTable<ComputeApi>;

/** The fault injection's methods (faults.ts), served only by a Worker spawned with `faults`. */
export const FAULT_METHODS = {
  setTestMode: {},
  simulateDeviceLoss: {},
} satisfies MethodTable<ComputeFaults>;

type AnyRule = TransferRule<never[], never>;
type AnyMethod = (...args: unknown[]) => Promise<unknown>;
/** Widens a table to look its rules up by name (the typed view is the table's own). */
const rulesOf = (table: object) => table as Record<string, AnyRule>;

/**
 * The object a Worker exposes for `api`: each method of `table` calls `api`'s and sends its
 * result back by the table's rule. Methods of `api` not in a table are not served.
 */
export function served<T>(api: T, table: MethodTable<T>): T {
  const out: Record<string, AnyMethod> = {};
  for (const [name, rule] of Object.entries(rulesOf(table))) {
    const method = (api as Record<string, AnyMethod>)[name];
    if (typeof method !== 'function') throw new TypeError(`the api has no method ${name}`);
    out[name] = async (...args) => {
      const result = await method.apply(api, args);
      const moved = rule.result?.(result as never);
      return moved?.length ? Comlink.transfer(result, moved) : result;
    };
  }
  return out as T;
}

/** Sends one call to the Worker; what a remote class's methods all go through. */
export const SEND = Symbol('send');

/** Something that sends calls by name: implemented by the client, called by its methods. */
export interface Sender {
  [SEND](method: string, args: unknown[]): Promise<unknown>;
}

/**
 * Marks the arguments' buffers for transfer by `rule` (comlink collects a call's transfer lists
 * from its arguments: the list goes on the first argument that is an object, which in every
 * rule is the one whose buffers move).
 */
export function markTransfers(rule: AnyRule | undefined, args: unknown[]): void {
  const moved = rule?.args?.(...(args as never[]));
  if (!moved?.length) return;
  const carrier = args.find((a) => typeof a === 'object' && a !== null);
  if (carrier) Comlink.transfer(carrier, moved);
}

/** The rule of `method` in `table`, if it is one of its methods. */
export function ruleOf(table: object, method: string): AnyRule | undefined {
  return Object.hasOwn(table, method) ? rulesOf(table)[method] : undefined;
}

/**
 * A base class with one method per entry of `table`, each passing its name and arguments to
 * the subclass's `[SEND]`: the page's typed client without writing a method twice.
 */
export function remoteClass<T>(table: MethodTable<T>): abstract new () => T & Sender {
  abstract class Remote {
    abstract [SEND](method: string, args: unknown[]): Promise<unknown>;
  }
  for (const name of Object.keys(table)) {
    Object.defineProperty(Remote.prototype, name, {
      value(this: Remote, ...args: unknown[]) {
        return this[SEND](name, args);
      },
      writable: true,
      configurable: true,
    });
  }
  return Remote as unknown as abstract new () => T & Sender;
}

/** An object with one method per entry of `table`, each passing its call to `send`. */
export function remoteObject<T>(
  table: MethodTable<T>,
  send: (method: string, args: unknown[]) => Promise<unknown>,
): T {
  const out: Record<string, AnyMethod> = {};
  for (const name of Object.keys(table)) out[name] = (...args) => send(name, args);
  return out as T;
}
