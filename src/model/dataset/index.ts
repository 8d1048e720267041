/**
 * Data sets a researcher brings to a job: `.txt` (a row a line), `.jsonl` (a field of each JSON
 * object), `.csv` (a column) and `.parquet` (a string column), read as streams, never whole.
 * `previewDataset` shows the first rows and suggests a field; `readRows` yields the chosen
 * field's text row by row, refusing with a DatasetError that names file, row and field anything
 * that is not text, and cutting (flagged) or refusing rows longer than the researcher allows.
 */
import { previewCsv, readCsv } from './csv';
import { DatasetError } from './errors';
import { DEFAULT_PREVIEW_ROWS, MAX_DATASET_ROWS, MAX_RAW_ROW_CHARS } from './limits';
import { readJsonl, readJsonlObjects, readTxt, toCell } from './lines';
import { BAD_UTF8, previewParquet, readParquet } from './parquet';
import { keepChars } from './text-stream';
import type { Cell, DatasetFile, DatasetFormat, FieldValue, OverLong } from './types';
import { MISSING } from './types';

export { DatasetError, type DatasetErrorCode, type DatasetPlace } from './errors';
export { DEFAULT_PREVIEW_ROWS, MAX_DATASET_ROWS, MAX_RAW_ROW_CHARS } from './limits';
export type { Cell, DatasetFile, DatasetFormat, OverLong } from './types';

const EXTENSIONS: Record<string, DatasetFormat> = {
  txt: 'txt',
  jsonl: 'jsonl',
  ndjson: 'jsonl',
  csv: 'csv',
  parquet: 'parquet',
};

/** The format a file's name says it is; `unknown-format` for any other extension. */
export function datasetFormat(file: { name: string }): DatasetFormat {
  const ext = /\.([^./\\]+)$/.exec(file.name)?.[1]?.toLowerCase();
  const format = ext === undefined ? undefined : EXTENSIONS[ext];
  if (!format) {
    throw new DatasetError(
      'unknown-format',
      { file: file.name },
      'tessel reads .txt, .jsonl, .csv and .parquet data sets',
    );
  }
  return format;
}

/** How `readRows` reads. */
export interface ReadRowsOptions {
  /** The JSONL field, CSV column or parquet column holding the text (ignored for .txt). */
  field?: string;
  /** More rows than this is `too-many-rows` (default MAX_DATASET_ROWS). */
  maxRows?: number; // rows
  /** The longest row kept (UTF-16 code units); longer rows follow `overLong`. */
  maxChars?: number; // chars
  /** A row longer than `maxChars`: keep its start, flagged `truncated`, or refuse (default). */
  overLong?: OverLong;
  signal?: AbortSignal;
}

/** One row of text: its 1-based row number, its text, and whether it was cut at `maxChars`. */
export interface DatasetRow {
  row: number;
  text: string;
  truncated: boolean;
}

/**
 * The rows of a data set, streamed. Throws DatasetError (naming file, row and field) on a file
 * it cannot read, a row that is not text, a row over `maxChars` with `overLong: 'refuse'`, more
 * than `maxRows` rows, or no rows at all. Rows already yielded before an error stay valid.
 */
export async function* readRows(
  file: DatasetFile,
  options: ReadRowsOptions = {},
): AsyncGenerator<DatasetRow> {
  const { field, maxRows = MAX_DATASET_ROWS, overLong = 'refuse', signal } = options;
  const maxChars = options.maxChars ?? MAX_RAW_ROW_CHARS;
  if (!(maxChars >= 1)) throw new RangeError(`maxChars must be at least 1, not ${maxChars}`);
  const format = datasetFormat(file);
  let count = 0;
  const counted = (row: number) => {
    if (++count > maxRows) {
      throw new DatasetError(
        'too-many-rows',
        { file: file.name, row },
        `more than the ${maxRows} rows a job may hold`,
      );
    }
  };
  if (format === 'txt') {
    for await (const r of readTxt(file, maxChars, overLong, signal)) {
      counted(r.row);
      yield r;
    }
  } else {
    if (field === undefined || field === '') {
      throw new DatasetError(
        'missing-field',
        { file: file.name },
        'choose the field that holds the text',
      );
    }
    const values: AsyncIterable<FieldValue> =
      format === 'jsonl'
        ? readJsonl(file, field, signal)
        : format === 'csv'
          ? readCsv(file, field, signal)
          : readParquet(file, field, maxRows, signal);
    for await (const { row, value } of values) {
      counted(row);
      const text = asText(file, row, field, value);
      if (text.length <= maxChars) {
        yield { row, text, truncated: false };
      } else if (overLong === 'truncate') {
        yield { row, text: keepChars(text, maxChars), truncated: true };
      } else {
        throw new DatasetError(
          'row-too-long',
          { file: file.name, row, field },
          `the text is ${text.length} characters, longer than the ${maxChars} allowed`,
        );
      }
    }
  }
  if (count === 0) throw new DatasetError('empty', { file: file.name }, 'the file has no rows');
}

function asText(file: DatasetFile, row: number, field: string, value: unknown): string {
  if (typeof value === 'string') return value;
  const place = { file: file.name, row, field };
  if (value === BAD_UTF8) {
    throw new DatasetError('bad-encoding', place, 'the text holds bytes that are not UTF-8');
  }
  if (value === MISSING || value === undefined) {
    throw new DatasetError('missing-field', place, 'the row has no such field');
  }
  const what = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
  throw new DatasetError('bad-field', place, `the field holds ${what}, not text`);
}

/** The first rows of a data set, for the page to show before the researcher picks a field. */
export interface DatasetPreview {
  format: DatasetFormat;
  /** Column or field names in file order; [] for .txt. */
  fields: string[];
  /** The first rows: records for jsonl/csv/parquet, lines for txt. */
  rows: Array<Record<string, Cell>> | string[];
  /** The field that most looks like the text to use, when one holds text. */
  suggestedField?: string;
}

/** Names a text field usually has, best first. */
const TEXT_FIELD_NAMES = [
  'text',
  'content',
  'prompt',
  'sentence',
  'document',
  'input',
  'question',
  'body',
];

/** Reads only as much of the file as the first `rows` rows need. */
export async function previewDataset(
  file: DatasetFile,
  { rows = DEFAULT_PREVIEW_ROWS }: { rows?: number } = {},
): Promise<DatasetPreview> {
  const format = datasetFormat(file);
  if (format === 'txt') {
    const lines: string[] = [];
    if (rows > 0) {
      for await (const r of readTxt(file, MAX_RAW_ROW_CHARS, 'truncate')) {
        lines.push(r.text);
        if (lines.length >= rows) break; // before the next line is read
      }
    }
    return { format, fields: [], rows: lines };
  }
  let fields: string[];
  let records: Array<Record<string, Cell>>;
  let textFields: string[] | undefined;
  if (format === 'csv') {
    ({ fields, rows: records } = await previewCsv(file, rows));
  } else if (format === 'parquet') {
    ({ fields, rows: records, text: textFields } = await previewParquet(file, rows));
  } else {
    const seen = new Set<string>();
    const objects: Array<Record<string, unknown>> = [];
    if (rows > 0) {
      for await (const { object } of readJsonlObjects(file)) {
        objects.push(object);
        for (const k of Object.keys(object)) seen.add(k);
        if (objects.length >= rows) break; // before the next line is read
      }
    }
    fields = [...seen];
    records = objects.map((o) => Object.fromEntries(fields.map((f) => [f, toCell(o[f])])));
  }
  const preview: DatasetPreview = { format, fields, rows: records };
  const suggested = suggestField(fields, records, textFields);
  if (suggested !== undefined) preview.suggestedField = suggested;
  return preview;
}

/**
 * A field every previewed row holds as text: a usual name first, else the longest on average.
 * CSV cells are all strings, so for CSV this is the name or the longest column.
 */
function suggestField(
  fields: string[],
  rows: Array<Record<string, Cell>>,
  textFields = fields,
): string | undefined {
  const text = fields.filter(
    (f) => textFields.includes(f) && rows.length > 0 && rows.every((r) => typeof r[f] === 'string'),
  );
  const named = TEXT_FIELD_NAMES.map((n) => text.find((f) => f.toLowerCase() === n)).find(
    (f) => f !== undefined,
  );
  if (named !== undefined) return named;
  let best: string | undefined;
  let bestLength = -1;
  for (const f of text) {
    const length = rows.reduce((sum, r) => sum + (r[f] as string).length, 0);
    if (length > bestLength) [best, bestLength] = [f, length];
  }
  return best;
}
