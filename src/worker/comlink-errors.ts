import * as Comlink from 'comlink';

/**
 * Comlink's default 'throw' handler keeps only name, message and stack, so a GpuError's `code`
 * would not reach the main thread. This one carries the typed errors' fields too: `code`, and
 * the `file` and `field` a CheckpointError or TokenizerError blames. Import it on both sides.
 */
interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
  file?: string;
  field?: string;
}

/** The string fields of the project's typed errors that cross the boundary. */
const FIELDS = ['code', 'file', 'field'] as const;

type ThrownValue = { value: unknown };

// Comlink does not export its marker for thrown values; its own handler knows how to spot them.
const builtin = Comlink.transferHandlers.get('throw')!;

const errorHandler: Comlink.TransferHandler<ThrownValue, SerializedError | { plain: unknown }> = {
  canHandle: (v): v is ThrownValue => builtin.canHandle(v),
  serialize({ value }) {
    if (value instanceof Error) {
      const s: SerializedError = { name: value.name, message: value.message };
      if (value.stack !== undefined) s.stack = value.stack;
      for (const k of FIELDS) {
        const v = (value as Partial<Record<(typeof FIELDS)[number], unknown>>)[k];
        if (typeof v === 'string') s[k] = v;
      }
      return [s, []];
    }
    return [{ plain: value }, []];
  },
  deserialize(s) {
    if ('plain' in s) throw s.plain;
    const err = Object.assign(new Error(s.message), { name: s.name });
    if (s.stack !== undefined) err.stack = s.stack;
    for (const k of FIELDS) if (typeof s[k] === 'string') Object.assign(err, { [k]: s[k] });
    throw err;
  },
};

Comlink.transferHandlers.set('throw', errorHandler as Comlink.TransferHandler<unknown, unknown>);
