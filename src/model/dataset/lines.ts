/**
 * The line formats: `.txt` (a row a line) and `.jsonl` (a JSON object a line, one field chosen).
 * Both stream: a line is held only until its newline, and never beyond a limit.
 */
import { DatasetError } from './errors';
import { MAX_RAW_ROW_CHARS } from './limits';
import { decodeChunks, InvalidUtf8, ReadAborted, splitLines } from './text-stream';
import type { Cell, DatasetFile, FieldValue, OverLong } from './types';
import { MISSING } from './types';

/** Maps the stream's own failures to DatasetErrors naming the file and row. */
export function lineFailure(file: DatasetFile, e: unknown): unknown {
  if (e instanceof InvalidUtf8) {
    return new DatasetError(
      'bad-encoding',
      { file: file.name, row: e.line },
      `${e.message} (save the file as UTF-8)`,
    );
  }
  if (e instanceof ReadAborted) return new DatasetError('aborted', { file: file.name }, e.message);
  return e;
}

/** The rows of a .txt file, each line as it is (without its \n or \r\n). */
export async function* readTxt(
  file: DatasetFile,
  maxChars: number,
  overLong: OverLong,
  signal?: AbortSignal,
): AsyncGenerator<{ row: number; text: string; truncated: boolean }> {
  const refuse =
    overLong === 'refuse'
      ? (row: number): never => {
          throw new DatasetError(
            'row-too-long',
            { file: file.name, row },
            `the row is longer than ${maxChars} characters`,
          );
        }
      : undefined;
  try {
    for await (const l of splitLines(decodeChunks(file, signal), maxChars, refuse)) {
      yield { row: l.line, text: l.text, truncated: l.cut };
    }
  } catch (e) {
    throw lineFailure(file, e);
  }
}

/**
 * The parsed objects of a .jsonl file with their line numbers. Blank lines at the end are
 * tolerated; a blank line followed by more rows, a line that is not JSON, or JSON that is not an
 * object is a `bad-row`.
 */
export async function* readJsonlObjects(
  file: DatasetFile,
  signal?: AbortSignal,
): AsyncGenerator<{ row: number; object: Record<string, unknown> }> {
  const tooLong = (row: number): never => {
    throw new DatasetError(
      'row-too-long',
      { file: file.name, row },
      `the line is longer than ${MAX_RAW_ROW_CHARS} characters, more than a JSONL row may hold`,
    );
  };
  let blank: number | undefined; // the first blank line seen, fine only if nothing follows it
  try {
    for await (const l of splitLines(decodeChunks(file, signal), MAX_RAW_ROW_CHARS, tooLong)) {
      if (l.text.trim() === '') {
        blank ??= l.line;
        continue;
      }
      if (blank !== undefined) {
        throw new DatasetError('bad-row', { file: file.name, row: blank }, 'a blank line');
      }
      yield { row: l.line, object: parseObject(file, l.line, l.text) };
    }
  } catch (e) {
    throw lineFailure(file, e);
  }
}

function parseObject(file: DatasetFile, row: number, text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new DatasetError(
      'bad-row',
      { file: file.name, row },
      `the line is not JSON (${e instanceof Error ? e.message : String(e)})`,
      { cause: e },
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const what = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
    throw new DatasetError(
      'bad-row',
      { file: file.name, row },
      `the line is ${what}, not a JSON object`,
    );
  }
  return value as Record<string, unknown>;
}

/** The chosen field of each JSONL row (MISSING where a row lacks it). */
export async function* readJsonl(
  file: DatasetFile,
  field: string,
  signal?: AbortSignal,
): AsyncGenerator<FieldValue> {
  for await (const { row, object } of readJsonlObjects(file, signal)) {
    yield { row, value: Object.hasOwn(object, field) ? object[field] : MISSING };
  }
}

/** A JSON value as a preview cell: objects and arrays as their JSON text. */
export function toCell(value: unknown): Cell {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') {
    return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  }
  if (value instanceof Date) return value.toISOString();
  if (value === undefined) return null;
  try {
    return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)) ?? null;
  } catch {
    return String(value);
  }
}
