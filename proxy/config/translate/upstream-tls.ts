// DestinationRule `trafficPolicy.tls` (Istio ClientTLSSettings) → the model's
// UpstreamTlsPolicy, per cluster, merged as Istio's pilot merges it: a
// `portLevelSettings` entry for the cluster's port replaces the level it
// belongs to (an entry without tls means "no tls setting", not "inherit"),
// and a subset's tls replaces the destination's. No setting at all = automatic
// mTLS, decided per endpoint at runtime. Fields that cannot be applied
// (credentialName, caCrl) are refused in istio/field-support.ts.
import type { UpstreamTlsPolicy } from '../model/index.js';
import type { IstioClientTls, IstioTrafficPolicy } from '../istio/index.js';

function atPort(tp: IstioTrafficPolicy | undefined, port: number): { tls: IstioClientTls | undefined; portLevel: boolean } {
  const entry = tp?.portLevelSettings?.find((p) => p.port.number === port);
  return entry === undefined ? { tls: tp?.tls, portLevel: false } : { tls: entry.tls, portLevel: true };
}

/** The effective ClientTLSSettings of the cluster for `port` (with `subset`'s policy for a subset cluster). */
export function mergeTls(top: IstioTrafficPolicy | undefined, subset: IstioTrafficPolicy | undefined, port: number): IstioClientTls | undefined {
  const original = atPort(top, port).tls;
  if (subset === undefined) return original;
  const sub = atPort(subset, port);
  return sub.portLevel || sub.tls !== undefined ? sub.tls : original;
}

export function toUpstreamTls(t: IstioClientTls | undefined): { tls?: UpstreamTlsPolicy } {
  if (t === undefined) return {};
  const mode = t.mode ?? 'DISABLE';
  if (mode === 'DISABLE') return { tls: { mode } };
  const common = {
    ...(t.sni !== undefined ? { sni: t.sni } : {}),
    ...(t.subjectAltNames !== undefined && t.subjectAltNames.length > 0 ? { subjectAltNames: t.subjectAltNames } : {}),
  };
  if (mode === 'ISTIO_MUTUAL') return { tls: { mode, ...common } };
  return {
    tls: {
      mode,
      ...common,
      ...(t.caCertificates !== undefined ? { caCertificates: t.caCertificates } : {}),
      ...(mode === 'MUTUAL' && t.clientCertificate !== undefined ? { clientCertificate: t.clientCertificate } : {}),
      ...(mode === 'MUTUAL' && t.privateKey !== undefined ? { privateKey: t.privateKey } : {}),
      ...(t.insecureSkipVerify === true ? { insecureSkipVerify: true } : {}),
    },
  };
}
