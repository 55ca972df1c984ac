// Automatic mTLS needs to know which endpoints run a sidecar. The control plane
// knows: a sidecar with a workload certificate subscribed from that address.
// Such endpoints get `tlsMode: istio`, and their cluster's peerIdentities
// gain that sidecar's SPIFFE ID (the destination service's accounts, which the
// caller verifies). Loopback addresses are left alone: several sidecars on one
// host share them, so the address says nothing; label such endpoints
// `security.meshlet.io/tlsMode: istio` instead. Pure; the config is copied
// only when something changes, so an unchanged mesh keeps its version.
import type { ClusterModel, EndpointModel, MeshConfig } from '../../proxy/config/model/index.js';

export interface KnownSidecar {
  /** Pod IP (or the stream's peer address). */
  readonly address: string;
  /** The identity its certificate carries. */
  readonly spiffeId: string;
}

function isLoopback(a: string): boolean {
  return a.startsWith('127.') || a === '::1' || a === 'localhost';
}

/** `ipv4:10.0.0.5:4567`, `[fd00::5]:4567`, `::ffff:10.0.0.5:4567` → the address. */
export function peerAddress(peer: string): string {
  let p = peer.replace(/^ipv[46]:/, '');
  if (p.startsWith('[')) p = p.slice(1, p.indexOf(']'));
  else if (p.split(':').length === 2) p = p.slice(0, p.lastIndexOf(':'));
  else if (/^(::ffff:)?\d+\.\d+\.\d+\.\d+:\d+$/.test(p)) p = p.slice(0, p.lastIndexOf(':'));
  return p.startsWith('::ffff:') && p.includes('.') ? p.slice(7) : p;
}

export function markSidecarEndpoints(config: MeshConfig, sidecars: readonly KnownSidecar[]): MeshConfig {
  const byAddress = new Map<string, Set<string>>();
  for (const s of sidecars) {
    if (s.address === '' || isLoopback(s.address)) continue;
    let ids = byAddress.get(s.address);
    if (ids === undefined) byAddress.set(s.address, (ids = new Set()));
    ids.add(s.spiffeId);
  }
  if (byAddress.size === 0) return config;
  let changed = false;
  const clusters = config.clusters.map((c): ClusterModel => {
    if (c.discovery !== 'static') return c;
    const identities = new Set(c.peerIdentities ?? []);
    let touched = false;
    const endpoints = c.endpoints.map((e): EndpointModel => {
      const ids = byAddress.get(e.address);
      if (ids === undefined) return e;
      for (const id of ids) identities.add(id);
      touched = true;
      return e.tlsMode === 'istio' ? e : { ...e, tlsMode: 'istio' };
    });
    if (!touched) return c;
    changed = true;
    return { ...c, endpoints, peerIdentities: [...identities].sort() };
  });
  return changed ? { ...config, clusters } : config;
}
