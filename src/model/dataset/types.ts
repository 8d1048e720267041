/** Shapes shared by the data-set readers. */

/** A file as the page gets it from an <input type=file> or a drop: a Blob with a name. */
export type DatasetFile = Blob & { readonly name: string };

/** The formats tessel reads, by file extension. */
export type DatasetFormat = 'txt' | 'jsonl' | 'csv' | 'parquet';

/** What to do with a row longer than `maxChars`: keep its start (flagged) or refuse the file. */
export type OverLong = 'truncate' | 'refuse';

/** One preview cell: what a table shows. */
export type Cell = string | number | boolean | null;

/** Marks a row that has no value at all for the chosen field. */
export const MISSING: unique symbol = Symbol('missing');

/** The chosen field of one row, before it is checked to be text. */
export interface FieldValue {
  row: number;
  value: unknown;
}
