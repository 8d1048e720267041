// Tab-to-tab shard transfer: tessel's shard protocol (libp2p over WebRTC, noise, yamux,
// length-prefixed protobuf frames) against a bare RTCDataChannel between the same two pages,
// the ceiling any WebRTC transport can reach. Each round trip sends one Lease frame of the
// given size and waits for a small Verdict frame back.
import { generateKeyPair } from '@libp2p/crypto/keys';
import { multiaddr } from '@multiformats/multiaddr';
import { median } from '../src/gpu/autotune';
import type { LeaseMsg } from '../src/mesh/codec';
import { FramedStream } from '../src/mesh/framed';
import { type MeshNode, startMeshNode, waitForWebRtcAddress } from '../src/mesh/node';

const BENCH_PROTOCOL = '/tessel/bench-shard/1.0.0';

export interface TransferRow {
  bytes: number;
  rounds: number;
  ms: number; // per round trip: mean over all rounds below 64 KiB, median above
  mb_s: number; // bytes / ms, in MB/s (10^6)
  round_trips_s: number;
}

let node: MeshNode | undefined;

function leaseOf(bytes: number): LeaseMsg {
  const k = 256;
  const m = Math.max(1, Math.round(bytes / 4 / k));
  return {
    type: 'lease',
    jobId: 'bench',
    shardId: 0,
    leaseId: 'bench-lease',
    deadlineMs: 60_000,
    lifetimeMs: 300_000,
    heartbeatMs: 1_000,
    work: {
      kind: 'matmul',
      m,
      k,
      n: 1,
      a: new Float32Array(m * k).fill(0.5),
      b: new Float32Array(k).fill(0.25),
    },
  };
}

async function meshStart(relay: string, role: 'server' | 'client') {
  node = await startMeshNode({
    privateKey: await generateKeyPair('Ed25519'),
    relays: [relay],
    iceServers: [],
  });
  if (role === 'server') {
    await node.handle(BENCH_PROTOCOL, async (stream) => {
      const framed = new FramedStream(stream);
      try {
        for (;;) {
          const msg = await framed.read();
          if (msg.type !== 'lease') break;
          await framed.write({
            type: 'verdict',
            leaseId: msg.leaseId,
            jobId: msg.jobId,
            shardId: msg.shardId,
            accepted: true,
            reason: 'ok',
            receipt: new Uint8Array(0),
          });
        }
      } catch (e) {
        // the client closed the stream, or the bench broke: say which
        console.log(`bench server stream ended: ${(e as Error).message}`);
      }
    });
  }
  return { peerId: node.peerId.toString(), addr: (await waitForWebRtcAddress(node))[0]! };
}

async function meshRun(target: string, sizes: number[], rounds: number): Promise<TransferRow[]> {
  const conn = await node!.dial(multiaddr(target));
  if (conn.limits != null || !conn.remoteAddr.toString().includes('/webrtc')) {
    throw new Error(`expected a direct WebRTC connection, got ${conn.remoteAddr.toString()}`);
  }
  const framed = new FramedStream(await conn.newStream(BENCH_PROTOCOL));
  const rows: TransferRow[] = [];
  for (const bytes of sizes) {
    const lease = leaseOf(bytes);
    const times: number[] = [];
    for (let i = 0; i <= roundsFor(bytes, rounds); i++) {
      const t0 = performance.now();
      await framed.write(lease);
      const reply = await framed.read();
      if (reply.type !== 'verdict') throw new Error('unexpected reply');
      if (i > 0) times.push(performance.now() - t0); // round 0 warms up
    }
    rows.push(row(bytes, times));
  }
  await framed.close();
  return rows;
}

function row(bytes: number, times: number[]): TransferRow {
  // Small frames: the mean over many rounds (one round is near the 0.1 ms timer resolution).
  // Large frames: the median, so one stall (GC, an SCTP retransmit) does not set the figure.
  const ms = bytes < 65_536 ? times.reduce((x, y) => x + y, 0) / times.length : median(times);
  return {
    bytes,
    rounds: times.length,
    ms,
    mb_s: bytes / 1e6 / (ms / 1e3),
    round_trips_s: 1e3 / ms,
  };
}

/** More rounds for small frames, whose single round trips are near the timer's resolution. */
const roundsFor = (bytes: number, rounds: number) => (bytes < 65_536 ? rounds * 40 : rounds);

// ---- the peer: a bare RTCDataChannel, signalled by the bench driver -------------------------

let pc: RTCPeerConnection | undefined;
let channel: RTCDataChannel | undefined;
const CHUNK = 64 * 1024; // message size every browser accepts on a data channel

async function gathered(p: RTCPeerConnection): Promise<RTCSessionDescriptionInit> {
  if (p.iceGatheringState !== 'complete') {
    await new Promise<void>((r) =>
      p.addEventListener(
        'icegatheringstatechange',
        () => p.iceGatheringState === 'complete' && r(),
      ),
    );
  }
  return p.localDescription!.toJSON();
}

async function rawOffer() {
  pc = new RTCPeerConnection({ iceServers: [] });
  channel = pc.createDataChannel('bench', { ordered: true });
  channel.binaryType = 'arraybuffer';
  await pc.setLocalDescription(await pc.createOffer());
  return gathered(pc);
}

async function rawAnswer(offer: RTCSessionDescriptionInit) {
  pc = new RTCPeerConnection({ iceServers: [] });
  pc.addEventListener('datachannel', (e) => {
    const ch = e.channel;
    ch.binaryType = 'arraybuffer';
    let expected = 0;
    let got = 0;
    ch.addEventListener('message', (m) => {
      if (typeof m.data === 'string') {
        expected = Number(m.data);
        got = 0;
        return;
      }
      got += (m.data as ArrayBuffer).byteLength;
      if (got === expected) ch.send('ack');
    });
  });
  await pc.setRemoteDescription(offer);
  await pc.setLocalDescription(await pc.createAnswer());
  return gathered(pc);
}

async function rawRun(answer: RTCSessionDescriptionInit, sizes: number[], rounds: number) {
  await pc!.setRemoteDescription(answer);
  const ch = channel!;
  if (ch.readyState !== 'open')
    await new Promise((r) => ch.addEventListener('open', r, { once: true }));
  ch.bufferedAmountLowThreshold = 1 << 20;
  const rows: TransferRow[] = [];
  for (const bytes of sizes) {
    const payload = new Uint8Array(CHUNK);
    const times: number[] = [];
    for (let i = 0; i <= roundsFor(bytes, rounds); i++) {
      const acked = new Promise((r) => ch.addEventListener('message', r, { once: true }));
      const t0 = performance.now();
      ch.send(String(bytes));
      for (let sent = 0; sent < bytes; sent += CHUNK) {
        if (ch.bufferedAmount > 8 << 20) {
          await new Promise((r) => ch.addEventListener('bufferedamountlow', r, { once: true }));
        }
        ch.send(payload.subarray(0, Math.min(CHUNK, bytes - sent)));
      }
      await acked;
      if (i > 0) times.push(performance.now() - t0);
    }
    rows.push(row(bytes, times));
  }
  return rows;
}

Object.assign(globalThis, { meshStart, meshRun, rawOffer, rawAnswer, rawRun });
