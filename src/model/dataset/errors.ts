/**
 * Typed errors for data sets a researcher brings. Every refusal names the file and, where the
 * reader knows them, the row (1-based, as a person counts data rows: a CSV's header is not a row)
 * and the field, so the page can say exactly what to fix.
 */

export type DatasetErrorCode =
  | 'unknown-format' // not .txt / .jsonl / .csv / .parquet, or a .parquet that is not parquet
  | 'bad-encoding' // bytes that are not UTF-8
  | 'bad-row' // a row that cannot be read (a JSONL line that is not an object, a CSV row of the wrong width)
  | 'missing-field' // no field chosen, or the chosen field is absent from the header / a row
  | 'bad-field' // the field holds something other than a string (a number, null, an object)
  | 'too-many-rows' // more rows than the job allows
  | 'row-too-long' // a row longer than the researcher allows, with `overLong: 'refuse'`
  | 'truncated' // the file ends in the middle of something (an open quote, a cut parquet footer)
  | 'corrupt' // a binary file whose structure cannot be decoded (a parquet footer or page)
  | 'empty' // no rows at all
  | 'aborted'; // the reader's AbortSignal fired

/** Where in a data set a problem is. */
export interface DatasetPlace {
  file: string;
  /** 1-based data row; absent when the problem is the file as a whole. */
  row?: number;
  field?: string;
}

/** A data set that cannot be read as asked; `code` says which rule it broke. */
export class DatasetError extends Error {
  override readonly name = 'DatasetError';
  readonly file: string;
  readonly row: number | undefined;
  readonly field: string | undefined;
  constructor(
    readonly code: DatasetErrorCode,
    place: DatasetPlace,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${describePlace(place)}: ${problem}`, options);
    this.file = place.file;
    this.row = place.row;
    this.field = place.field;
  }
}

/** `data.csv, row 12, field "text"` — the prefix of every DatasetError message. */
export function describePlace({ file, row, field }: DatasetPlace): string {
  let where = file;
  if (row !== undefined) where += `, row ${row}`;
  if (field !== undefined) where += `, field "${field}"`;
  return where;
}
