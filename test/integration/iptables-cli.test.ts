// `meshlet iptables` (the built CLI): every Istio knob is a flag that reaches
// the rules module, bad values are refused in one line, print mode is the
// same script --apply runs, and a reader that stops reading (| head, a
// missing command) never gets a stack trace. Applying for real is
// test/e2e/scenarios/iptables-apply.test.ts (needs root and a namespace).
import { spawn, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cleanupScript, interceptionRules, interceptionScript, ISTIO_DEFAULT_INTERCEPTION } from '../../proxy/interception/index.js';
import { BIN } from '../support/meshlet-process.js';

const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, 'iptables', ...args], { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '' } });

describe('meshlet iptables', () => {
  it('prints the idempotent script by default, with every flag passed to the rules module', () => {
    expect(cli().stdout).toBe(interceptionScript(ISTIO_DEFAULT_INTERCEPTION));
    const r = cli(
      '--include-inbound-ports=9080,9090', '--exclude-inbound-ports', '15090,15021,15020,9999',
      '--include-outbound-ip-ranges', '10.0.0.0/8,192.168.0.0/16', '--exclude-outbound-ip-ranges=10.96.0.0/12',
      '--exclude-outbound-ports', '5432, 6379', '--exclude-uids', '101', '--proxy-uid', '1500', '--proxy-gid', '1501',
      '--outbound-port', '25001', '--inbound-port', '25006',
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(
      interceptionScript({
        outboundPort: 25001, inboundPort: 25006, proxyUid: 1500, proxyGid: 1501, inboundTunnelPort: 15008,
        includeInboundPorts: [9080, 9090], excludeInboundPorts: [15090, 15021, 15020, 9999],
        includeOutboundIpRanges: ['10.0.0.0/8', '192.168.0.0/16'], excludeOutboundIpRanges: ['10.96.0.0/12'],
        excludeOutboundPorts: [5432, 6379], excludeUids: [101],
      }),
    );
  });

  it('reads the knobs from MESHLET_* too (an init container configured by env)', () => {
    const r = spawnSync(process.execPath, [BIN, 'iptables'], { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '', MESHLET_EXCLUDE_OUTBOUND_PORTS: '3306', MESHLET_INCLUDE_INBOUND_PORTS: '' } });
    expect(r.stdout).toBe(interceptionScript({ ...ISTIO_DEFAULT_INTERCEPTION, excludeOutboundPorts: [3306], includeInboundPorts: [] }));
  });

  it('--format iptables-save prints the resulting nat table; --cleanup prints the removal script', () => {
    expect(cli('--format', 'iptables-save').stdout).toBe(interceptionRules(ISTIO_DEFAULT_INTERCEPTION));
    expect(cli('--cleanup').stdout).toBe(cleanupScript());
  });

  it('--ipv6 auto|on|off (also MESHLET_IPV6) chooses the ip6tables twin; --format ip6tables-save prints its table', () => {
    expect(cli('--ipv6', 'on', '--exclude-outbound-ip-ranges', 'fd00::/8').stdout).toBe(interceptionScript({ ...ISTIO_DEFAULT_INTERCEPTION, ipv6: 'on', excludeOutboundIpRanges: ['fd00::/8'] }));
    const off = spawnSync(process.execPath, [BIN, 'iptables'], { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '', MESHLET_IPV6: 'off' } });
    expect(off.stdout).toBe(interceptionScript({ ...ISTIO_DEFAULT_INTERCEPTION, ipv6: 'off' }));
    expect(off.stdout).not.toContain('ip6tables');
    expect(cli('--format', 'ip6tables-save').stdout).toBe(interceptionRules(ISTIO_DEFAULT_INTERCEPTION, 6));
  });

  it.each([
    [['--exclude-outbound-ip-ranges', '10.0.0.0/8;reboot'], /excludeOutboundIpRanges\[\] must be an IP or CIDR/],
    [['--exclude-inbound-ports', '15006'], /port 15006 is a proxy listener and cannot be excluded/],
    [['--exclude-uids', 'root'], /exclude-uids/],
    [['--format', 'json'], /--format must be script, iptables-save or ip6tables-save/],
    [['--ipv6', 'maybe'], /--ipv6 must be one of auto, on, off, got "maybe"/],
    [['--exclude-outbund-ports', '1'], /did you mean `--exclude-outbound-ports`/],
  ])('refuses %j in one line, exit 2, printing no rules', (args, why) => {
    const r = cli(...args);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(why);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a reader that stops reading (EPIPE) ends it quietly: no stack trace', async () => {
    for (let i = 0; i < 3; i++) {
      const child = spawn(process.execPath, [BIN, 'iptables', '--format', 'iptables-save'], { stdio: ['ignore', 'pipe', 'pipe'] });
      // Closed before the CLI writes: its write fails with EPIPE, as with `| head -0` or a missing command.
      child.stdout.destroy();
      let err = '';
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
      expect(err).toBe('');
      expect(code).toBe(0);
    }
  });

  it('`meshlet iptables | head -1` through a real shell pipeline prints one line and no error', () => {
    const r = spawnSync('/bin/sh', ['-c', `"${process.execPath}" "${BIN}" iptables | head -1; "${process.execPath}" "${BIN}" iptables | nonexistent-command-meshlet 2>/dev/null; exit 0`], { encoding: 'utf8' });
    expect(r.stdout).toBe('set -e\n');
    expect(r.stderr).toBe('');
  });
});
