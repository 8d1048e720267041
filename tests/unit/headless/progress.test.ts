import { describe, expect, it } from 'vitest';
import { formatCredits, ProgressLog } from '../../../src/headless/progress';
import type { Receipt } from '../../../src/jobs/job';

// What `tessel contribute` prints as the mesh's events come: each job once when heard of and
// once when gone (none of its own), each shard's verdict with its credit, and the counts it
// sums up when it stops.
describe('ProgressLog', () => {
  const job = (jobId: string, owner = 'owner-a') => ({ jobId, owner, kind: 'matmul' as const });

  it('names a job once when announced and once when gone, never its own', () => {
    const lines: string[] = [];
    const p = new ProgressLog('me', (l) => lines.push(l));
    p.announced([job('j1'), job('j1'), job('mine', 'me')]);
    p.announced([job('j1'), job('j2')]);
    expect(lines).toEqual([
      'job j1 (matmul) announced by owner-a',
      'job j2 (matmul) announced by owner-a',
    ]);
    lines.length = 0;
    const gone = (jobId: string) => ({ ...job(jobId), price: 1 }) as never;
    p.gone({ jobs: [gone('j1'), gone('mine'), gone('never-heard')], why: 'ended' });
    p.gone({ jobs: [gone('j2'), gone('j1')], why: 'silent' });
    expect(lines).toEqual([
      'job j1 ended: its owner announced it finished or cancelled',
      'job j2 went silent: its owner stopped announcing it (gone, or reloading)',
    ]);
  });

  it('writes each verdict with its credit and counts it', () => {
    const lines: string[] = [];
    const p = new ProgressLog('me', (l) => lines.push(l));
    const base = { jobId: 'j', computeMs: 12.4, computedAt: 0, reason: '' };
    const receipt = { credit: 420 } as Receipt;
    p.outcome({ ...base, shardId: 0, accepted: true, receipt });
    p.outcome({ ...base, shardId: 1, accepted: false, reason: 'wrong product' });
    p.outcome({ ...base, shardId: 2, accepted: false, stale: true, reason: 'settled' });
    p.abandoned({ jobId: 'j', shardId: 3, leaseId: 'l', lifetimeMs: 1 });
    expect(lines).toEqual([
      'shard 0 of job j: verified after 12 ms, +0.000420 credits',
      'shard 1 of job j: rejected (wrong product) after 12 ms',
      'shard 2 of job j: superseded (settled: another copy was settled first) after 12 ms',
      'gave back shard 3 of job j: it outlived its lease',
    ]);
    expect(p.counts).toEqual({ verified: 1, rejected: 1, superseded: 1, abandoned: 1 });
    expect(formatCredits(1_500_000)).toBe('1.500000 credits');
  });
});
