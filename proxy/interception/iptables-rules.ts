// The pod's nat rule set, in the one place that emits it: the e2e rig, the
// Kubernetes init container and `meshlet iptables` all run interceptionScript,
// so the interception a test proves is the interception we ship. It owns four
// chains and two jumps, and nothing else in the table is ever flushed or
// edited (Docker's 127.0.0.11 DNS rules, a CNI's rules survive).
//
import { isIP } from 'node:net';

// Shape and order follow what Istio's `istio-iptables` produces for the
// injector's default istio-init arguments (REDIRECT mode, all inbound ports,
// no DNS capture); see reference/pod-rig.md for the golden set. IPv6 gets the
// same chains and rules from ip6tables, as istio-iptables writes them for a
// dual-stack pod: ::1 for loopback, ::6 for the inbound passthrough source,
// each family's own CIDRs from the include/exclude lists.

/** Whether the script also writes the ip6tables twin: 'auto' = when the namespace has a routable IPv6 address. */
export type Ipv6Mode = 'auto' | 'on' | 'off';
export const IPV6_MODES: readonly Ipv6Mode[] = ['auto', 'on', 'off'];

export interface InterceptionOptions {
  /** Where outbound TCP of the app is redirected (Istio: 15001). */
  readonly outboundPort: number;
  /** Where inbound TCP to the pod is redirected (Istio: 15006). */
  readonly inboundPort: number;
  /** The proxy's uid: its own connections are never captured (Istio: 1337). */
  readonly proxyUid: number;
  /** The proxy's gid, skipped the same way as the uid. */
  readonly proxyGid: number;
  /** Inbound ports reached directly, not through the proxy (15090, 15021, 15020, admin). */
  readonly excludeInboundPorts: readonly number[];
  /**
   * Inbound tunnel port that Istio always leaves alone (HBONE, 15008). Kept so
   * the rule set stays identical to Istio's; null drops both rules using it.
   */
  readonly inboundTunnelPort?: number | null;
  /** Inbound ports redirected to the proxy; '*' (default) = all but the excluded ones; [] = no inbound capture (Istio --include-inbound-ports). */
  readonly includeInboundPorts?: readonly number[] | '*';
  /** Outbound destination ports not captured (Istio's excludeOutboundPorts). */
  readonly excludeOutboundPorts?: readonly number[];
  /** Outbound destination CIDRs not captured (excludeOutboundIPRanges). */
  readonly excludeOutboundIpRanges?: readonly string[];
  /** Only these outbound CIDRs are captured (includeOutboundIPRanges); absent, [] or ["*"] = all. */
  readonly includeOutboundIpRanges?: readonly string[];
  /** Further uids whose outbound traffic is never captured (Istio --exclude-uids, e.g. a debugger or a DNS cache). */
  readonly excludeUids?: readonly number[];
  /**
   * The ip6tables twin (default 'auto'): without it a dual-stack pod's IPv6
   * connections bypass the sidecar. 'auto' writes it when the namespace has
   * a routable (global or ULA) IPv6 address, as istio-iptables does for a pod
   * with an IPv6 address, and then fails if ip6tables is missing rather than
   * leave IPv6 open; 'on' always (Istio's --dual-stack); 'off' never.
   */
  readonly ipv6?: Ipv6Mode;
}

type Family = 4 | 6;
/** What differs between the two families' rule sets. */
const FAMILY = {
  4: { loopback: '127.0.0.1/32', passthrough: '127.0.0.6/32', cmd: 'iptables', heredoc: 'MESHLET_RULES' },
  6: { loopback: '::1/128', passthrough: '::6/128', cmd: 'ip6tables', heredoc: 'MESHLET_RULES6' },
} as const;

/** The address family of an IP or CIDR (validated before). */
function familyOf(cidr: string): Family {
  return isIP(cidr.split('/')[0] ?? '') === 6 ? 6 : 4;
}

/** The chains this module creates: the only ones it ever flushes or deletes. */
export const OWN_CHAINS = ['ISTIO_INBOUND', 'ISTIO_IN_REDIRECT', 'ISTIO_OUTPUT', 'ISTIO_REDIRECT'] as const;
/** The jumps from built-in chains it adds (each at most once); cleanup removes exactly these. */
const JUMPS = { inbound: ['PREROUTING', '-p', 'tcp', '-j', 'ISTIO_INBOUND'], outbound: ['OUTPUT', '-j', 'ISTIO_OUTPUT'] } as const;

/** Istio's injector defaults, for callers that just want "what istio-init does". */
export const ISTIO_DEFAULT_INTERCEPTION: InterceptionOptions = Object.freeze({
  outboundPort: 15001,
  inboundPort: 15006,
  proxyUid: 1337,
  proxyGid: 1337,
  excludeInboundPorts: Object.freeze([15090, 15021, 15020]),
  inboundTunnelPort: 15008,
});

/** Source address the proxy uses for inbound passthrough to the app (Istio's 127.0.0.6; ::6 over IPv6). */
export const INBOUND_PASSTHROUGH_SOURCE = '127.0.0.6';

// The multiport match takes at most 15 ports per rule.
const MULTIPORT_MAX = 15;

function checkPort(name: string, port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(`interceptionRules: ${name} must be an integer port 1..65535, got ${String(port)}`);
  }
}

function checkCidr(name: string, cidr: string): void {
  const [addr, bits, extra] = cidr.split('/');
  const family = isIP(addr ?? '');
  const max = family === 6 ? 128 : 32;
  const n = bits === undefined ? max : Number(bits);
  if (family === 0 || extra !== undefined || !Number.isInteger(n) || n < 0 || n > max || (bits !== undefined && !/^\d+$/.test(bits))) {
    throw new RangeError(`interceptionRules: ${name} must be an IP or CIDR, got "${cidr}"`);
  }
}

function checkId(name: string, id: number): void {
  if (!Number.isInteger(id) || id < 0 || id > 0xfffffffe) {
    throw new RangeError(`interceptionRules: ${name} must be a non-negative integer, got ${String(id)}`);
  }
}

/**
 * The whole rule set in `iptables-save` form (`*nat` … `COMMIT`): what the nat
 * table of a fresh pod holds once `interceptionScript` ran (family 6: what
 * `ip6tables-save` shows), and what is compared with Istio's golden files. Do
 * not load it with a flushing `iptables-restore` on a machine with other
 * rules: use interceptionScript, which touches only this module's chains.
 * Throws RangeError on invalid options.
 */
export function interceptionRules(opts: InterceptionOptions, family: Family = 4): string {
  const { excluded, tunnel } = validate(opts);
  return interceptionText(opts, excluded, tunnel, family);
}

function validate(opts: InterceptionOptions): { excluded: number[]; tunnel: number | null } {
  checkPort('outboundPort', opts.outboundPort);
  checkPort('inboundPort', opts.inboundPort);
  checkId('proxyUid', opts.proxyUid);
  checkId('proxyGid', opts.proxyGid);
  const tunnel = opts.inboundTunnelPort === undefined ? 15008 : opts.inboundTunnelPort;
  if (tunnel !== null) checkPort('inboundTunnelPort', tunnel);
  // Dedupe but keep the caller's order: the text is compared against goldens.
  const excluded: number[] = [];
  for (const p of opts.excludeInboundPorts) {
    checkPort('excludeInboundPorts[]', p);
    if (!excluded.includes(p)) excluded.push(p);
  }
  for (const p of [opts.outboundPort, opts.inboundPort]) {
    // Excluding the proxy's own listener would let inbound traffic skip it silently.
    if (excluded.includes(p)) throw new RangeError(`interceptionRules: port ${p} is a proxy listener and cannot be excluded`);
  }
  for (const p of opts.excludeOutboundPorts ?? []) checkPort('excludeOutboundPorts[]', p);
  if (opts.includeInboundPorts !== undefined && opts.includeInboundPorts !== '*') for (const p of opts.includeInboundPorts) checkPort('includeInboundPorts[]', p);
  for (const c of opts.excludeOutboundIpRanges ?? []) checkCidr('excludeOutboundIpRanges[]', c);
  for (const c of opts.includeOutboundIpRanges ?? []) if (c !== '*') checkCidr('includeOutboundIpRanges[]', c);
  for (const u of opts.excludeUids ?? []) checkId('excludeUids[]', u);
  if (opts.ipv6 !== undefined && !IPV6_MODES.includes(opts.ipv6)) throw new RangeError(`interceptionRules: ipv6 must be one of ${IPV6_MODES.join(', ')}, got "${String(opts.ipv6)}"`);
  return { excluded, tunnel };
}

function interceptionText(opts: InterceptionOptions, excluded: readonly number[], tunnel: number | null, family: Family): string {
  const { jumps, rules } = ruleLines(opts, excluded, tunnel, family);
  const lines: string[] = [
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':INPUT ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    ...OWN_CHAINS.map((c) => `:${c} - [0:0]`),
    ...jumps.map((j) => `-A ${j.join(' ')}`),
    ...rules,
    'COMMIT',
    '',
  ];
  return lines.join('\n');
}

function portMatches(ports: readonly number[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < ports.length; i += MULTIPORT_MAX) {
    const chunk = ports.slice(i, i + MULTIPORT_MAX);
    out.push(chunk.length === 1 ? `-m tcp --dport ${chunk[0]}` : `-m multiport --dports ${chunk.join(',')}`);
  }
  return out;
}

/** The jumps from built-in chains, and the rules of this module's own chains, in Istio's order. */
function ruleLines(opts: InterceptionOptions, excluded: readonly number[], tunnel: number | null, family: Family): { jumps: string[][]; rules: string[] } {
  const f = FAMILY[family];
  const uid = String(opts.proxyUid);
  const gid = String(opts.proxyGid);
  const notTunnel = tunnel === null ? '' : ` ! --dport ${tunnel}`;
  const includeIn = opts.includeInboundPorts ?? '*';
  const includeAll = (opts.includeOutboundIpRanges ?? []).length === 0 || (opts.includeOutboundIpRanges ?? []).includes('*');
  // Each family gets its own CIDRs (Istio splits the lists the same way): a
  // list naming only IPv4 ranges captures no IPv6 at all, and the reverse.
  const includeOut = includeAll ? [] : (opts.includeOutboundIpRanges ?? []).filter((c) => familyOf(c) === family);
  const jumps: string[][] = [];
  const rules: string[] = [];
  if (includeIn === '*' || includeIn.length > 0) jumps.push([...JUMPS.inbound]);
  jumps.push([...JUMPS.outbound]);
  if (includeIn === '*') {
    if (tunnel !== null) rules.push(`-A ISTIO_INBOUND -p tcp -m tcp --dport ${tunnel} -j RETURN`);
    for (const m of portMatches(excluded)) rules.push(`-A ISTIO_INBOUND -p tcp ${m} -j RETURN`);
    rules.push('-A ISTIO_INBOUND -p tcp -j ISTIO_IN_REDIRECT');
  } else {
    // Only the listed ports (Istio's -b list): each one goes to the proxy, the rest stays direct.
    for (const p of includeIn) if (!excluded.includes(p)) rules.push(`-A ISTIO_INBOUND -p tcp -m tcp --dport ${p} -j ISTIO_IN_REDIRECT`);
  }
  rules.push(`-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports ${opts.inboundPort}`);
  rules.push(
    // The proxy's inbound passthrough to the app comes from 127.0.0.6 (::6): leave it be.
    `-A ISTIO_OUTPUT -s ${f.passthrough} -o lo -j RETURN`,
    // The proxy dialling its own pod's IP (a call to its own service) must come
    // back in through the inbound listener, hence the hairpin to IN_REDIRECT.
    `-A ISTIO_OUTPUT ! -d ${f.loopback} -o lo -p tcp -m tcp${notTunnel} -m owner --uid-owner ${uid} -j ISTIO_IN_REDIRECT`,
    `-A ISTIO_OUTPUT -o lo -m owner ! --uid-owner ${uid} -j RETURN`,
    `-A ISTIO_OUTPUT -m owner --uid-owner ${uid} -j RETURN`,
    `-A ISTIO_OUTPUT ! -d ${f.loopback} -o lo -p tcp -m tcp${notTunnel} -m owner --gid-owner ${gid} -j ISTIO_IN_REDIRECT`,
    `-A ISTIO_OUTPUT -o lo -m owner ! --gid-owner ${gid} -j RETURN`,
    `-A ISTIO_OUTPUT -m owner --gid-owner ${gid} -j RETURN`,
  );
  for (const u of opts.excludeUids ?? []) rules.push(`-A ISTIO_OUTPUT -m owner --uid-owner ${u} -j RETURN`);
  rules.push(`-A ISTIO_OUTPUT -d ${f.loopback} -j RETURN`);
  // Outbound exclusions, placed as istio-iptables places them: after the owner
  // rules, before the catch-all redirect. Without them the text is unchanged.
  for (const p of opts.excludeOutboundPorts ?? []) rules.push(`-A ISTIO_OUTPUT -p tcp -m tcp --dport ${p} -j RETURN`);
  for (const c of opts.excludeOutboundIpRanges ?? []) if (familyOf(c) === family) rules.push(`-A ISTIO_OUTPUT -d ${c} -j RETURN`);
  if (includeAll) rules.push('-A ISTIO_OUTPUT -j ISTIO_REDIRECT');
  else {
    for (const c of includeOut) rules.push(`-A ISTIO_OUTPUT -d ${c} -j ISTIO_REDIRECT`);
    rules.push('-A ISTIO_OUTPUT -j RETURN');
  }
  rules.push(`-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports ${opts.outboundPort}`);
  return { jumps, rules };
}

/**
 * `sh` test that is true when the namespace has a routable IPv6 address
 * (scope global, ULAs included; column 4 of /proc/net/if_inet6): loopback ::1
 * and fe80:: link-local alone, which every IPv4-only pod with IPv6 in its
 * kernel has, carry no app traffic worth a rule set (and ::1 is excluded anyway).
 */
const HAS_IPV6 = `awk '$4 == "00" { found = 1 } END { exit !found }' /proc/net/if_inet6 2>/dev/null`;

/**
 * The interception as a POSIX sh script that touches only what it owns: it
 * (re)fills this module's four chains with `iptables-restore --noflush`
 * (declaring a chain there empties that chain and nothing else) and adds each
 * jump from PREROUTING/OUTPUT only if it is not there yet; then the same for
 * ip6tables (see InterceptionOptions.ipv6). Idempotent: run it twice and the
 * tables are the same. Other rules (Docker's 127.0.0.11 DNS NAT, a CNI's) are
 * never flushed or edited. The pod rig and the Kubernetes init container run
 * this very script; `meshlet iptables --apply` runs it with sh.
 */
export function interceptionScript(opts: InterceptionOptions): string {
  const { excluded, tunnel } = validate(opts);
  const lines = ['set -e', ...familyScript(opts, excluded, tunnel, 4)];
  const v6 = familyScript(opts, excluded, tunnel, 6);
  const mode = opts.ipv6 ?? 'auto';
  if (mode === 'on') lines.push(...v6);
  else if (mode === 'auto') lines.push(`if ${HAS_IPV6}; then`, ...v6, 'fi');
  return `${lines.join('\n')}\n`;
}

function familyScript(opts: InterceptionOptions, excluded: readonly number[], tunnel: number | null, family: Family): string[] {
  const f = FAMILY[family];
  const { jumps, rules } = ruleLines(opts, excluded, tunnel, family);
  const table = ['*nat', ...OWN_CHAINS.map((c) => `:${c} - [0:0]`), ...rules, 'COMMIT'].join('\n');
  const lines = [`${f.cmd}-restore --noflush <<'${f.heredoc}'`, table, f.heredoc];
  for (const j of Object.values(JUMPS)) {
    const rule = j.join(' ');
    if (jumps.some((x) => x.join(' ') === rule)) lines.push(`${f.cmd} -t nat -C ${rule} 2>/dev/null || ${f.cmd} -t nat -A ${rule}`);
    // A re-run with fewer captures (e.g. --include-inbound-ports '') drops the jump an earlier run added.
    else lines.push(`while ${f.cmd} -t nat -C ${rule} 2>/dev/null; do ${f.cmd} -t nat -D ${rule}; done`);
  }
  return lines;
}

/**
 * Removes exactly what interceptionScript added: its jumps (every copy), then
 * its chains, in both families (IPv6 only where ip6tables exists). Safe to run
 * when nothing was applied. Nothing else is touched.
 */
export function cleanupScript(): string {
  const family = (cmd: string): string[] => {
    const lines: string[] = [];
    for (const j of Object.values(JUMPS)) {
      const rule = j.join(' ');
      lines.push(`while ${cmd} -t nat -C ${rule} 2>/dev/null; do ${cmd} -t nat -D ${rule}; done`);
    }
    for (const c of OWN_CHAINS) lines.push(`${cmd} -t nat -F ${c} 2>/dev/null || true`);
    for (const c of OWN_CHAINS) lines.push(`${cmd} -t nat -X ${c} 2>/dev/null || true`);
    return lines;
  };
  const lines = [...family('iptables'), 'if command -v ip6tables >/dev/null 2>&1; then', ...family('ip6tables'), 'fi'];
  return `${lines.join('\n')}\n`;
}
