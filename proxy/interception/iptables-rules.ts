// The pod's nat rule set, in the one place that emits it: the e2e rig loads it
// today and a Kubernetes init container / CNI step must load the very same
// text later, so the interception a test proves is the interception we ship.
//
import { isIP } from 'node:net';

// Shape and order follow what Istio's `istio-iptables` produces for the
// injector's default istio-init arguments (REDIRECT mode, all inbound ports,
// IPv4, no DNS capture); see reference/pod-rig.md for the golden set.

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
  /** Outbound destination ports not captured (Istio's excludeOutboundPorts). */
  readonly excludeOutboundPorts?: readonly number[];
  /** Outbound destination CIDRs not captured (excludeOutboundIPRanges). */
  readonly excludeOutboundIpRanges?: readonly string[];
  /** Only these outbound CIDRs are captured (includeOutboundIPRanges); absent or ["*"] = all. */
  readonly includeOutboundIpRanges?: readonly string[];
}

/** Istio's injector defaults, for callers that just want "what istio-init does". */
export const ISTIO_DEFAULT_INTERCEPTION: InterceptionOptions = Object.freeze({
  outboundPort: 15001,
  inboundPort: 15006,
  proxyUid: 1337,
  proxyGid: 1337,
  excludeInboundPorts: Object.freeze([15090, 15021, 15020]),
  inboundTunnelPort: 15008,
});

/** Source address the proxy uses for inbound passthrough to the app (Istio's 127.0.0.6). */
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
 * `iptables-restore` input for the nat table (`*nat` … `COMMIT`), declaring the
 * four ISTIO_* chains it uses. Load it with `iptables-restore` (not `--noflush`)
 * so the table is replaced atomically. Throws RangeError on invalid options.
 */
export function interceptionRules(opts: InterceptionOptions): string {
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

  const uid = String(opts.proxyUid);
  const gid = String(opts.proxyGid);
  const notTunnel = tunnel === null ? '' : ` ! --dport ${tunnel}`;
  const lines: string[] = [
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':INPUT ACCEPT [0:0]',
    ':OUTPUT ACCEPT [0:0]',
    ':POSTROUTING ACCEPT [0:0]',
    ':ISTIO_INBOUND - [0:0]',
    ':ISTIO_IN_REDIRECT - [0:0]',
    ':ISTIO_OUTPUT - [0:0]',
    ':ISTIO_REDIRECT - [0:0]',
    '-A PREROUTING -p tcp -j ISTIO_INBOUND',
    '-A OUTPUT -j ISTIO_OUTPUT',
  ];
  if (tunnel !== null) lines.push(`-A ISTIO_INBOUND -p tcp -m tcp --dport ${tunnel} -j RETURN`);
  for (let i = 0; i < excluded.length; i += MULTIPORT_MAX) {
    const chunk = excluded.slice(i, i + MULTIPORT_MAX);
    lines.push(
      chunk.length === 1
        ? `-A ISTIO_INBOUND -p tcp -m tcp --dport ${chunk[0]} -j RETURN`
        : `-A ISTIO_INBOUND -p tcp -m multiport --dports ${chunk.join(',')} -j RETURN`,
    );
  }
  lines.push(
    '-A ISTIO_INBOUND -p tcp -j ISTIO_IN_REDIRECT',
    `-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports ${opts.inboundPort}`,
    // The proxy's inbound passthrough to the app comes from 127.0.0.6: leave it be.
    `-A ISTIO_OUTPUT -s ${INBOUND_PASSTHROUGH_SOURCE}/32 -o lo -j RETURN`,
    // The proxy dialling its own pod's IP (a call to its own service) must come
    // back in through the inbound listener, hence the hairpin to IN_REDIRECT.
    `-A ISTIO_OUTPUT ! -d 127.0.0.1/32 -o lo -p tcp -m tcp${notTunnel} -m owner --uid-owner ${uid} -j ISTIO_IN_REDIRECT`,
    `-A ISTIO_OUTPUT -o lo -m owner ! --uid-owner ${uid} -j RETURN`,
    `-A ISTIO_OUTPUT -m owner --uid-owner ${uid} -j RETURN`,
    `-A ISTIO_OUTPUT ! -d 127.0.0.1/32 -o lo -p tcp -m tcp${notTunnel} -m owner --gid-owner ${gid} -j ISTIO_IN_REDIRECT`,
    `-A ISTIO_OUTPUT -o lo -m owner ! --gid-owner ${gid} -j RETURN`,
    `-A ISTIO_OUTPUT -m owner --gid-owner ${gid} -j RETURN`,
    '-A ISTIO_OUTPUT -d 127.0.0.1/32 -j RETURN',
  );
  // Outbound exclusions, placed as istio-iptables places them: after the owner
  // rules, before the catch-all redirect. Without them the text is unchanged.
  for (const p of opts.excludeOutboundPorts ?? []) {
    checkPort('excludeOutboundPorts[]', p);
    lines.push(`-A ISTIO_OUTPUT -p tcp -m tcp --dport ${p} -j RETURN`);
  }
  for (const c of opts.excludeOutboundIpRanges ?? []) {
    checkCidr('excludeOutboundIpRanges[]', c);
    lines.push(`-A ISTIO_OUTPUT -d ${c} -j RETURN`);
  }
  const include = opts.includeOutboundIpRanges ?? [];
  if (include.length === 0 || include.includes('*')) lines.push('-A ISTIO_OUTPUT -j ISTIO_REDIRECT');
  else {
    for (const c of include) {
      checkCidr('includeOutboundIpRanges[]', c);
      lines.push(`-A ISTIO_OUTPUT -d ${c} -j ISTIO_REDIRECT`);
    }
    lines.push('-A ISTIO_OUTPUT -j RETURN');
  }
  lines.push(
    `-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports ${opts.outboundPort}`,
    'COMMIT',
    '',
  );
  return lines.join('\n');
}
