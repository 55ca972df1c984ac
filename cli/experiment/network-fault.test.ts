// Network fault rules: exactly what goes into the filter table for each kind,
// each rule inert after the expiry; apply/revert call sequences through a
// recording runner (the real iptables runs in test/e2e/scenarios/experiment-network.test.ts).
import { describe, expect, it } from 'vitest';
import { parseExperiment } from './experiment-schema.js';
import { networkFaultRules, networkFaultTarget, describeNetworkFault, type NetworkFault } from './network-fault.js';

const AT = Date.UTC(2026, 11, 1, 21, 0, 0, 400);
const TIME = ['-m', 'time', '--datestop', '2026-12-01T21:00:01'];

describe('networkFaultRules', () => {
  it('kill: resets connections others open, on the given original ports', () => {
    expect(networkFaultRules({ kill: true, ports: [9080, 9443] }, AT)).toEqual([
      ['-A', 'MESHLET_FAULT_IN', '-p', 'tcp', '-m', 'conntrack', '--ctdir', 'ORIGINAL', '--ctorigdstport', '9080', ...TIME, '-j', 'REJECT', '--reject-with', 'tcp-reset'],
      ['-A', 'MESHLET_FAULT_IN', '-p', 'tcp', '-m', 'conntrack', '--ctdir', 'ORIGINAL', '--ctorigdstport', '9443', ...TIME, '-j', 'REJECT', '--reject-with', 'tcp-reset'],
    ]);
  });

  it('drop: a random share on every port but the observation ports; partition: both directions', () => {
    expect(networkFaultRules({ drop: { percentage: 25 }, partition: { peers: ['10.244.0.10', '10.1.0.0/16'] } }, AT)).toEqual([
      ['-A', 'MESHLET_FAULT_IN', '-p', 'tcp', '-m', 'conntrack', '--ctdir', 'ORIGINAL', '-m', 'multiport', '!', '--dports', '15000,15020,15021,15090', '-m', 'statistic', '--mode', 'random', '--probability', '0.250000', ...TIME, '-j', 'DROP'],
      ['-A', 'MESHLET_FAULT_IN', '-s', '10.244.0.10', ...TIME, '-j', 'DROP'],
      ['-A', 'MESHLET_FAULT_OUT', '-d', '10.244.0.10', ...TIME, '-j', 'DROP'],
      ['-A', 'MESHLET_FAULT_IN', '-s', '10.1.0.0/16', ...TIME, '-j', 'DROP'],
      ['-A', 'MESHLET_FAULT_OUT', '-d', '10.1.0.0/16', ...TIME, '-j', 'DROP'],
    ]);
    expect(describeNetworkFault({ netns: 'p1', drop: { percentage: 25 } })).toBe('drop 25% of inbound packets on every inbound TCP port but 15000, 15020, 15021, 15090 in network namespace p1');
  });
});

describe('networkFaultTarget', () => {
  const recording = (fail: (tool: string, argv: readonly string[]) => boolean = () => false) => {
    const calls: string[] = [];
    const inputs: string[] = [];
    const run = async (tool: string, argv: readonly string[], input?: string) => {
      calls.push(`${tool} ${argv.join(' ')}`);
      if (input !== undefined) inputs.push(input);
      // -C / -S / -F / -X on absent chains fail, as iptables does.
      const absent = tool === 'iptables' && ['-C', '-S', '-F', '-X'].includes(argv[0]!);
      return { code: absent || fail(tool, argv) ? 1 : 0, stderr: fail(tool, argv) ? 'Permission denied (you must be root)' : '' };
    };
    return { calls, inputs, run };
  };
  const f: NetworkFault = { kill: true, ports: [9080] };

  it('apply loads our chains in one batch, then jumps first in INPUT/OUTPUT; revert removes them; a policy step is a no-op', async () => {
    const r = recording();
    const t = networkFaultTarget(f, r.run);
    expect((await t.apply(5000, false)).version).toBe('network: no fault');
    expect(r.calls).toEqual([]);
    await t.apply(5000, true);
    expect(r.calls).toEqual([
      'iptables-restore --noflush',
      'iptables -C INPUT -j MESHLET_FAULT_IN',
      'iptables -I INPUT 1 -j MESHLET_FAULT_IN',
      'iptables -C OUTPUT -j MESHLET_FAULT_OUT',
      'iptables -I OUTPUT 1 -j MESHLET_FAULT_OUT',
    ]);
    expect(r.inputs[0]).toMatch(/^\*filter\n:MESHLET_FAULT_IN - \[0:0\]\n:MESHLET_FAULT_OUT - \[0:0\]\n-A MESHLET_FAULT_IN .*--ctorigdstport 9080 .*REJECT --reject-with tcp-reset\nCOMMIT\n$/);
    r.calls.length = 0;
    await t.revert();
    expect(r.calls).toEqual(['-C INPUT -j MESHLET_FAULT_IN', '-C OUTPUT -j MESHLET_FAULT_OUT', '-F MESHLET_FAULT_IN', '-X MESHLET_FAULT_IN', '-F MESHLET_FAULT_OUT', '-X MESHLET_FAULT_OUT', '-S MESHLET_FAULT_IN'].map((c) => `iptables ${c}`));
  });

  it('without the rights, apply fails naming the command and cleans up', async () => {
    const r = recording((tool) => tool === 'iptables-restore');
    await expect(networkFaultTarget(f, r.run).apply(5000, true)).rejects.toThrow(/iptables-restore --noflush: .*Permission denied.*CAP_NET_ADMIN/);
    expect(r.calls.slice(-4)).toEqual(['-F MESHLET_FAULT_IN', '-X MESHLET_FAULT_IN', '-F MESHLET_FAULT_OUT', '-X MESHLET_FAULT_OUT'].map((c) => `iptables ${c}`));
  });
});

describe('experiment schema: fault.network', () => {
  const doc = (network: string): string => `apiVersion: meshlet.io/v1alpha1
kind: Experiment
metadata: { name: x }
spec:
  target: { host: server }
  fault: { network: ${network} }
  load: { via: 127.0.0.1:15001, host: server, rate: 5 }
  phases: { baseline: 1s, inject: 1s, recover: 1s }
  hypothesis: { successRate: { min: 0.9 } }
`;
  const errors = (n: string): string => {
    const r = parseExperiment(doc(n), 'f.yaml');
    return r.ok ? '' : r.errors.join('\n');
  };
  it('accepts kill/drop/partition and refuses empty, both netns and pid, bad peers and unknown fields', () => {
    expect(errors('{ netns: mesh1-a, kill: true, ports: [9080] }')).toBe('');
    expect(errors('{ pid: 42, drop: { percentage: 30 } }')).toBe('');
    expect(errors('{ partition: { peers: [10.244.0.10, 10.0.0.0/8] } }')).toBe('');
    expect(errors('{ netns: a }')).toMatch(/spec\.fault\.network: needs kill: true, drop or partition/);
    expect(errors('{ netns: a, pid: 1, kill: true }')).toMatch(/netns or pid, not both/);
    expect(errors('{ partition: { peers: ["10.0.0.1; rm -rf /"] } }')).toMatch(/must be an IP or CIDR/);
    expect(errors('{ kill: true, delay: 1s }')).toMatch(/spec\.fault\.network.*delay/);
  });
});
