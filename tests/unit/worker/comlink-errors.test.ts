import * as Comlink from 'comlink';
import { describe, expect, test } from 'vitest';
import { CpuError } from '../../../src/cpu/errors';
import { EngineError, GpuError, isEngineError, isGpuError } from '../../../src/gpu/errors';
import { TokenizerError } from '../../../src/model/hf/tokenizer';
import { registerError, registeredErrors } from '../../../src/worker/comlink-errors';

/** An engine error family, as a new error base class would register itself: one line. */
class TestEngineError extends Error {
  override readonly name: string = 'TestEngineError';
  constructor(
    readonly code: string,
    readonly engine: string,
    message: string,
  ) {
    super(message);
  }
}
class TestCpuError extends TestEngineError {
  override readonly name = 'TestCpuError';
  readonly threads = 4;
}
registerError('TestEngineError', TestEngineError);
registerError('TestCpuError', TestCpuError);

/** Rethrows on this side what `fn` throws on the other side of a real MessageChannel. */
const thrownAcross = async (fn: () => void) => {
  const { port1, port2 } = new MessageChannel();
  Comlink.expose({ fn }, port2);
  const remote = Comlink.wrap<{ fn: () => void }>(port1);
  try {
    return await remote.fn().then(
      () => 'no error',
      (e: unknown) => e,
    );
  } finally {
    port1.close();
  }
};

describe('typed errors across the Worker boundary (comlink-errors.ts)', () => {
  test('the project’s typed errors are registered', () => {
    expect(registeredErrors()).toEqual(
      expect.arrayContaining([
        'EngineError',
        'GpuError',
        'CpuError',
        'RequestError',
        'CheckpointError',
        'TokenizerError',
      ]),
    );
  });

  test('a registered class arrives as itself, with its fields, message and stack', async () => {
    const e = await thrownAcross(() => {
      throw new GpuError('too-large', 'a buffer of 9 GB');
    });
    expect(e).toBeInstanceOf(GpuError);
    expect(isGpuError(e, 'too-large')).toBe(true);
    expect(e).toMatchObject({ name: 'GpuError', message: 'a buffer of 9 GB' });
    expect((e as Error).stack).toContain('a buffer of 9 GB');
    // The CPU engine's errors are engine errors on the page too.
    const cpu = await thrownAcross(() => {
      throw new CpuError('out-of-memory', 'the CPU engine has no room for 3 GB');
    });
    expect(cpu).toBeInstanceOf(CpuError);
    expect(cpu).toBeInstanceOf(EngineError);
    expect(cpu).not.toBeInstanceOf(GpuError);
    expect(isEngineError(cpu, 'out-of-memory')).toBe(true);
    const t = await thrownAcross(() => {
      throw new TokenizerError('json', 'tokenizer.json', 'model.vocab', 'not an object');
    });
    expect(t).toBeInstanceOf(TokenizerError);
    expect(t).toMatchObject({ code: 'json', file: 'tokenizer.json', field: 'model.vocab' });
    expect((t as Error).message).toBe(
      new TokenizerError('json', 'tokenizer.json', 'model.vocab', 'not an object').message,
    );
  });

  test('a newly registered family crosses too: subclass, base class and every plain field', async () => {
    const e = await thrownAcross(() => {
      throw new TestCpuError('out-of-memory', 'cpu', 'no room for 2 GB');
    });
    expect(e).toBeInstanceOf(TestCpuError);
    expect(e).toBeInstanceOf(TestEngineError);
    expect(e).toMatchObject({ name: 'TestCpuError', code: 'out-of-memory', engine: 'cpu' });
    expect((e as TestCpuError).threads).toBe(4);
  });

  test('an unregistered error arrives as an Error with its name and plain fields', async () => {
    class Stranger extends Error {
      override readonly name = 'Stranger';
      readonly code = 'odd';
      readonly when = 12;
      readonly hidden = { nested: true }; // not a plain value: stays behind
    }
    const e = await thrownAcross(() => {
      throw new Stranger('who?');
    });
    expect(e).toBeInstanceOf(Error);
    expect(e).not.toBeInstanceOf(Stranger);
    expect(e).toMatchObject({ name: 'Stranger', message: 'who?', code: 'odd', when: 12 });
    expect((e as { hidden?: unknown }).hidden).toBe(undefined);
  });

  test('a thrown non-error arrives as it was thrown', async () => {
    expect(
      await thrownAcross(() => {
        throw { reason: 'plain' };
      }),
    ).toEqual({ reason: 'plain' });
  });
});
