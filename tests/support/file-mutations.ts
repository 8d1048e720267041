// The mutations the file fuzzer (tests/unit/model/file-fuzz.test.ts) applies to valid safetensors
// and .npy files to break them: every file one of these makes must be refused.
import {
  type Dice,
  type NDoc,
  nEntries,
  renderN,
  renderS,
  type SDoc,
  type STensor,
} from './file-fuzz-fixture';

const bytesOf = (t: STensor) => t.values.length * (t.dtype === 'F32' ? 4 : 8);

/** One tensor with data in every doc, so there are bytes to share or misplace. */
function withData(doc: SDoc): SDoc {
  if (doc.tensors.some((t) => t.values.length > 0)) return doc;
  const extra: STensor = { name: 'extra', dtype: 'F32', shape: [3], values: [1, 2, 3] };
  return { ...doc, tensors: [...doc.tensors, extra] };
}

function setOffsets(fields: [string, string][], begin: number, end: number): [string, string][] {
  return fields.map(([k, v]) => [k, k === 'data_offsets' ? `[${begin},${end}]` : v]);
}

/** Ways to break a valid safetensors file; every one must be refused. */
export const breakS: Record<string, (d: Dice, doc: SDoc) => Uint8Array> = {
  shared(d) {
    // k tensors, all naming one tensor's bytes: the attack that cost ~1,000× the file's size in
    // copies. The tensor is big beside its header entry, so copying it k times shows.
    const rows = 16 + d.int(48);
    const t: STensor = {
      name: 'w',
      dtype: 'F32',
      shape: [rows, 16],
      values: Array.from({ length: rows * 16 }, () => d.float()),
    };
    const copies = Array.from({ length: 2 + d.int(11) }, (_, i) => ({ ...t, name: `w${i}` }));
    return renderS({ tensors: copies }, d, (entries) => ({
      entries: entries.map((e) => ({ ...e, fields: setOffsets(e.fields, 0, bytesOf(t)) })),
      dataLen: bytesOf(t),
    }));
  },
  misplaced(d, doc) {
    // One tensor moved earlier (over its neighbour) or later (leaving a hole).
    return renderS(withData(doc), d, (entries, layout) => {
      const t = d.pick(layout.filter((x) => x.values.length > 0));
      let begin = 0;
      for (const x of layout.slice(0, layout.indexOf(t))) begin += bytesOf(x);
      const shift = begin > 0 && d.chance(0.5) ? -1 - d.int(begin) : 1 + d.int(8);
      const total = layout.reduce((a, x) => a + bytesOf(x), 0);
      const moved = entries.map((e) =>
        e.name === t.name
          ? { ...e, fields: setOffsets(e.fields, begin + shift, begin + shift + bytesOf(t)) }
          : e,
      );
      return { entries: moved, dataLen: Math.max(total, begin + shift + bytesOf(t)) };
    });
  },
  duplicated(d, doc) {
    return renderS(withData(doc), d, (entries) => {
      const copy = d.pick(entries);
      const out = [...entries];
      out.splice(d.int(out.length + 1), 0, copy);
      return { entries: out };
    });
  },
  hugeShape(d, doc) {
    const shapes = [
      '[1099511627776,1099511627776]',
      '[67108864,67108864,67108864,67108864]',
      '[9007199254740991,2]',
      '[1e300]',
      '[0,4294967296]',
      '[-1]',
      '[1.5]',
    ];
    return renderS(withData(doc), d, (entries, layout) => {
      const t = layout.find((x) => x.values.length > 0)!;
      const shape = d.pick(shapes);
      return {
        entries: entries.map((e) =>
          e.name === t.name
            ? { ...e, fields: e.fields.map(([k, v]) => [k, k === 'shape' ? shape : v]) }
            : e,
        ),
      };
    });
  },
  dtype(d, doc) {
    const dtype = d.pick(['"F16"', '"BF16"', '"I32"', '"U8"', '"Q4_K"', '"f32"', '32', 'null']);
    return renderS(withData(doc), d, (entries, layout) => {
      const t = layout.find((x) => x.values.length > 0)!;
      return {
        entries: entries.map((e) =>
          e.name === t.name
            ? { ...e, fields: e.fields.map(([k, v]) => [k, k === 'dtype' ? dtype : v]) }
            : e,
        ),
      };
    });
  },
  truncated: (d, doc) => {
    const file = renderS(withData(doc), d);
    return file.slice(0, d.int(file.length));
  },
  extended: (d, doc) => {
    const file = renderS(doc, d);
    const out = new Uint8Array(file.length + 1 + d.int(16));
    out.set(file);
    return out;
  },
  lengthField: (d, doc) => {
    const file = renderS(withData(doc), d);
    const view = new DataView(file.buffer);
    const n = view.getBigUint64(0, true);
    const delta = BigInt(d.pick([-9, -3, -1, 1, 2, 7]));
    const lies = [
      n + delta,
      0n,
      2n ** 63n,
      2n ** 64n - 1n,
      BigInt(file.length),
      BigInt(d.int(2 ** 31)),
    ];
    let lie = d.pick(lies);
    if (lie === n || lie < 0n) lie = n + 1n;
    view.setBigUint64(0, lie, true);
    return file;
  },
};

/** Ways to break a valid .npy file; every one must be refused. */
export const breakN: Record<string, (d: Dice, doc: NDoc) => Uint8Array> = {
  duplicateKey(d, doc) {
    // numpy keeps the last value, an older tessel the first: refused outright.
    const entries = nEntries(doc, d.chance(0.5) ? d : undefined);
    const [k, v] = d.pick(entries);
    const other = { "'descr'": "'>f8'", "'fortran_order'": doc.fortran ? 'False' : 'True' };
    const again: [string, string] = [
      k,
      d.chance(0.5) ? v : (other[k as keyof typeof other] ?? `(${doc.cols}, ${doc.rows})`),
    ];
    entries.splice(d.int(entries.length + 1), 0, again);
    return renderN(doc, entries, d.chance(0.5) ? d : undefined);
  },
  keyInsideValue(d, doc) {
    // A key that appears only inside another value's string is no key.
    const entries = nEntries(doc);
    const i = d.int(entries.length);
    const [k, v] = entries.splice(i, 1)[0]!;
    const hidden = `${k}: ${v}`.replaceAll('"', "'");
    if (i !== 0 && d.chance(0.5))
      entries[0] = [entries[0]![0], `"${doc.order}f${doc.size}', ${hidden}, 'x': '"`];
    else entries.push([d.pick(["'x'", "'descr '", "'shape2'"]), `"${hidden}"`]);
    return renderN(doc, entries);
  },
  extraOrMissingKey(d, doc) {
    const entries = nEntries(doc, d);
    if (d.chance(0.5)) entries.splice(d.int(entries.length), 1);
    else
      entries.splice(d.int(4), 0, [
        d.pick(["'x'", "'Shape'", "'version'"]),
        d.pick(['1', "'<f4'", '(1,)']),
      ]);
    return renderN(doc, entries, d);
  },
  badShape(d, doc) {
    const n = doc.rows * doc.cols;
    const shape = d.pick([
      '(1099511627776, 1099511627776)',
      `(${2 ** 53}, 2)`,
      '(99999999999999999999, 1)',
      `(0, ${2 ** 40})`,
      `(${n + 1 + d.int(5)}, 1)`,
      `(${n},)`, // 1-D: not a matrix
      `(${doc.rows}, ${doc.cols}, 1)`,
      `(${n})`, // an int, not a tuple
      `[${doc.rows}, ${doc.cols}]`,
      `(${doc.rows}, -${doc.cols})`,
      `(${doc.rows}L, ${doc.cols}L)`,
    ]);
    const entries = nEntries(doc).map(([k, v]): [string, string] => [
      k,
      k === "'shape'" ? shape : v,
    ]);
    return renderN(doc, entries);
  },
  badValue(d, doc) {
    const [k, v] = d.pick([
      ["'fortran_order'", d.pick(['0', '1', "'False'", 'None', 'false'])],
      [
        "'descr'",
        d.pick(["'<f4 '", `'${doc.order}f${doc.size}'x`, '<f4', "'<i4'", "[('a', '<f4')]"]),
      ],
    ] as [string, string][]);
    return renderN(
      doc,
      nEntries(doc).map(([k2, v2]) => [k2, k2 === k ? v : v2]),
    );
  },
  truncated: (d, doc) => {
    const file = renderN(doc, nEntries(doc, d), d);
    return file.slice(0, d.int(file.length));
  },
  extended: (d, doc) => {
    const file = renderN(doc, nEntries(doc, d), d);
    const out = new Uint8Array(file.length + 1 + d.int(16));
    out.set(file);
    return out;
  },
  lengthField: (d, doc) => {
    const file = renderN(doc, nEntries(doc, d), d);
    const view = new DataView(file.buffer);
    if (file[6] === 1)
      view.setUint16(8, (view.getUint16(8, true) + 1 + d.int(65_534)) % 65_536, true);
    else view.setUint32(8, (view.getUint32(8, true) + 1 + d.int(2 ** 31)) >>> 0, true);
    return file;
  },
  version: (d, doc) => {
    const file = renderN(doc);
    if (d.chance(0.5)) file[6] = d.pick([0, 4, 9, 255]);
    else file[7] = 1 + d.int(255);
    return file;
  },
};
