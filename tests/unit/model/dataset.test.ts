import { parquetWriteBuffer } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import {
  DatasetError,
  type DatasetFile,
  type DatasetRow,
  MAX_DATASET_ROWS,
  previewDataset,
  type ReadRowsOptions,
  readRows,
} from '../../../src/model/dataset/index';

const utf8 = new TextEncoder();

/**
 * A real Blob whose stream() hands out exactly the given parts, one per read, so the tests pick
 * where chunk boundaries fall (inside a \r\n, a UTF-8 character, a quoted CSV field). `pulled`
 * counts the bytes the reader asked the stream for, `sliced` the bytes read through slice().
 */
function chunkedFile(name: string, parts: Array<string | Uint8Array>) {
  const bytes = parts.map((p) => (typeof p === 'string' ? utf8.encode(p) : p));
  const blob = new Blob(bytes as BlobPart[]);
  const stats = { pulled: 0, sliced: 0 };
  const file = Object.assign(blob, {
    name,
    stream(): ReadableStream<Uint8Array> {
      let i = 0;
      return new ReadableStream<Uint8Array>({
        pull(controller) {
          const next = bytes[i++];
          if (next === undefined) controller.close();
          else {
            stats.pulled += next.length;
            controller.enqueue(next);
          }
        },
      });
    },
    slice(start?: number, end?: number, type?: string): Blob {
      const part = Blob.prototype.slice.call(blob, start, end, type);
      stats.sliced += part.size;
      return part;
    },
  }) as DatasetFile;
  return { file, stats };
}

function file(name: string, content: string | Uint8Array | ArrayBuffer): DatasetFile {
  return new File([content as BlobPart], name);
}

async function read(f: DatasetFile, options?: ReadRowsOptions) {
  const rows: DatasetRow[] = [];
  try {
    for await (const r of readRows(f, options)) rows.push(r);
    return { rows, texts: rows.map((r) => r.text), error: undefined };
  } catch (e) {
    if (!(e instanceof DatasetError)) throw e;
    return { rows, texts: rows.map((r) => r.text), error: e };
  }
}

async function failure(f: DatasetFile, options?: ReadRowsOptions): Promise<DatasetError> {
  const { error } = await read(f, options);
  if (!error) throw new Error('expected a DatasetError');
  return error;
}

describe('readRows: .txt', () => {
  it('reads a row a line, LF or CRLF, unicode, without a row after the final newline', async () => {
    const lf = await read(file('a.txt', 'héllo\n\nwörld 🌍\n日本語\n'));
    expect(lf.texts).toEqual(['héllo', '', 'wörld 🌍', '日本語']);
    expect(lf.rows.map((r) => r.row)).toEqual([1, 2, 3, 4]);
    expect(lf.rows.every((r) => !r.truncated)).toBe(true);
    const crlf = await read(file('a.txt', 'one\r\ntwo\r\nthree'));
    expect(crlf.texts).toEqual(['one', 'two', 'three']);
  });

  it('joins lines, \\r\\n pairs and UTF-8 characters split across chunks', async () => {
    const emoji = utf8.encode('🌍'); // 4 bytes
    const { file: f } = chunkedFile('a.txt', [
      'ab',
      'c\r',
      '\nd',
      emoji.slice(0, 1),
      emoji.slice(1, 3),
      emoji.slice(3),
      '\n',
      'é'.slice(0),
    ]);
    expect((await read(f)).texts).toEqual(['abc', 'd🌍', 'é']);
  });

  it('names the row holding bytes that are not UTF-8', async () => {
    const bad = new Uint8Array([...utf8.encode('ok\nfine\nba'), 0xff, ...utf8.encode('d\nlast\n')]);
    const { rows, error } = await read(file('corpus.txt', bad));
    expect(error?.code).toBe('bad-encoding');
    expect(error?.row).toBe(3);
    expect(error?.file).toBe('corpus.txt');
    expect(error?.message).toMatch(/corpus\.txt, row 3/);
    expect(rows.map((r) => r.text)).toEqual(['ok', 'fine']);
    // split over chunks, the bad byte in a later chunk than its row's start
    const { file: split } = chunkedFile('s.txt', [
      'a\nb',
      'b\nc',
      new Uint8Array([0x63, 0xc3, 0x28]),
    ]);
    expect((await failure(split)).row).toBe(3);
  });

  it('refuses a file cut inside a UTF-8 character, naming its last row', async () => {
    const cut = utf8.encode('one\ntwo 🌍').slice(0, -2);
    const e = await failure(file('cut.txt', cut));
    expect([e.code, e.row]).toEqual(['bad-encoding', 2]);
  });

  it('truncates (flagged) or refuses rows over maxChars, never splitting a surrogate pair', async () => {
    const text = 'short\nabcdefgh\r\nab🌍cd\nexactly8\r\n';
    const cut = await read(file('t.txt', text), { maxChars: 3, overLong: 'truncate' });
    expect(cut.rows).toEqual([
      { row: 1, text: 'sho', truncated: true },
      { row: 2, text: 'abc', truncated: true },
      { row: 3, text: 'ab', truncated: true },
      { row: 4, text: 'exa', truncated: true },
    ]);
    const fits = await read(file('t.txt', text), { maxChars: 8, overLong: 'refuse' });
    expect(fits.error).toBeUndefined(); // 'exactly8' + \r\n fits: the \r is not text
    const refused = await read(file('t.txt', text), { maxChars: 6, overLong: 'refuse' });
    expect([refused.error?.code, refused.error?.row]).toEqual(['row-too-long', 2]);
    expect(refused.texts).toEqual(['short']);
    // the default is to refuse, never to cut silently
    expect((await failure(file('t.txt', text), { maxChars: 6 })).code).toBe('row-too-long');
  });

  it('stops at maxRows + 1 with too-many-rows, and holds one named default', async () => {
    const { rows, error } = await read(file('n.txt', 'a\nb\nc\nd\ne\n'), { maxRows: 4 });
    expect(rows).toHaveLength(4);
    expect([error?.code, error?.row]).toEqual(['too-many-rows', 5]);
    expect((await read(file('n.txt', 'a\nb\nc\nd\n'), { maxRows: 4 })).error).toBeUndefined();
    expect(MAX_DATASET_ROWS).toBe(1_000_000);
  });

  it('refuses an empty file, an unknown extension, and an aborted read', async () => {
    expect((await failure(file('e.txt', ''))).code).toBe('empty');
    const e = await failure(file('data.xlsx', 'a'));
    expect([e.code, e.file]).toEqual(['unknown-format', 'data.xlsx']);
    const controller = new AbortController();
    controller.abort();
    expect((await failure(file('a.txt', 'a\n'), { signal: controller.signal })).code).toBe(
      'aborted',
    );
  });
});

describe('readRows: .jsonl', () => {
  it('reads the chosen string field, tolerating blank last lines', async () => {
    const text = '{"id":1,"text":"héllo"}\r\n{"text":"a \\"quoted\\"\\nline","id":2}\n\n  \n';
    const { rows, error } = await read(file('d.jsonl', text), { field: 'text' });
    expect(error).toBeUndefined();
    expect(rows).toEqual([
      { row: 1, text: 'héllo', truncated: false },
      { row: 2, text: 'a "quoted"\nline', truncated: false },
    ]);
  });

  it.each([
    ['[1,2]\n', 'bad-row', /an array, not a JSON object/],
    ['42\n', 'bad-row', /number, not a JSON object/],
    ['{"text": "cut sho', 'bad-row', /not JSON/],
    ['\n{"text":"x"}\n', 'bad-row', /blank line/],
    ['{"other":"x"}\n', 'missing-field', /no such field/],
    ['{"text":42}\n', 'bad-field', /holds a number, not text/],
    ['{"text":null}\n', 'bad-field', /holds null/],
    ['{"text":["a"]}\n', 'bad-field', /holds an array/],
  ])('refuses %j on row 2 as %s', async (second, code, message) => {
    const e = await failure(file('d.jsonl', `{"text":"ok"}\n${second}`), { field: 'text' });
    expect(e.code).toBe(code);
    expect(e.row).toBe(2);
    expect(e.file).toBe('d.jsonl');
    expect(e.message).toMatch(message);
    expect(e.message).toMatch(/^d\.jsonl, row 2/);
    if (code === 'missing-field' || code === 'bad-field') {
      expect(e.field).toBe('text');
      expect(e.message).toMatch(/field "text"/);
    }
  });

  it('needs a field, and cuts or refuses long text in it', async () => {
    expect((await failure(file('d.jsonl', '{"text":"x"}\n'))).code).toBe('missing-field');
    const long = '{"text":"abcdef"}\n';
    const cut = await read(file('d.jsonl', long), {
      field: 'text',
      maxChars: 4,
      overLong: 'truncate',
    });
    expect(cut.rows).toEqual([{ row: 1, text: 'abcd', truncated: true }]);
    const e = await failure(file('d.jsonl', long), {
      field: 'text',
      maxChars: 4,
      overLong: 'refuse',
    });
    expect([e.code, e.row, e.field]).toEqual(['row-too-long', 1, 'text']);
  });
});

describe('readRows: .csv', () => {
  const csv =
    'id,text,label\r\n1,plain,a\r\n2,"with, comma",b\r\n3,"two\r\nlines ""quoted""",c\r\n4,日本語 🌍,d\r\n';

  it('reads the chosen column: quoted commas, quotes, newlines, CRLF, unicode', async () => {
    const { rows, error } = await read(file('d.csv', csv), { field: 'text' });
    expect(error).toBeUndefined();
    expect(rows.map((r) => [r.row, r.text])).toEqual([
      [1, 'plain'],
      [2, 'with, comma'],
      [3, 'two\r\nlines "quoted"'],
      [4, '日本語 🌍'],
    ]);
  });

  it('drops the byte-order mark spreadsheet programs write before the header', async () => {
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, ...utf8.encode('text,id\nx,1\n')]);
    expect((await read(file('excel.csv', bom), { field: 'text' })).texts).toEqual(['x']);
    expect((await previewDataset(file('excel.csv', bom))).fields).toEqual(['text', 'id']);
  });

  it('reads a last row without a final newline, and one split from its newline', async () => {
    expect((await read(file('d.csv', 'a,text\n1,x\n2,"y"'), { field: 'text' })).texts).toEqual([
      'x',
      'y',
    ]);
    const { file: f } = chunkedFile('d.csv', ['a,text\n1,x', '\n', '2,y\n']);
    expect((await read(f, { field: 'text' })).texts).toEqual(['x', 'y']);
  });

  it('reads the same when every chunk is 3 bytes, records and characters split anywhere', async () => {
    const bytes = utf8.encode(csv);
    const parts: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += 3) parts.push(bytes.slice(i, i + 3));
    const { file: f } = chunkedFile('d.csv', parts);
    expect((await read(f, { field: 'text' })).texts).toEqual(
      (await read(file('d.csv', csv), { field: 'text' })).texts,
    );
  });

  it('refuses a row with extra columns, naming its row', async () => {
    const { rows, error } = await read(file('d.csv', 'a,text\n1,x\n2,y,extra\n3,z\n'), {
      field: 'text',
    });
    expect(rows.map((r) => r.text)).toEqual(['x']);
    expect([error?.code, error?.row, error?.file]).toEqual(['bad-row', 2, 'd.csv']);
    expect(error?.message).toBe(
      'd.csv, row 2: the row has 3 columns, the header 2 (line 3 of the file)',
    );
  });

  it('refuses a file cut inside a quoted field, a missing column, bad bytes, an empty file', async () => {
    const cut = await failure(file('d.csv', 'a,text\n1,"never closed\n'), { field: 'text' });
    expect([cut.code, cut.row]).toEqual(['truncated', 1]);
    const missing = await failure(file('d.csv', 'a,b\n1,2\n'), { field: 'text' });
    expect([missing.code, missing.field]).toEqual(['missing-field', 'text']);
    expect(missing.message).toMatch(/"a", "b"/);
    const twice = await failure(file('d.csv', 'text,a,text\nx,1,y\n'), { field: 'text' });
    expect([twice.code, twice.field]).toEqual(['bad-field', 'text']);
    expect(twice.message).toMatch(/2 columns/);
    // A repeated name the researcher did not choose is no obstacle.
    const other = await read(file('d.csv', 'a,text,a\n1,x,2\n'), { field: 'text' });
    expect([other.texts, other.error]).toEqual([['x'], undefined]);
    const bad = new Uint8Array([...utf8.encode('a,text\n1,x\n2,'), 0xfe, ...utf8.encode('\n')]);
    const enc = await failure(file('d.csv', bad), { field: 'text' });
    expect([enc.code, enc.row]).toEqual(['bad-encoding', 2]);
    const quoted = new Uint8Array([
      ...utf8.encode('a,text\n1,x\n2,"open\nquote'),
      0xfe,
      ...utf8.encode('"\n3,y\n'),
    ]);
    expect((await failure(file('d.csv', quoted), { field: 'text' })).row).toBe(2);
    const atStart = new Uint8Array([...utf8.encode('a,text\n1,x\n'), 0xfe, ...utf8.encode(',y\n')]);
    expect((await failure(file('d.csv', atStart), { field: 'text' })).row).toBe(2);
    const inHeader = await failure(file('d.csv', new Uint8Array([0x61, 0xfe, 0x0a])), {
      field: 'text',
    });
    expect([inHeader.code, inHeader.row]).toEqual(['bad-encoding', undefined]);
    expect((await failure(file('d.csv', ''), { field: 'text' })).code).toBe('empty');
    expect((await failure(file('d.csv', 'a,text\n'), { field: 'text' })).code).toBe('empty');
  });
});

function parquet(rowGroupSize: number, rows: number, extra?: { text?: Array<string | null> }) {
  const text =
    extra?.text ??
    Array.from({ length: rows }, (_, i) =>
      i < 10 ? `row ${i} ü` : `row ${i} ${(i * 7919) % 100_003}`,
    );
  return parquetWriteBuffer({
    columnData: [
      { name: 'id', data: Int32Array.from({ length: text.length }, (_, i) => i), type: 'INT32' },
      { name: 'text', data: text, type: 'STRING', nullable: true },
    ],
    rowGroupSize,
  });
}

describe('readRows: .parquet', () => {
  it('reads a string column across row groups', async () => {
    const { rows, error } = await read(file('d.parquet', parquet(3, 10)), { field: 'text' });
    expect(error).toBeUndefined();
    expect(rows.map((r) => r.row)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(rows[9]?.text).toBe('row 9 ü');
  });

  it('refuses a file that is not parquet, one cut short, and one with a corrupt footer', async () => {
    const notParquet = await failure(file('d.parquet', 'id,text\n1,x\n'), { field: 'text' });
    expect([notParquet.code, notParquet.file]).toEqual(['unknown-format', 'd.parquet']);
    const whole = new Uint8Array(parquet(3, 10));
    const cut = await failure(file('d.parquet', whole.slice(0, whole.length - 7)), {
      field: 'text',
    });
    expect(cut.code).toBe('truncated');
    const garbled = whole.slice();
    garbled.fill(0xff, garbled.length - 40, garbled.length - 8); // the footer, not its length or magic
    expect((await failure(file('d.parquet', garbled), { field: 'text' })).code).toMatch(/corrupt/);
  });

  it('refuses a string that is not UTF-8, naming its row', async () => {
    const data = parquetWriteBuffer({
      columnData: [
        {
          name: 'text',
          data: [utf8.encode('fine'), new Uint8Array([0x62, 0xff]), utf8.encode('ok')],
        },
      ],
      schema: [
        { name: 'root', num_children: 1 },
        { name: 'text', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
      ],
    });
    const { rows, error } = await read(file('d.parquet', data), { field: 'text' });
    expect(rows.map((r) => r.text)).toEqual(['fine']);
    expect([error?.code, error?.row, error?.field]).toEqual(['bad-encoding', 2, 'text']);
  });

  it('refuses a number column, a missing column, a null, and too many rows before reading', async () => {
    const data = parquet(2, 0, { text: ['a', 'b', null, 'd'] });
    const number = await failure(file('d.parquet', data), { field: 'id' });
    expect([number.code, number.field]).toEqual(['bad-field', 'id']);
    expect(number.message).toMatch(/INT32/);
    const missing = await failure(file('d.parquet', data), { field: 'nope' });
    expect([missing.code, missing.field]).toEqual(['missing-field', 'nope']);
    const { rows, error } = await read(file('d.parquet', data), { field: 'text' });
    expect(rows).toHaveLength(2);
    expect([error?.code, error?.row, error?.field]).toEqual(['bad-field', 3, 'text']);
    const { rows: none, error: many } = await read(file('d.parquet', parquet(3, 10)), {
      field: 'text',
      maxRows: 9,
    });
    expect([none.length, many?.code]).toEqual([0, 'too-many-rows']);
  });
});

describe('previewDataset', () => {
  it('shows txt lines and reads only the chunks it needs', async () => {
    const parts = Array.from({ length: 100 }, (_, i) => `line ${i}\n`.repeat(10));
    const { file: f, stats } = chunkedFile('big.txt', parts);
    const preview = await previewDataset(f, { rows: 5 });
    expect(preview).toEqual({
      format: 'txt',
      fields: [],
      rows: ['line 0', 'line 0', 'line 0', 'line 0', 'line 0'],
    });
    expect(stats.pulled).toBeLessThan(f.size / 10);
  });

  it('shows jsonl fields in order with cells, suggesting the text field', async () => {
    const lines = [
      '{"id":1,"body":"x","meta":{"a":1},"ok":true}',
      '{"id":2,"body":"y","extra":null}',
    ];
    const preview = await previewDataset(file('d.jsonl', `${lines.join('\n')}\n{not json`), {
      rows: 2,
    });
    expect(preview.format).toBe('jsonl');
    expect(preview.fields).toEqual(['id', 'body', 'meta', 'ok', 'extra']);
    expect(preview.rows[0]).toEqual({ id: 1, body: 'x', meta: '{"a":1}', ok: true, extra: null });
    expect(preview.suggestedField).toBe('body');
  });

  it('reads only the csv chunks the first rows need, and not past a bad row after them', async () => {
    const parts = [
      'k,text\n',
      ...Array.from({ length: 200 }, (_, i) => `${i},"row\n${i}"\n`),
      '1,2,3\n',
    ];
    const { file: f, stats } = chunkedFile('d.csv', parts);
    const preview = await previewDataset(f, { rows: 2 });
    expect(preview.rows).toEqual([
      { k: '0', text: 'row\n0' },
      { k: '1', text: 'row\n1' },
    ]);
    expect(stats.pulled).toBeLessThan(f.size / 10);
  });

  it('stops a csv read when its signal fires between chunks', async () => {
    const controller = new AbortController();
    const { file: f } = chunkedFile('d.csv', ['k,text\n', '1,a\n', '2,b\n', '3,c\n']);
    const seen: string[] = [];
    let error: unknown;
    try {
      for await (const r of readRows(f, { field: 'text', signal: controller.signal })) {
        seen.push(r.text);
        controller.abort();
      }
    } catch (e) {
      error = e;
    }
    expect(seen).toEqual(['a']);
    expect(error).toBeInstanceOf(DatasetError);
    expect((error as DatasetError).code).toBe('aborted');
  });

  it('shows csv columns and suggests the longest text column without a usual name', async () => {
    const preview = await previewDataset(
      file('d.csv', 'k,passage\n1,"a long, long passage"\n2,b\n'),
    );
    expect(preview.fields).toEqual(['k', 'passage']);
    expect(preview.rows).toEqual([
      { k: '1', passage: 'a long, long passage' },
      { k: '2', passage: 'b' },
    ]);
    expect(preview.suggestedField).toBe('passage');
  });

  it('shows parquet columns, reading a part of a multi-row-group file', async () => {
    const data = parquet(1000, 20_000);
    const { file: f, stats } = chunkedFile('d.parquet', [new Uint8Array(data)]);
    const preview = await previewDataset(f, { rows: 3 });
    expect(preview.format).toBe('parquet');
    expect(preview.fields).toEqual(['id', 'text']);
    expect(preview.rows).toEqual([
      { id: 0, text: 'row 0 ü' },
      { id: 1, text: 'row 1 ü' },
      { id: 2, text: 'row 2 ü' },
    ]);
    expect(preview.suggestedField).toBe('text');
    expect(f.size).toBeGreaterThan(100_000);
    expect(stats.sliced).toBeLessThan(f.size / 3); // the footer and the first row group
  });
});
