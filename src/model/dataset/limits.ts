/** The most rows one job reads from a data set. */
export const MAX_DATASET_ROWS = 1_000_000; // rows

/**
 * The most characters (UTF-16 code units) one raw row may hold while it is parsed, whatever the
 * researcher's `maxChars`: a JSONL line or CSV record must be held whole to be parsed, so this is
 * what bounds a reader's memory on a file with no newlines. Longer rows are refused
 * (`row-too-long`); a .txt row is cut at `maxChars` as it streams, so only JSONL and CSV meet it.
 */
export const MAX_RAW_ROW_CHARS = 4 * 2 ** 20; // chars

/** How many rows a preview shows unless asked otherwise. */
export const DEFAULT_PREVIEW_ROWS = 20; // rows
