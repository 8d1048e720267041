import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { expect, test } from 'vitest';

// The data path, one direction only (docs/architecture.md): a folder may import its own files and
// those of folders before it, never one after it. Entry points (relay, headless, ui) come last.
const ORDER = [
  'log',
  'reference',
  'gpu',
  'cpu',
  'model',
  'worker',
  'jobs',
  'wire',
  'mesh',
  'ledger',
  'peer',
  'relay',
  'headless',
  'ui',
];

function* sources(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* sources(p);
    else if (/\.ts$/.test(e.name)) yield p;
  }
}

test('imports point one way along the data path, with no cycle between folders', () => {
  const src = resolve('src');
  const backEdges: string[] = [];
  const folders = new Set<string>();
  for (const file of sources(src)) {
    const from = relative(src, file).split('/')[0]!;
    folders.add(from);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:import|export)[^'"]*?from\s+['"](\.[^'"]+)['"]/g)) {
      const target = relative(src, resolve(file, '..', m[1]!));
      if (target.startsWith('..')) continue; // shaders/, outside src
      const to = target.split('/')[0]!;
      if (to !== from && ORDER.indexOf(to) > ORDER.indexOf(from)) {
        backEdges.push(`${relative(src, file)} imports ${m[1]} (${from} → ${to})`);
      }
    }
  }
  // Every folder has a place in the order, so a new one cannot slip past this test.
  expect([...folders].filter((f) => !ORDER.includes(f))).toEqual([]);
  expect(backEdges).toEqual([]);
});

// The market sits beside the mesh, not inside it: it may know the Mesh facade's type (market.ts
// reads its jobs), never the mesh's parts.
test('ledger imports nothing from mesh but the Mesh facade type', () => {
  const src = resolve('src');
  const bad: string[] = [];
  for (const file of sources(join(src, 'ledger'))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:import|export)([^'"]*?)from\s+['"](\.[^'"]+)['"]/g)) {
      const target = relative(src, resolve(file, '..', m[2]!));
      if (target.split('/')[0] !== 'mesh') continue;
      if (target === 'mesh/mesh' && /^\s*type\s/.test(m[1]!)) continue;
      bad.push(`${relative(src, file)} imports ${m[2]}`);
    }
  }
  expect(bad).toEqual([]);
});
