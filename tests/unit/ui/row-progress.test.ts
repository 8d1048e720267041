// A data-set job's progress in the job list (src/ui/row-progress.ts): rows verified per second and
// the time left from the counts the list saw, and the report's lines.

import { describe, expect, test } from 'vitest';
import { emptyReport } from '../../../src/jobs/job';
import { logitErrorBound } from '../../../src/model/hf/cost';
import {
  embedBound,
  isRowKind,
  nextRowPace,
  rowEtaMs,
  rowRate,
  rowReportRows,
} from '../../../src/ui/row-progress';

describe('row pace', () => {
  test('rows/s over the counts seen, and the time left at that rate', () => {
    let p = nextRowPace(undefined, 2_000, 0, 10_000);
    expect(rowRate(p)).toBeUndefined();
    expect(rowEtaMs(p)).toBeUndefined();
    p = nextRowPace(p, 2_000, 500, 12_000);
    expect(rowRate(p)).toBe(250);
    expect(rowEtaMs(p)).toBe(6_000);
    // A count that did not move keeps the rate measured (a wait is not a slowdown yet).
    p = nextRowPace(p, 2_000, 500, 20_000);
    expect(rowRate(p)).toBe(250);
    p = nextRowPace(p, 2_000, 1_500, 22_000);
    expect(rowRate(p)).toBe(125);
    expect(rowEtaMs(p)).toBe(4_000);
    expect(rowEtaMs(nextRowPace(p, 2_000, 2_000, 23_000))).toBe(0);
  });

  test('a count that went back (a caught contributor’s rows redone) starts the pace again', () => {
    const p = nextRowPace(nextRowPace(undefined, 100, 40, 0), 100, 20, 5_000);
    expect(p).toEqual({ total: 100, since: 5_000, sinceRows: 20, at: 5_000, rows: 20 });
    expect(rowRate(p)).toBeUndefined();
  });
});

describe('report', () => {
  test('rows checked, the checks’ share of the FLOPs, disagreements and contributors caught', () => {
    const r = {
      ...emptyReport('embed', 10),
      accepted: 8,
      rowsChecked: 44,
      checkFlops: 3e9,
      computeFlops: 2e11,
      disagreements: 1,
      spotChecksFailed: 2,
      canariesFailed: 1,
      contributorsCaught: 2,
    };
    expect(Object.fromEntries(rowReportRows(r))).toMatchObject({
      'Shards verified': '8 of 10',
      'Rows the owner checked': '44',
      'Cost of the checks (FLOPs ÷ contributors’ FLOPs)': '1.50%',
      'Copies that disagreed': '1',
      'Checks failed': '3',
      'Contributors caught': '2',
    });
    expect(
      Object.fromEntries(rowReportRows(emptyReport('score', 3)))[
        'Cost of the checks (FLOPs ÷ contributors’ FLOPs)'
      ],
    ).toBe('—');
  });

  test('the embedding bound is twice the model’s error bound; only data-set kinds are rows', () => {
    const m = {
      family: 'bert',
      vocab: 64,
      maxPositions: 40,
      layers: 2,
      hidden: 32,
      attnWidth: 32,
      kvWidth: 32,
      ffWidth: 64,
      gated: false,
    } as const;
    expect(embedBound(m)).toBe(2 * logitErrorBound(m, 1));
    expect(embedBound(m, 5)).toBe(5 * embedBound(m));
    expect(['embed', 'generate', 'score'].every((k) => isRowKind(k as 'embed'))).toBe(true);
    expect(isRowKind('inference') || isRowKind('matmul')).toBe(false);
  });
});
