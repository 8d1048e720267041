/**
 * `.parquet`: one string column chosen. hyparquet reads the footer, then one row group at a time,
 * and only the chosen column's chunks, through byte ranges of the Blob (`slice`), so a file is
 * never read whole: memory holds one row group's column at most.
 */
import {
  type AsyncBuffer,
  type FileMetaData,
  parquetMetadataAsync,
  parquetReadObjects,
  parquetSchema,
  type SchemaElement,
} from 'hyparquet';
import { DatasetError } from './errors';
import { toCell } from './lines';
import type { Cell, DatasetFile, FieldValue } from './types';
import { MISSING } from './types';

const MAGIC = 'PAR1';
/** The bytes fetched from the end for the footer; hyparquet fetches more if the footer is larger. */
const FOOTER_FETCH = 64 * 1024; // bytes

/** Stands for a parquet string whose bytes are not UTF-8, so the row that holds it is named. */
export const BAD_UTF8: unique symbol = Symbol('bad-utf8');

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * hyparquet decodes strings leniently (bad bytes become U+FFFD, a silent wrong answer); this
 * decodes strictly and marks bad values instead of failing the whole page.
 */
function stringFromBytes(bytes: Uint8Array | undefined): string | undefined | typeof BAD_UTF8 {
  if (!bytes) return bytes;
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return BAD_UTF8;
  }
}

/** The Blob as hyparquet's AsyncBuffer: reads only the byte ranges asked for. */
function asyncBuffer(file: Blob): AsyncBuffer {
  return { byteLength: file.size, slice: (start, end) => file.slice(start, end).arrayBuffer() };
}

async function magicAt(file: Blob, start: number): Promise<boolean> {
  return new TextDecoder().decode(await file.slice(start, start + 4).arrayBuffer()) === MAGIC;
}

function failure(file: DatasetFile, code: 'corrupt', e: unknown, row?: number): DatasetError {
  const why = e instanceof Error ? e.message : String(e);
  return new DatasetError(
    code,
    { file: file.name, row },
    `the parquet data cannot be read (${why})`,
    {
      cause: e,
    },
  );
}

/** The footer of a parquet file, after checking both magic numbers. */
export async function parquetMetadata(file: DatasetFile): Promise<FileMetaData> {
  if (file.size < 12 || !(await magicAt(file, 0))) {
    throw new DatasetError(
      'unknown-format',
      { file: file.name },
      'it is not a parquet file (no PAR1 at its start)',
    );
  }
  if (!(await magicAt(file, file.size - 4))) {
    throw new DatasetError(
      'truncated',
      { file: file.name },
      'the parquet file is cut short (no PAR1 at its end)',
    );
  }
  try {
    return await parquetMetadataAsync(asyncBuffer(file), { initialFetchSize: FOOTER_FETCH });
  } catch (e) {
    throw failure(file, 'corrupt', e);
  }
}

/** The names of the file's top-level columns. */
export function parquetColumns(metadata: FileMetaData): SchemaElement[] {
  return parquetSchema(metadata).children.map((c) => c.element);
}

/** Whether a column's values come back as strings. */
function isText(e: SchemaElement): boolean {
  return (
    e.type === 'BYTE_ARRAY' &&
    (e.converted_type === 'UTF8' ||
      e.logical_type?.type === 'STRING' ||
      e.converted_type === undefined)
  );
}

/**
 * The chosen column of each row, one row group at a time. The file's own row count is checked
 * against `maxRows` before any data is read.
 */
export async function* readParquet(
  file: DatasetFile,
  field: string,
  maxRows: number,
  signal?: AbortSignal,
): AsyncGenerator<FieldValue> {
  const metadata = await parquetMetadata(file);
  const columns = parquetColumns(metadata);
  const column = columns.find((c) => c.name === field);
  if (!column) {
    throw new DatasetError(
      'missing-field',
      { file: file.name, field },
      `no such column; the file has ${columns.map((c) => `"${c.name}"`).join(', ')}`,
    );
  }
  if (!isText(column)) {
    throw new DatasetError(
      'bad-field',
      { file: file.name, field },
      `the column holds ${column.type ?? 'groups'}${column.converted_type ? ` (${column.converted_type})` : ''}, not text`,
    );
  }
  const total = Number(metadata.num_rows);
  if (total > maxRows) {
    throw new DatasetError(
      'too-many-rows',
      { file: file.name },
      `the file has ${total} rows, more than the ${maxRows} a job may hold`,
    );
  }
  let start = 0;
  for (const group of metadata.row_groups) {
    if (signal?.aborted)
      throw new DatasetError('aborted', { file: file.name }, 'the read was aborted');
    const end = start + Number(group.num_rows);
    let rows: Record<string, unknown>[];
    try {
      rows = await parquetReadObjects({
        file: asyncBuffer(file),
        metadata,
        columns: [field],
        parsers: { stringFromBytes: stringFromBytes as (bytes: Uint8Array) => string },
        rowStart: start,
        rowEnd: end,
      });
    } catch (e) {
      throw failure(file, 'corrupt', e, start + 1);
    }
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      yield { row: start + i + 1, value: Object.hasOwn(r, field) ? r[field] : MISSING };
    }
    start = end;
  }
}

/** All columns of the first `rows` rows, as a preview shows them. */
export async function previewParquet(
  file: DatasetFile,
  rows: number,
): Promise<{ fields: string[]; rows: Array<Record<string, Cell>>; text: string[] }> {
  const metadata = await parquetMetadata(file);
  const columns = parquetColumns(metadata);
  const rowEnd = Math.min(rows, Number(metadata.num_rows));
  let read: Record<string, unknown>[] = [];
  if (rowEnd > 0) {
    try {
      read = await parquetReadObjects({ file: asyncBuffer(file), metadata, rowStart: 0, rowEnd });
    } catch (e) {
      throw failure(file, 'corrupt', e, 1);
    }
  }
  const fields = columns.map((c) => c.name);
  return {
    fields,
    rows: read.map((r) => Object.fromEntries(fields.map((f) => [f, toCell(r[f])]))),
    text: columns.filter(isText).map((c) => c.name),
  };
}
