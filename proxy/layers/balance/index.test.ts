import { describe, expect, it } from 'vitest';
import type { LoadBalancerPolicy } from '../../config/model/index.js';
import { createPicker, LeastRequestPicker, MaglevPicker, RandomPicker, RingHashPicker, RoundRobinPicker } from './index.js';

const eps = [1, 2, 3].map((i) => ({ id: `10.0.0.${i}:80`, weight: 1, active: 0, available: true }));

describe('createPicker', () => {
  it.each<{ policy: LoadBalancerPolicy; type: unknown }>([
    { policy: { kind: 'round_robin' }, type: RoundRobinPicker },
    { policy: { kind: 'least_request' }, type: LeastRequestPicker },
    { policy: { kind: 'random' }, type: RandomPicker },
    { policy: { kind: 'ring_hash', hashKey: { kind: 'source_ip' }, tableSize: 1024 }, type: RingHashPicker },
    { policy: { kind: 'maglev', hashKey: { kind: 'source_ip' }, tableSize: 65537 }, type: MaglevPicker },
  ])('$policy.kind', ({ policy, type }) => {
    const p = createPicker(policy, eps);
    expect(p).toBeInstanceOf(type as new (...a: never[]) => unknown);
    expect(eps).toContain(p.pick(12345, undefined, false));
  });
});
