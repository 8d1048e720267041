import { describe, expect, test } from 'vitest';
import { ConfigError, parseEngine, parseMeshConfig } from '../../../src/ui/config';
import { estimateRemaining, formatBytes, formatDuration } from '../../../src/ui/format';
import { clampBudget, DEFAULT_PREFS, loadPrefs, savePrefs } from '../../../src/ui/prefs';

const relay = '/ip4/127.0.0.1/tcp/9090/ws/p2p/12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf';

describe('mesh config validation', () => {
  test('accepts a relay multiaddr and ICE servers', () => {
    expect(parseMeshConfig({ relay })).toEqual({ relays: [relay], iceServers: [] });
    const iceServers = [
      { urls: 'stun:stun.example.org:3478' },
      { urls: ['turn:t.example.org'], username: 'u', credential: 'c' },
    ];
    expect(parseMeshConfig({ relay, iceServers }).iceServers).toEqual(iceServers);
  });

  test('lists several relays, once each', () => {
    const other = relay
      .replace('/tcp/9090/', '/tcp/9091/')
      .replace(/p2p\/.*$/, 'p2p/12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK');
    expect(parseMeshConfig({ relays: [relay, other, relay] }).relays).toEqual([relay, other]);
  });

  test.each([
    [null, 'config'],
    ['x', 'config'],
    [{}, 'relay'],
    [{ relay: 42 }, 'relay'],
    [{ relay: 'not a multiaddr' }, 'relay'],
    [{ relay: '/ip4/127.0.0.1/tcp/9090/ws' }, 'relay'],
    [{ relay: 'x'.repeat(2000) }, 'relay'],
    [{ relays: [] }, 'relays'],
    [{ relays: relay }, 'relays'],
    [{ relays: Array(17).fill(relay) }, 'relays'],
    [{ relays: [relay, '/ip4/127.0.0.1/tcp/1/ws'] }, 'relays[1]'],
    [{ relay, iceServers: 'stun:x' }, 'iceServers'],
    [{ relay, iceServers: [{ urls: 'http://x' }] }, 'iceServers[0]'],
    [{ relay, iceServers: [{}] }, 'iceServers[0]'],
  ])('%o is a ConfigError on %s', (raw, field) => {
    expect(() => parseMeshConfig(raw)).toThrowError(
      expect.objectContaining({ name: 'ConfigError', field }),
    );
    expect(() => parseMeshConfig(raw)).toThrow(ConfigError);
  });
});

test('the engine a page or embed asks for: webgpu, cpu, or auto; anything else is a ConfigError', () => {
  expect(parseEngine('?engine', 'webgpu')).toBe('webgpu');
  expect(parseEngine('?engine', 'cpu')).toBe('cpu');
  for (const none of ['auto', '', null, undefined])
    expect(parseEngine('?engine', none)).toBe(undefined);
  for (const bad of ['gpu', 'CPU', 'webgpu ', '1']) {
    expect(() => parseEngine('engine', bad)).toThrowError(
      expect.objectContaining({ name: 'ConfigError', field: 'engine' }),
    );
  }
});

describe('volunteer preferences (localStorage)', () => {
  const memory = (): Storage => {
    const m = new Map<string, string>();
    return {
      get length() {
        return m.size;
      },
      clear: () => m.clear(),
      getItem: (k) => m.get(k) ?? null,
      key: (i) => [...m.keys()][i] ?? null,
      removeItem: (k) => void m.delete(k),
      setItem: (k, v) => void m.set(k, String(v)),
    };
  };

  test('off by default; a choice is remembered; bad stored values fall back to defaults', () => {
    const storage = memory();
    expect(loadPrefs(storage)).toEqual(DEFAULT_PREFS);
    savePrefs({ ...DEFAULT_PREFS, contribute: true, budget: 0.3, speeds: { x: 2.5 } }, storage);
    expect(loadPrefs(storage)).toMatchObject({ contribute: true, budget: 0.3, speeds: { x: 2.5 } });
    storage.setItem('tessel:contributor', '{"contribute":"yes","budget":7,"speeds":{"x":-1}}');
    expect(loadPrefs(storage)).toEqual({ ...DEFAULT_PREFS, budget: 1 });
    storage.setItem('tessel:contributor', 'not json');
    expect(loadPrefs(storage)).toEqual(DEFAULT_PREFS);
    // The engine remembered per device: only the two engines, anything else dropped.
    savePrefs({ ...DEFAULT_PREFS, engines: { 'webgpu:none': 'cpu' } }, storage);
    expect(loadPrefs(storage).engines).toEqual({ 'webgpu:none': 'cpu' });
    storage.setItem(
      'tessel:contributor',
      '{"engines":{"a":"cpu","b":"quantum","c":7,"d":"webgpu"},"speeds":{"cpu:wasm-fma":40}}',
    );
    expect(loadPrefs(storage)).toMatchObject({
      engines: { a: 'cpu', d: 'webgpu' },
      speeds: { 'cpu:wasm-fma': 40 },
    });
    storage.setItem('tessel:contributor', '{"engines":"cpu"}');
    expect(loadPrefs(storage).engines).toEqual({});
    expect(clampBudget(0)).toBe(0.1);
    expect(clampBudget(Number.NaN)).toBe(DEFAULT_PREFS.budget);
  });

  test('time left follows the pace since the view first saw the job', () => {
    expect(estimateRemaining(10, 0, 0, 5_000)).toBe(undefined);
    expect(estimateRemaining(10, 5, 0, 5_000)).toBe(10_000);
    expect(estimateRemaining(0, 5, 0, 5_000)).toBe(0);
    expect(formatDuration(200_000)).toBe('3 min 20 s');
    expect(formatBytes(1.5 * 2 ** 30)).toBe('1.5 GiB');
  });
});
