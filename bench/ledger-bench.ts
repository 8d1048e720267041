// The market's ledger in the browser's JS engine, where an owner's tab runs it: receipts appended
// per second with their proofs (to memory, and to IndexedDB with strict durability as a tab does),
// proof sizes in a log of 10⁶ entries, and the time to audit a contributor holding 10,000
// receipts. The peer figure is bare Ed25519 signing on the same page: each append signs twice
// (the receipt and the new checkpoint), so half that rate is the ceiling.
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import type { Receipt } from '../src/jobs/job';
import { accounts, checkLog } from '../src/ledger/audit';
import { encodeBundle, openBundle } from '../src/ledger/entries';
import { MemoryLogPersistence, OwnerLog } from '../src/ledger/log';
import { MerkleTree } from '../src/ledger/merkle';
import { openCheckpoint, signCheckpoint } from '../src/ledger/note';
import { LedgerStore } from '../src/ledger/store';

async function runLedgerBench(appends: number, auditReceipts: number) {
  const key = await generateKeyPair('Ed25519');
  const owner = peerIdFromPrivateKey(key).toString();
  const contributorKey = await generateKeyPair('Ed25519');
  const contributor = peerIdFromPrivateKey(contributorKey).toString();
  const receipt = (i: number): Receipt => ({
    jobId: 'bench',
    shardId: i,
    owner,
    contributor,
    flops: 134_217_728,
    method: 'freivalds',
    issuedAt: Date.now(),
    credit: 134_218,
  });

  // The peer: bare signatures.
  const msg = new Uint8Array(200);
  let t = performance.now();
  for (let i = 0; i < appends; i++) await key.sign(msg);
  const signaturesPerS = appends / ((performance.now() - t) / 1000);

  // Appends with proofs, to memory.
  const memLog = await OwnerLog.open(key, owner, new MemoryLogPersistence());
  t = performance.now();
  for (let i = 0; i < appends; i++) await memLog.issue(receipt(i));
  const memoryPerS = appends / ((performance.now() - t) / 1000);

  // …and to IndexedDB, each leaf committed with strict durability before its bundle is returned.
  const store = await LedgerStore.open(`ledger-bench-${Date.now()}`);
  const idbLog = await OwnerLog.open(key, owner, store);
  t = performance.now();
  for (let i = 0; i < appends; i++) await idbLog.issue(receipt(i));
  const idbPerS = appends / ((performance.now() - t) / 1000);
  store.db.close();

  // Proof sizes in a log of 10⁶ entries (receipt-sized leaves).
  const tree = new MerkleTree();
  const leaf = new Uint8Array(260);
  const view = new DataView(leaf.buffer);
  t = performance.now();
  for (let i = 0; i < 1_000_000; i++) {
    view.setUint32(0, i);
    tree.append(leaf);
  }
  const buildMs = performance.now() - t;
  const inclusion = tree.inclusionProof(777_777);
  const consistency = tree.consistencyProof(500_001);
  const note = await signCheckpoint(key, owner, tree.size, tree.root());
  view.setUint32(0, 777_777);
  const bundle = encodeBundle(leaf.slice(), 777_777, note, inclusion);
  const bytes = (p: Uint8Array[]) => p.reduce((s, h) => s + h.byteLength, 0);

  // Audit of a contributor holding `auditReceipts` receipts from one owner.
  const auditLog = await OwnerLog.open(key, owner, new MemoryLogPersistence());
  const bundles: Uint8Array[] = [];
  for (let i = 0; i < auditReceipts; i++) bundles.push(await auditLog.issue(receipt(i)));
  const leaves = auditLog.entries(0, auditLog.size);
  const checkpointNote = auditLog.checkpoint();
  t = performance.now();
  const held = [];
  for (const b of bundles) held.push(await openBundle(b, { contributor }));
  const checked = await checkLog(
    { peer: owner, checkpoint: await openCheckpoint(checkpointNote, owner), leaves },
    held,
  );
  const books = accounts([checked], { grant: 1e15 });
  const auditMs = performance.now() - t;
  if (books.get(contributor)?.receiptsEarned !== auditReceipts) throw new Error('audit miscounted');

  return {
    appends,
    signatures_per_s: signaturesPerS,
    appends_per_s: idbPerS,
    appends_per_s_memory: memoryPerS,
    tree_1e6_build_ms: buildMs,
    inclusion_proof_bytes_1e6: bytes(inclusion),
    consistency_proof_bytes_1e6: bytes(consistency),
    proof_bytes_1e6: bytes(inclusion),
    bundle_bytes_1e6: bundle.byteLength,
    audit_receipts: auditReceipts,
    audit_ms_10k: auditMs,
  };
}

Object.assign(globalThis, { runLedgerBench });
