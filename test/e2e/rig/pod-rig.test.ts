// The rig's pure parts; the namespaces themselves are covered by test/e2e/rig.test.ts.
import { describe, expect, it } from 'vitest';
import { hostsFile } from './netns-plumbing.js';
import { PodRig, type PodSpec } from './pod-rig.js';

describe('hostsFile', () => {
  it('maps every service name form to its VIP and the pod name to its IP', () => {
    const vips = new Map([
      ['reviews', '10.96.0.10'],
      ['ratings', '10.96.0.11'],
    ]);
    expect(hostsFile('reviews-v2', '10.244.0.12', vips)).toBe(
      [
        '127.0.0.1 localhost',
        '10.244.0.12 reviews-v2',
        '10.96.0.10 reviews reviews.default reviews.default.svc reviews.default.svc.cluster.local',
        '10.96.0.11 ratings ratings.default ratings.default.svc ratings.default.svc.cluster.local',
        '',
      ].join('\n'),
    );
  });
});

describe('PodRig.up input checks (before anything is created)', () => {
  const bad: Array<{ name: string; pods: PodSpec[] }> = [
    { name: 'no pods', pods: [] },
    { name: 'upper-case pod name', pods: [{ name: 'Reviews', service: 'reviews' }] },
    { name: 'pod named node', pods: [{ name: 'node', service: 'node' }] },
    { name: 'bad service name', pods: [{ name: 'a', service: 'b_c' }] },
    { name: 'duplicate pod', pods: [{ name: 'a', service: 'a' }, { name: 'a', service: 'b' }] },
    { name: 'ip outside the pod range', pods: [{ name: 'a', service: 'a', ip: '10.0.0.5' }] },
    { name: 'bridge ip', pods: [{ name: 'a', service: 'a', ip: '10.244.0.1' }] },
    { name: 'duplicate ip', pods: [{ name: 'a', service: 'a', ip: '10.244.0.20' }, { name: 'b', service: 'b', ip: '10.244.0.20' }] },
  ];
  it.each(bad)('rejects $name', async ({ pods }) => {
    await expect(new PodRig().up(pods)).rejects.toThrow(RangeError);
  });

  it('gives each rig its own prefix', () => {
    const prefixes = new Set(Array.from({ length: 20 }, () => new PodRig().prefix));
    for (const p of prefixes) expect(p).toMatch(/^mlt[0-9a-f]{4}-$/);
    expect(prefixes.size).toBeGreaterThan(1);
  });
});
