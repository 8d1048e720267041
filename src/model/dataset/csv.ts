/**
 * `.csv`: a header row, then one record per row; the researcher picks a column. Parsing is
 * csv-parse's (RFC 4180: quoted fields may hold commas, quotes and newlines), fed chunk by chunk
 * from the Blob's stream; its records are drained after every chunk, so only one chunk and one
 * record are held at a time.
 */
import { type CsvError, parse } from 'csv-parse/browser/esm';
import { DatasetError } from './errors';
import { MAX_RAW_ROW_CHARS } from './limits';
import { lineFailure } from './lines';
import { decodeChunks, InvalidUtf8 } from './text-stream';
import type { DatasetFile, FieldValue } from './types';

/** One CSV record: `row` 0 is the header, data rows count from 1. */
export interface CsvRecord {
  row: number;
  cells: string[];
}

/** Every record of a .csv file, the header first. */
export async function* readCsvRecords(
  file: DatasetFile,
  signal?: AbortSignal,
): AsyncGenerator<CsvRecord> {
  const parser = parse({
    skip_empty_lines: true, // a blank last line is common; a blank line is never a row of text
    max_record_size: MAX_RAW_ROW_CHARS,
  });
  // The browser build's stream polyfill has no destroy(), yet its _flush registers
  // `this.destroy` as an 'end' listener when the input ends on a record boundary, which throws
  // "listener must be a function": a no-op stands in (nothing is left to release by then).
  const streamLike = parser as unknown as { destroy?: () => void };
  if (typeof streamLike.destroy !== 'function') streamLike.destroy = () => {};
  let failure: CsvError | undefined;
  parser.on('error', (e: CsvError) => {
    failure ??= e;
  });
  let row = 0;
  let width: number | undefined; // the header's column count
  // The parser emits synchronously as it is written to (checked in the tests), so after each
  // write every record it completed can be read before the next chunk.
  const drain = function* (): Generator<CsvRecord> {
    for (;;) {
      const cells = parser.read() as string[] | null;
      if (cells === null) break;
      width ??= cells.length;
      yield { row: row++, cells };
    }
    if (failure) throw csvFailure(file, failure, width);
  };
  try {
    for await (const text of decodeChunks(file, signal)) {
      parser.write(text);
      yield* drain();
    }
    parser.end();
    yield* drain();
  } catch (e) {
    if (e instanceof InvalidUtf8) e.line = badBytesRow(parser, row);
    throw lineFailure(file, e);
  }
}

/** Never in a real data set (a Unicode noncharacter): marks where the bad bytes were. */
const BAD_BYTES = '\uffff';

/**
 * The data row the bad bytes sit in, once the valid text before them was written: the parser
 * holds back a few characters, so the row is found by writing a marker in the bad bytes' place
 * and ending the input. The record that holds the marker, or the one the parser fails on (the
 * marker inside an open quote), is the row; `undefined` for the header.
 */
function badBytesRow(parser: ReturnType<typeof parse>, next: number): number | undefined {
  let failure: CsvError | undefined;
  parser.on('error', (e: CsvError) => {
    failure ??= e;
  });
  parser.write(BAD_BYTES);
  parser.end();
  let row = next;
  for (;;) {
    const cells = parser.read() as string[] | null;
    if (cells === null) break;
    if (cells.some((c) => c.includes(BAD_BYTES))) return row === 0 ? undefined : row;
    row++;
  }
  const records = failure?.records;
  return typeof records === 'number' && records > 0 ? records : undefined;
}

function csvFailure(file: DatasetFile, e: CsvError, width: number | undefined): DatasetError {
  // `records` counts the records completed before the failing one, the header included, which
  // is the failing record's data-row number; 0 means the header itself failed.
  const records = typeof e.records === 'number' ? e.records : undefined;
  const place = { file: file.name, row: records === 0 ? undefined : records };
  const line = typeof e.lines === 'number' ? ` (line ${e.lines} of the file)` : '';
  const what = records === 0 ? 'the header: ' : '';
  switch (e.code) {
    case 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH': {
      const got = Array.isArray(e.record) ? e.record.length : '?';
      return new DatasetError(
        'bad-row',
        place,
        `the row has ${got} columns, the header ${width ?? '?'}${line}`,
        { cause: e },
      );
    }
    case 'CSV_QUOTE_NOT_CLOSED':
      return new DatasetError(
        'truncated',
        place,
        `${what}a quoted field is never closed: the file ends inside it${line}`,
        { cause: e },
      );
    case 'CSV_MAX_RECORD_SIZE':
      return new DatasetError(
        'row-too-long',
        place,
        `${what}the row is longer than ${MAX_RAW_ROW_CHARS} characters, more than a CSV row may hold`,
        { cause: e },
      );
    default:
      return new DatasetError('bad-row', place, `${what}${e.message}${line}`, { cause: e });
  }
}

/** The header of a .csv file, refusing an empty file. */
function header(file: DatasetFile, first: IteratorResult<CsvRecord>): string[] {
  if (first.done)
    throw new DatasetError('empty', { file: file.name }, 'the file has no header row');
  return first.value.cells;
}

/** The chosen column of each data row. */
export async function* readCsv(
  file: DatasetFile,
  field: string,
  signal?: AbortSignal,
): AsyncGenerator<FieldValue> {
  const records = readCsvRecords(file, signal);
  try {
    const columns = header(file, await records.next());
    const at = columns.indexOf(field);
    if (at < 0) {
      throw new DatasetError(
        'missing-field',
        { file: file.name, field },
        `no such column; the header has ${columns.map((c) => `"${c}"`).join(', ')}`,
      );
    }
    // Two columns of one name: which one is meant is a guess, and a wrong guess is a silently
    // wrong job. Another column may share a name; the chosen one may not.
    const count = columns.filter((c) => c === field).length;
    if (count > 1) {
      throw new DatasetError(
        'bad-field',
        { file: file.name, field },
        `the header names ${count} columns so; rename one`,
      );
    }
    for await (const { row, cells } of records) yield { row, value: cells[at] };
  } finally {
    await records.return(undefined);
  }
}

/** The header and the first `rows` data rows, as a preview shows them. */
export async function previewCsv(
  file: DatasetFile,
  rows: number,
): Promise<{ fields: string[]; rows: Array<Record<string, string>> }> {
  const records = readCsvRecords(file);
  try {
    const fields = header(file, await records.next());
    const out: Array<Record<string, string>> = [];
    while (out.length < rows) {
      const next = await records.next();
      if (next.done) break;
      out.push(Object.fromEntries(fields.map((f, i) => [f, next.value.cells[i] ?? ''])));
    }
    return { fields, rows: out };
  } finally {
    await records.return(undefined);
  }
}
