import { describe, expect, test } from 'vitest';
import { ConfigError, parseMeshConfig } from '../../src/ui/config';

const relay = '/ip4/127.0.0.1/tcp/9090/ws/p2p/12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf';

describe('mesh config validation', () => {
  test('accepts a relay multiaddr and ICE servers', () => {
    expect(parseMeshConfig({ relay })).toEqual({ relay, iceServers: [] });
    const iceServers = [
      { urls: 'stun:stun.example.org:3478' },
      { urls: ['turn:t.example.org'], username: 'u', credential: 'c' },
    ];
    expect(parseMeshConfig({ relay, iceServers }).iceServers).toEqual(iceServers);
  });

  test.each([
    [null, 'config'],
    ['x', 'config'],
    [{}, 'relay'],
    [{ relay: 42 }, 'relay'],
    [{ relay: 'not a multiaddr' }, 'relay'],
    [{ relay: '/ip4/127.0.0.1/tcp/9090/ws' }, 'relay'],
    [{ relay: 'x'.repeat(2000) }, 'relay'],
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
