// The rules of the model that JSON Schema cannot express, as pure functions.
// Each is used twice: by the zod schema's refinements (mesh-config-schema.ts,
// authorization-policy-model-schema.ts; the control plane and --config mode)
// and by the sidecar's post-check of a snapshot the generated validator
// accepted (snapshot-rules.ts). One implementation, so the two cannot differ.
// Each returns the reason a value breaks the rule, or undefined.

import { isIP } from 'node:net';

export const REDIRECT_STATUSES: readonly number[] = [301, 302, 303, 307, 308];

export function redirectStatusRule(code: number): string | undefined {
  return REDIRECT_STATUSES.includes(code) ? undefined : 'must be 301, 302, 303, 307 or 308';
}

export function upgradeTypeRule(token: string): string | undefined {
  return token === 'h2c' ? 'h2c cannot be tunnelled: HTTP/2 upgrades are not supported' : undefined;
}

function isPrime(n: number): boolean {
  if (n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}

/** Above `max` the bound check reports it; the primality test would only cost time. */
export function maglevTableSizeRule(n: number, max: number): string | undefined {
  return n > max || isPrime(n) ? undefined : 'must be a prime number';
}

export interface UpstreamTlsFields {
  readonly mode: string;
  readonly clientCertificate?: string | undefined;
  readonly privateKey?: string | undefined;
}

export function upstreamTlsRule(t: UpstreamTlsFields): string | undefined {
  return t.mode === 'MUTUAL' && (t.clientCertificate === undefined || t.privateKey === undefined) ? 'MUTUAL needs clientCertificate and privateKey' : undefined;
}

export const IP_BLOCK_REASON = 'not an IP address or CIDR block';

/** `10.0.0.1` or `10.0.0.0/8` (the authorization layer hands these to node:net's BlockList). */
export function isIpBlock(v: string): boolean {
  const [ip, bits, extra] = v.split('/');
  const family = isIP(ip ?? '');
  if (family === 0 || extra !== undefined) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
}

export interface ConditionFields {
  readonly key: string;
  readonly header?: string | undefined;
  readonly values?: readonly string[] | undefined;
  readonly notValues?: readonly string[] | undefined;
}

export function conditionHeaderRule(c: ConditionFields): string | undefined {
  return (c.key === 'request.headers') === (c.header !== undefined) ? undefined : 'request.headers needs `header`, and only it';
}

const IP_KEYS = ['source.ip', 'remote.ip', 'destination.ip'];

export function conditionIpRule(c: ConditionFields): string | undefined {
  if (!IP_KEYS.includes(c.key)) return undefined;
  return [...(c.values ?? []), ...(c.notValues ?? [])].every(isIpBlock) ? undefined : IP_BLOCK_REASON;
}
