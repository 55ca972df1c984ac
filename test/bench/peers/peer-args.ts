// Tiny argv parser shared by the peer forwarders: `--name value` pairs only.
export function peerArgs(argv: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a !== undefined && a.startsWith('--')) {
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith('--')) { out.set(a.slice(2), next); i++; }
      else out.set(a.slice(2), 'true');
    }
  }
  return out;
}

/** Prints the readiness line the bench harness waits for. */
export function announce(port: number): void {
  process.stdout.write(`LISTENING ${port}\n`);
}

/** Hop-by-hop request/response headers a forwarder must not pass on (RFC 9110 §7.6.1). */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade',
  'proxy-authorization', 'proxy-authenticate',
]);
