// Wire → model for one DiscoveryResponse: parse every resource body, reject
// duplicates, assemble the MeshConfig, and stamp TTL'd fault/mirror rules
// with an absolute `expiresAt`. Pure: the caller validates and applies.
import type { AuthorizationPolicyModel, ClusterModel, ConfigIssue, MeshConfig, OutboundTrafficPolicy, PeerAuthenticationModel, RouteModel, ServiceModel, TlsRouteModel, VirtualHostModel } from '../config/model/index.js';

export interface WireResource {
  readonly kind: string;
  readonly name: string;
  readonly body: string;
  readonly ttlMs: number;
}

export type DecodeResult =
  | { readonly ok: true; readonly config: MeshConfig; /** Earliest fault/mirror expiry, if any resource had a TTL. */ readonly expiresAt: number | undefined }
  | { readonly ok: false; readonly issues: readonly ConfigIssue[] };

function stampRoute(r: RouteModel, at: number): RouteModel {
  if (!r.fault && !r.mirrors) return r;
  const out: { -readonly [K in keyof RouteModel]: RouteModel[K] } = { ...r };
  if (r.fault) out.fault = { ...r.fault, expiresAt: Math.min(r.fault.expiresAt ?? Infinity, at) };
  if (r.mirrors) out.mirrors = r.mirrors.map((m) => ({ ...m, expiresAt: Math.min(m.expiresAt ?? Infinity, at) }));
  return out;
}

/** Earliest expiresAt of the host's faults/mirrors (TTL-stamped or set by the control plane). */
function earliestExpiry(vh: VirtualHostModel, current: number | undefined): number | undefined {
  if (!Array.isArray(vh.routes)) return current;
  let min = current;
  for (const r of vh.routes) {
    const f = r.fault?.expiresAt;
    if (typeof f === 'number' && (min === undefined || f < min)) min = f;
    if (Array.isArray(r.mirrors)) for (const m of r.mirrors) if (typeof m.expiresAt === 'number' && (min === undefined || m.expiresAt < min)) min = m.expiresAt;
  }
  return min;
}

export function decodeSnapshot(version: string, resources: readonly WireResource[], now: number): DecodeResult {
  const issues: ConfigIssue[] = [];
  const services: ServiceModel[] = [];
  const clusters: ClusterModel[] = [];
  const virtualHosts: VirtualHostModel[] = [];
  const peerAuthentications: PeerAuthenticationModel[] = [];
  const authorizationPolicies: AuthorizationPolicyModel[] = [];
  const tlsRoutes: TlsRouteModel[] = [];
  let outboundTrafficPolicy: OutboundTrafficPolicy | undefined;
  const seen = new Set<string>();
  let expiresAt: number | undefined;
  for (const r of resources) {
    const id = `${r.kind}/${r.name}`;
    if (seen.has(id)) {
      // xDS: duplicate names in one response are a NACK, never "last one wins".
      issues.push({ resource: id, path: '', reason: 'duplicate resource in one response' });
      continue;
    }
    seen.add(id);
    let body: unknown;
    try {
      body = JSON.parse(r.body);
    } catch (err) {
      issues.push({ resource: id, path: 'body', reason: `invalid JSON: ${(err as Error).message}` });
      continue;
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      issues.push({ resource: id, path: 'body', reason: 'body must be a JSON object' });
      continue;
    }
    // Shapes are checked by validateSnapshot on the assembled config.
    if (r.kind === 'service') services.push(body as ServiceModel);
    else if (r.kind === 'cluster') clusters.push(body as ClusterModel);
    else if (r.kind === 'virtual_host') {
      let vh = body as VirtualHostModel;
      if (r.ttlMs > 0 && Array.isArray(vh.routes)) {
        const at = now + r.ttlMs;
        vh = { ...vh, routes: vh.routes.map((route) => stampRoute(route, at)) };
      }
      expiresAt = earliestExpiry(vh, expiresAt);
      virtualHosts.push(vh);
    } else if (r.kind === 'peer_authentication') peerAuthentications.push(body as PeerAuthenticationModel);
    else if (r.kind === 'authorization_policy') authorizationPolicies.push(body as AuthorizationPolicyModel);
    else if (r.kind === 'tls_route') tlsRoutes.push(body as TlsRouteModel);
    else if (r.kind === 'outbound_traffic_policy') outboundTrafficPolicy = (body as { mode: OutboundTrafficPolicy }).mode;
    // Unknown kinds are ignored, as xDS clients ignore resources they did not ask for,
    // so a newer control plane can add kinds without breaking older sidecars.
  }
  if (issues.length > 0) return { ok: false, issues };
  const config: MeshConfig = {
    version,
    services,
    clusters,
    virtualHosts,
    ...(peerAuthentications.length > 0 ? { peerAuthentications } : {}),
    ...(authorizationPolicies.length > 0 ? { authorizationPolicies } : {}),
    ...(tlsRoutes.length > 0 ? { tlsRoutes } : {}),
    ...(outboundTrafficPolicy !== undefined ? { outboundTrafficPolicy } : {}),
  };
  return { ok: true, config, expiresAt };
}

/** The config with expired fault/mirror rules removed (what runs once a TTL lapses). */
export function withoutExpired(config: MeshConfig, now: number): MeshConfig {
  const virtualHosts = config.virtualHosts.map((vh) => ({
    ...vh,
    routes: vh.routes.map((r) => {
      const faultExpired = r.fault?.expiresAt !== undefined && r.fault.expiresAt <= now;
      const mirrors = r.mirrors?.filter((m) => m.expiresAt === undefined || m.expiresAt > now);
      if (!faultExpired && mirrors?.length === r.mirrors?.length) return r;
      const { fault, mirrors: _old, ...rest } = r;
      return { ...rest, ...(faultExpired ? {} : { fault }), ...(mirrors && mirrors.length > 0 ? { mirrors } : {}) };
    }),
  }));
  return { ...config, version: `${config.version}~expired`, virtualHosts };
}
