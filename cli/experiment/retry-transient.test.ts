// Control-plane calls are retried on a missed deadline or an unavailable
// server, a bounded number of times, and never on a real refusal.
import { describe, expect, it } from 'vitest';
import { retryTransient } from './retry-transient.js';

const grpcError = (code: number): Error => Object.assign(new Error(`code ${code}`), { code });

describe('retryTransient', () => {
  it('retries DEADLINE_EXCEEDED / UNAVAILABLE and returns the first success', async () => {
    const codes = [4, 14];
    let calls = 0;
    const r = await retryTransient(async () => {
      calls++;
      const c = codes.shift();
      if (c !== undefined) throw grpcError(c);
      return 'ok';
    });
    expect(r).toBe('ok');
    expect(calls).toBe(3);
  });

  it('gives up after `tries`, and at once on INVALID_ARGUMENT or a non-gRPC error', async () => {
    let calls = 0;
    await expect(retryTransient(async () => (calls++, Promise.reject(grpcError(4))), 3)).rejects.toThrow('code 4');
    expect(calls).toBe(3);
    calls = 0;
    await expect(retryTransient(async () => (calls++, Promise.reject(grpcError(3))))).rejects.toThrow('code 3');
    expect(calls).toBe(1);
    calls = 0;
    await expect(retryTransient(async () => (calls++, Promise.reject(new Error('boom'))))).rejects.toThrow('boom');
    expect(calls).toBe(1);
  });
});
