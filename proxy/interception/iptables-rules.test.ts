import { describe, expect, it } from 'vitest';
import { cleanupScript, interceptionRules, interceptionScript, ISTIO_DEFAULT_INTERCEPTION, OWN_CHAINS, type InterceptionOptions } from './index.js';

// What `istio-iptables -p 15001 -z 15006 -u 1337 -m REDIRECT -i '*' -x "" -b '*'
// -d 15090,15021,15020` emits for the nat table (reference/pod-rig.md).
const GOLDEN_RULES = `
-A PREROUTING -p tcp -j ISTIO_INBOUND
-A OUTPUT -j ISTIO_OUTPUT
-A ISTIO_INBOUND -p tcp -m tcp --dport 15008 -j RETURN
-A ISTIO_INBOUND -p tcp -m multiport --dports 15090,15021,15020 -j RETURN
-A ISTIO_INBOUND -p tcp -j ISTIO_IN_REDIRECT
-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15006
-A ISTIO_OUTPUT -s 127.0.0.6/32 -o lo -j RETURN
-A ISTIO_OUTPUT ! -d 127.0.0.1/32 -o lo -p tcp -m tcp ! --dport 15008 -m owner --uid-owner 1337 -j ISTIO_IN_REDIRECT
-A ISTIO_OUTPUT -o lo -m owner ! --uid-owner 1337 -j RETURN
-A ISTIO_OUTPUT -m owner --uid-owner 1337 -j RETURN
-A ISTIO_OUTPUT ! -d 127.0.0.1/32 -o lo -p tcp -m tcp ! --dport 15008 -m owner --gid-owner 1337 -j ISTIO_IN_REDIRECT
-A ISTIO_OUTPUT -o lo -m owner ! --gid-owner 1337 -j RETURN
-A ISTIO_OUTPUT -m owner --gid-owner 1337 -j RETURN
-A ISTIO_OUTPUT -d 127.0.0.1/32 -j RETURN
-A ISTIO_OUTPUT -j ISTIO_REDIRECT
-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001
`.trim().split('\n');

const CHAINS = [
  ':PREROUTING ACCEPT [0:0]',
  ':INPUT ACCEPT [0:0]',
  ':OUTPUT ACCEPT [0:0]',
  ':POSTROUTING ACCEPT [0:0]',
  ':ISTIO_INBOUND - [0:0]',
  ':ISTIO_IN_REDIRECT - [0:0]',
  ':ISTIO_OUTPUT - [0:0]',
  ':ISTIO_REDIRECT - [0:0]',
];

function ruleLines(text: string): string[] {
  return text.split('\n').filter((l) => l.startsWith('-A '));
}

describe('interceptionRules', () => {
  it('reproduces the istio-init golden rule set with Istio defaults', () => {
    const text = interceptionRules({
      outboundPort: 15001,
      inboundPort: 15006,
      proxyUid: 1337,
      proxyGid: 1337,
      excludeInboundPorts: [15090, 15021, 15020],
    });
    expect(text).toBe(['*nat', ...CHAINS, ...GOLDEN_RULES, 'COMMIT', ''].join('\n'));
    expect(interceptionRules(ISTIO_DEFAULT_INTERCEPTION)).toBe(text);
  });

  const cases: Array<{ name: string; opts: Partial<InterceptionOptions>; has: string[]; lacks: string[] }> = [
    {
      name: 'custom ports and ids',
      opts: { outboundPort: 4140, inboundPort: 4143, proxyUid: 2102, proxyGid: 2103 },
      has: [
        '-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 4140',
        '-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports 4143',
        '-A ISTIO_OUTPUT -m owner --uid-owner 2102 -j RETURN',
        '-A ISTIO_OUTPUT -m owner --gid-owner 2103 -j RETURN',
      ],
      lacks: ['--uid-owner 1337', '--to-ports 15001'],
    },
    {
      name: 'admin port added to the exclusions',
      opts: { excludeInboundPorts: [15090, 15021, 15020, 15000] },
      has: ['-A ISTIO_INBOUND -p tcp -m multiport --dports 15090,15021,15020,15000 -j RETURN'],
      lacks: [],
    },
    {
      name: 'single excluded port uses a plain tcp match',
      opts: { excludeInboundPorts: [15090] },
      has: ['-A ISTIO_INBOUND -p tcp -m tcp --dport 15090 -j RETURN'],
      lacks: ['multiport'],
    },
    {
      name: 'no exclusions',
      opts: { excludeInboundPorts: [] },
      has: [],
      lacks: ['multiport'],
    },
    {
      name: 'more than 15 exclusions are split across multiport rules',
      opts: { excludeInboundPorts: Array.from({ length: 17 }, (_, i) => 20000 + i) },
      has: [
        `-A ISTIO_INBOUND -p tcp -m multiport --dports ${Array.from({ length: 15 }, (_, i) => 20000 + i).join(',')} -j RETURN`,
        '-A ISTIO_INBOUND -p tcp -m multiport --dports 20015,20016 -j RETURN',
      ],
      lacks: [],
    },
    {
      name: 'tunnel port disabled',
      opts: { inboundTunnelPort: null },
      has: ['-A ISTIO_OUTPUT ! -d 127.0.0.1/32 -o lo -p tcp -m tcp -m owner --uid-owner 1337 -j ISTIO_IN_REDIRECT'],
      lacks: ['15008'],
    },
  ];

  it.each(cases)('$name', ({ opts, has, lacks }) => {
    const text = interceptionRules({ ...ISTIO_DEFAULT_INTERCEPTION, ...opts });
    const rules = ruleLines(text);
    for (const line of has) expect(rules).toContain(line);
    for (const frag of lacks) expect(text).not.toContain(frag);
    expect(text.startsWith('*nat\n')).toBe(true);
    expect(text.endsWith('COMMIT\n')).toBe(true);
    // Every chain jumped to is declared.
    for (const m of text.matchAll(/-j (ISTIO_\w+)/g)) expect(text).toContain(`:${m[1]} - [0:0]`);
  });

  it('dedupes excluded ports', () => {
    const rules = ruleLines(interceptionRules({ ...ISTIO_DEFAULT_INTERCEPTION, excludeInboundPorts: [15090, 15090, 15021] }));
    expect(rules).toContain('-A ISTIO_INBOUND -p tcp -m multiport --dports 15090,15021 -j RETURN');
  });

  const invalid: Array<{ name: string; opts: Partial<InterceptionOptions> }> = [
    { name: 'port 0', opts: { outboundPort: 0 } },
    { name: 'port too big', opts: { inboundPort: 70000 } },
    { name: 'fractional port', opts: { excludeInboundPorts: [15090.5] } },
    { name: 'negative uid', opts: { proxyUid: -1 } },
    { name: 'NaN gid', opts: { proxyGid: Number.NaN } },
    { name: 'excluding the inbound listener', opts: { excludeInboundPorts: [15006] } },
    { name: 'bad tunnel port', opts: { inboundTunnelPort: 0 } },
  ];
  it.each(invalid)('rejects $name', ({ opts }) => {
    expect(() => interceptionRules({ ...ISTIO_DEFAULT_INTERCEPTION, ...opts })).toThrow(RangeError);
  });
});

describe('interceptionRules: outbound exclusions (injector annotations)', () => {
  it('returns early for excluded ports and CIDRs, before the catch-all redirect', () => {
    const lines = ruleLines(interceptionRules({ ...ISTIO_DEFAULT_INTERCEPTION, excludeOutboundPorts: [5432], excludeOutboundIpRanges: ['10.96.0.0/12'] }));
    const at = (l: string): number => lines.indexOf(l);
    expect(at('-A ISTIO_OUTPUT -p tcp -m tcp --dport 5432 -j RETURN')).toBeGreaterThan(at('-A ISTIO_OUTPUT -d 127.0.0.1/32 -j RETURN'));
    expect(at('-A ISTIO_OUTPUT -d 10.96.0.0/12 -j RETURN')).toBeLessThan(at('-A ISTIO_OUTPUT -j ISTIO_REDIRECT'));
  });

  it('captures only included CIDRs when given', () => {
    const lines = ruleLines(interceptionRules({ ...ISTIO_DEFAULT_INTERCEPTION, includeOutboundIpRanges: ['10.0.0.0/8'] }));
    expect(lines).toContain('-A ISTIO_OUTPUT -d 10.0.0.0/8 -j ISTIO_REDIRECT');
    expect(lines).not.toContain('-A ISTIO_OUTPUT -j ISTIO_REDIRECT');
    expect(lines.at(-2)).toBe('-A ISTIO_OUTPUT -j RETURN');
  });

  it('refuses anything that is not an IP or CIDR (the values come from pod annotations)', () => {
    for (const bad of ['10.0.0.0/33', '10.0.0.0/8; reboot', 'example.com', '10.0.0.0/8/1', '']) {
      expect(() => interceptionRules({ ...ISTIO_DEFAULT_INTERCEPTION, excludeOutboundIpRanges: [bad] })).toThrow(RangeError);
    }
  });
});

// The script is what every caller runs (CLI --apply, init container, pod rig);
// test/e2e/scenarios/iptables-apply.test.ts runs it for real in a namespace.
describe('interceptionScript: touches only what it owns', () => {
  const script = interceptionScript(ISTIO_DEFAULT_INTERCEPTION);
  const heredoc = (text: string): string[] => {
    const lines = text.split('\n');
    return lines.slice(lines.indexOf("iptables-restore --noflush <<'MESHLET_RULES'") + 1, lines.indexOf('MESHLET_RULES'));
  };

  it('loads the same rules as the golden set into its own chains, without flushing the table', () => {
    const body = heredoc(script);
    expect(body[0]).toBe('*nat');
    expect(body.at(-1)).toBe('COMMIT');
    // Declares only its own chains: with --noflush, a declared chain is the only thing emptied.
    expect(body.filter((l) => l.startsWith(':'))).toEqual(OWN_CHAINS.map((c) => `:${c} - [0:0]`));
    // Every rule of the golden set except the two jumps, which are added one by one below.
    const jumps = ['-A PREROUTING -p tcp -j ISTIO_INBOUND', '-A OUTPUT -j ISTIO_OUTPUT'];
    expect(body.filter((l) => l.startsWith('-A '))).toEqual(GOLDEN_RULES.filter((l) => !jumps.includes(l)));
    expect(script.split('\n')).toContain("iptables-restore --noflush <<'MESHLET_RULES'");
  });

  it('adds each jump only when it is missing (idempotent), and never flushes or deletes a chain it does not own', () => {
    const lines = script.split('\n');
    expect(lines).toContain('iptables -t nat -C PREROUTING -p tcp -j ISTIO_INBOUND 2>/dev/null || iptables -t nat -A PREROUTING -p tcp -j ISTIO_INBOUND');
    expect(lines).toContain('iptables -t nat -C OUTPUT -j ISTIO_OUTPUT 2>/dev/null || iptables -t nat -A OUTPUT -j ISTIO_OUTPUT');
    for (const text of [script, cleanupScript()]) {
      for (const m of text.matchAll(/ -([FXZ]) (\S+)/g)) expect(OWN_CHAINS).toContain(m[2]);
      // -D only ever removes one of our two jumps.
      for (const m of text.matchAll(/ -D ([^;]+);/g)) expect(['PREROUTING -p tcp -j ISTIO_INBOUND', 'OUTPUT -j ISTIO_OUTPUT']).toContain(m[1]);
      expect(text).not.toMatch(/iptables-restore(?! --noflush)/);
    }
  });

  it('with no inbound capture (--include-inbound-ports ""), drops the inbound jump an earlier run added', () => {
    const lines = interceptionScript({ ...ISTIO_DEFAULT_INTERCEPTION, includeInboundPorts: [] }).split('\n');
    expect(lines).toContain('while iptables -t nat -C PREROUTING -p tcp -j ISTIO_INBOUND 2>/dev/null; do iptables -t nat -D PREROUTING -p tcp -j ISTIO_INBOUND; done');
    expect(heredoc(lines.join('\n')).filter((l) => l.startsWith('-A ISTIO_INBOUND'))).toEqual([]);
  });

  it('redirects only the listed inbound ports, and skips extra uids outbound (--include-inbound-ports, --exclude-uids)', () => {
    const body = heredoc(interceptionScript({ ...ISTIO_DEFAULT_INTERCEPTION, includeInboundPorts: [9080, 9090], excludeUids: [101, 0] }));
    expect(body.filter((l) => l.startsWith('-A ISTIO_INBOUND'))).toEqual([
      '-A ISTIO_INBOUND -p tcp -m tcp --dport 9080 -j ISTIO_IN_REDIRECT',
      '-A ISTIO_INBOUND -p tcp -m tcp --dport 9090 -j ISTIO_IN_REDIRECT',
    ]);
    const at = (l: string): number => body.indexOf(l);
    expect(at('-A ISTIO_OUTPUT -m owner --uid-owner 101 -j RETURN')).toBeGreaterThan(at('-A ISTIO_OUTPUT -m owner --gid-owner 1337 -j RETURN'));
    expect(at('-A ISTIO_OUTPUT -m owner --uid-owner 0 -j RETURN')).toBeLessThan(at('-A ISTIO_OUTPUT -j ISTIO_REDIRECT'));
  });

  it('validates before emitting anything a shell would run', () => {
    expect(() => interceptionScript({ ...ISTIO_DEFAULT_INTERCEPTION, excludeOutboundIpRanges: ['1.2.3.4/32; rm -rf /'] })).toThrow(RangeError);
    expect(() => interceptionScript({ ...ISTIO_DEFAULT_INTERCEPTION, excludeUids: [-1] })).toThrow(RangeError);
  });

  it('cleanup removes every copy of both jumps, then flushes and deletes exactly its four chains, in both families', () => {
    const family = (cmd: string): string[] => [
      `while ${cmd} -t nat -C PREROUTING -p tcp -j ISTIO_INBOUND 2>/dev/null; do ${cmd} -t nat -D PREROUTING -p tcp -j ISTIO_INBOUND; done`,
      `while ${cmd} -t nat -C OUTPUT -j ISTIO_OUTPUT 2>/dev/null; do ${cmd} -t nat -D OUTPUT -j ISTIO_OUTPUT; done`,
      ...OWN_CHAINS.map((c) => `${cmd} -t nat -F ${c} 2>/dev/null || true`),
      ...OWN_CHAINS.map((c) => `${cmd} -t nat -X ${c} 2>/dev/null || true`),
    ];
    expect(cleanupScript().trim().split('\n')).toEqual([...family('iptables'), 'if command -v ip6tables >/dev/null 2>&1; then', ...family('ip6tables'), 'fi']);
  });
});

// The ip6tables twin, as istio-iptables writes it for a dual-stack pod
// (testdata/ipv6-*.golden): same chains and order, ::1 for loopback, ::6 for
// the inbound passthrough source, each family's own CIDRs.
const GOLDEN_RULES_V6 = GOLDEN_RULES.map((l) => l.replace('127.0.0.6/32', '::6/128').replace('127.0.0.1/32', '::1/128'));

describe('IPv6: the ip6tables twin', () => {
  it('reproduces the golden rule set with ::1 and ::6', () => {
    expect(interceptionRules(ISTIO_DEFAULT_INTERCEPTION, 6)).toBe(['*nat', ...CHAINS, ...GOLDEN_RULES_V6, 'COMMIT', ''].join('\n'));
    expect(interceptionRules(ISTIO_DEFAULT_INTERCEPTION, 6)).not.toContain('127.0.0.');
  });

  it('inbound and outbound port knobs apply to both families', () => {
    const opts = { ...ISTIO_DEFAULT_INTERCEPTION, includeInboundPorts: [9080], excludeOutboundPorts: [5432], excludeUids: [101] };
    const v4 = ruleLines(interceptionRules(opts, 4));
    const v6 = ruleLines(interceptionRules(opts, 6));
    for (const l of ['-A ISTIO_INBOUND -p tcp -m tcp --dport 9080 -j ISTIO_IN_REDIRECT', '-A ISTIO_OUTPUT -p tcp -m tcp --dport 5432 -j RETURN', '-A ISTIO_OUTPUT -m owner --uid-owner 101 -j RETURN']) {
      expect(v4).toContain(l);
      expect(v6).toContain(l);
    }
    expect(v6.length).toBe(v4.length);
  });

  it('splits CIDR lists by family: each table gets only its own ranges (Istio)', () => {
    const opts = { ...ISTIO_DEFAULT_INTERCEPTION, excludeOutboundIpRanges: ['10.0.0.0/8', 'fd00:1::/64'], includeOutboundIpRanges: ['10.96.0.0/12', '2001:db8::/32'] };
    const v4 = ruleLines(interceptionRules(opts, 4));
    const v6 = ruleLines(interceptionRules(opts, 6));
    expect(v4.filter((l) => l.includes(' -d ') && !l.includes('127.0.0.1'))).toEqual(['-A ISTIO_OUTPUT -d 10.0.0.0/8 -j RETURN', '-A ISTIO_OUTPUT -d 10.96.0.0/12 -j ISTIO_REDIRECT']);
    expect(v6.filter((l) => l.includes(' -d ') && !l.includes('::1/128'))).toEqual(['-A ISTIO_OUTPUT -d fd00:1::/64 -j RETURN', '-A ISTIO_OUTPUT -d 2001:db8::/32 -j ISTIO_REDIRECT']);
  });

  it('an include list naming only IPv4 ranges captures no IPv6 (and the reverse)', () => {
    const v6 = ruleLines(interceptionRules({ ...ISTIO_DEFAULT_INTERCEPTION, includeOutboundIpRanges: ['10.0.0.0/8'] }, 6));
    expect(v6.filter((l) => l.includes('-j ISTIO_REDIRECT'))).toEqual([]);
    expect(v6.at(-2)).toBe('-A ISTIO_OUTPUT -j RETURN');
    const v4 = ruleLines(interceptionRules({ ...ISTIO_DEFAULT_INTERCEPTION, includeOutboundIpRanges: ['2001:db8::/32'] }, 4));
    expect(v4.filter((l) => l.includes('-j ISTIO_REDIRECT'))).toEqual([]);
  });

  const v6Part = (script: string): string[] => {
    const lines = script.split('\n');
    const start = lines.indexOf("ip6tables-restore --noflush <<'MESHLET_RULES6'");
    return start < 0 ? [] : lines.slice(start);
  };

  it('--ipv6 auto (default): the twin runs only when the namespace has a routable IPv6 address (not just ::1 or fe80::)', () => {
    const script = interceptionScript(ISTIO_DEFAULT_INTERCEPTION);
    expect(interceptionScript({ ...ISTIO_DEFAULT_INTERCEPTION, ipv6: 'auto' })).toBe(script);
    const lines = script.split('\n');
    const guard = lines.indexOf(`if awk '$4 == "00" { found = 1 } END { exit !found }' /proc/net/if_inet6 2>/dev/null; then`);
    expect(guard).toBeGreaterThan(lines.indexOf('MESHLET_RULES'));
    expect(lines[guard + 1]).toBe("ip6tables-restore --noflush <<'MESHLET_RULES6'");
    const body = v6Part(script);
    expect(body.slice(1, body.indexOf('MESHLET_RULES6')).filter((l) => l.startsWith('-A '))).toEqual(GOLDEN_RULES_V6.filter((l) => !l.startsWith('-A PREROUTING') && !l.startsWith('-A OUTPUT')));
    expect(body).toContain('ip6tables -t nat -C OUTPUT -j ISTIO_OUTPUT 2>/dev/null || ip6tables -t nat -A OUTPUT -j ISTIO_OUTPUT');
    expect(body).toContain('ip6tables -t nat -C PREROUTING -p tcp -j ISTIO_INBOUND 2>/dev/null || ip6tables -t nat -A PREROUTING -p tcp -j ISTIO_INBOUND');
    expect(lines.at(-2)).toBe('fi');
  });

  it('--ipv6 on writes the twin unconditionally (fails if ip6tables is missing); off writes none', () => {
    const on = interceptionScript({ ...ISTIO_DEFAULT_INTERCEPTION, ipv6: 'on' });
    expect(on).not.toContain('/proc/net/if_inet6');
    expect(v6Part(on).length).toBeGreaterThan(0);
    const off = interceptionScript({ ...ISTIO_DEFAULT_INTERCEPTION, ipv6: 'off' });
    expect(off).not.toContain('ip6tables');
    // The IPv4 part is the same whatever the IPv6 mode.
    expect(on.startsWith(off)).toBe(true);
  });

  it('refuses an unknown mode', () => {
    expect(() => interceptionScript({ ...ISTIO_DEFAULT_INTERCEPTION, ipv6: 'yes' as never })).toThrow(/ipv6 must be one of auto, on, off/);
  });
});
