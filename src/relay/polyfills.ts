// Node entry points import this module before anything from libp2p.
import { WebSocket as NodeWebSocket } from 'ws';

// libp2p 3.3 calls Promise.withResolvers, which Node 20 lacks (Node ≥ 22 has it).
if (typeof (Promise as { withResolvers?: unknown }).withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value<T>() {
      let resolve!: (v: T | PromiseLike<T>) => void;
      let reject!: (e?: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

// @libp2p/websockets dials with the global WebSocket, which Node 20 has only behind
// --experimental-websocket: relays dial each other, and headless contributors dial relays.
if (typeof globalThis.WebSocket !== 'function') {
  Object.defineProperty(globalThis, 'WebSocket', {
    configurable: true,
    writable: true,
    value: NodeWebSocket,
  });
}
