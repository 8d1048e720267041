import * as Comlink from 'comlink';
import { CpuError } from '../cpu/errors';
import { EngineError, GpuError } from '../gpu/errors';
import { CheckpointError } from '../model/hf/errors';
import { RequestError } from '../model/hf/request-error';
import { TokenizerError } from '../model/hf/tokenizer';

/**
 * Comlink's default 'throw' handler keeps only name, message and stack, so a GpuError's `code`
 * would not reach the main thread. This one carries an error's own fields that are plain
 * values too (`code`, the `file` and `field` a CheckpointError blames, …), and rethrows a
 * registered class as an instance of itself (`instanceof` holds on the page, also for its base
 * classes). Import it on both sides.
 */
interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  /** The error's own enumerable fields whose values are strings, numbers or booleans. */
  fields: Record<string, string | number | boolean>;
}

/** An error class, however its constructor is called (it is not called: see `rebuild`). */
// biome-ignore lint/suspicious/noExplicitAny: any constructor signature, never called
type ErrorClass = abstract new (...args: any[]) => Error;

/**
 * The typed errors rebuilt as their class, by `name`. The name is spelled out, not read from
 * the class: a minifier renames classes, not the `name` field their instances carry.
 */
const CLASSES = new Map<string, ErrorClass>([
  ['EngineError', EngineError],
  ['GpuError', GpuError],
  ['CpuError', CpuError],
  ['RequestError', RequestError],
  ['CheckpointError', CheckpointError],
  ['TokenizerError', TokenizerError],
]);

/** Rebuilds errors named `name` as instances of `cls` once they crossed (both sides call it). */
export function registerError(name: string, cls: ErrorClass): void {
  CLASSES.set(name, cls);
}

/** The names registered (for tests). */
export function registeredErrors(): string[] {
  return [...CLASSES.keys()];
}

const PLAIN = new Set(['string', 'number', 'boolean']);

/** `e` as data that crosses by structured clone. */
export function serializeError(e: Error): SerializedError {
  const s: SerializedError = { name: e.name, message: e.message, fields: {} };
  if (e.stack !== undefined) s.stack = e.stack;
  for (const [k, v] of Object.entries(e)) {
    if (k !== 'name' && k !== 'message' && k !== 'stack' && PLAIN.has(typeof v)) {
      s.fields[k] = v as string | number | boolean;
    }
  }
  return s;
}

/** The error `s` describes: an instance of its registered class, else a plain Error. */
export function rebuildError(s: SerializedError): Error {
  // Reflect.construct makes a real Error (stack, console formatting) with the class's
  // prototype, without running a constructor whose arguments are not known here.
  const err: Error = Reflect.construct(Error, [s.message], CLASSES.get(s.name) ?? Error);
  const own = (key: string, value: unknown) =>
    Object.defineProperty(err, key, {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  own('name', s.name);
  for (const [k, v] of Object.entries(s.fields)) own(k, v);
  if (s.stack !== undefined) {
    Object.defineProperty(err, 'stack', { value: s.stack, writable: true, configurable: true });
  }
  return err;
}

type ThrownValue = { value: unknown };

// Comlink does not export its marker for thrown values; its own handler knows how to spot them.
const builtin = Comlink.transferHandlers.get('throw')!;

const errorHandler: Comlink.TransferHandler<ThrownValue, SerializedError | { plain: unknown }> = {
  canHandle: (v): v is ThrownValue => builtin.canHandle(v),
  serialize({ value }) {
    return [value instanceof Error ? serializeError(value) : { plain: value }, []];
  },
  deserialize(s) {
    if ('plain' in s) throw s.plain;
    throw rebuildError(s);
  },
};

Comlink.transferHandlers.set('throw', errorHandler as Comlink.TransferHandler<unknown, unknown>);
