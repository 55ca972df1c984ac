// VirtualService `tls:` routes → TlsRouteModel: TLS passed through, routed by
// the ClientHello's SNI (and optionally the destination port). One model per
// match block, in declaration order (first match wins, as in Istio). Every
// destination is checked like an HTTP route's: declared host, known subset,
// a port of the service.

import type { TlsRouteModel, WeightedDestination } from '../model/index.js';
import { resourceRef, type IstioVirtualService } from '../istio/index.js';
import { normaliseHost } from './host-name.js';
import type { IssueReporter } from './route-policies.js';
import type { ServiceInfo } from './services.js';

export function toTlsRoutes(vs: IstioVirtualService, services: ReadonlyMap<string, ServiceInfo>, report: IssueReporter): TlsRouteModel[] {
  const out: TlsRouteModel[] = [];
  const ns = vs.metadata.namespace;
  (vs.spec.tls ?? []).forEach((r, i) => {
    const single = r.route.length === 1;
    const destinations = r.route.map((rd, j): WeightedDestination => {
      const path = `spec.tls[${i}].route[${j}].destination`;
      const host = normaliseHost(rd.destination.host, ns);
      const info = services.get(host);
      // A single-port service needs no port; a multi-port one takes the match's port at runtime.
      const port = rd.destination.port?.number ?? (info !== undefined && info.ports.length === 1 ? info.ports[0] : undefined);
      if (info === undefined) report(`${path}.host`, `host "${rd.destination.host}" (${host}) is not declared by any ServiceEntry`);
      else {
        if (rd.destination.subset !== undefined && !info.subsets.has(rd.destination.subset)) {
          report(`${path}.subset`, `subset "${rd.destination.subset}" is not defined by a DestinationRule for host ${host}`);
        }
        if (rd.destination.port !== undefined && port !== undefined && !info.ports.includes(port)) report(`${path}.port.number`, `port ${port} is not a port of ${host} (${info.ports.join(', ')})`);
      }
      return {
        host,
        ...(rd.destination.subset !== undefined ? { subset: rd.destination.subset } : {}),
        ...(port !== undefined ? { port } : {}),
        weight: rd.weight ?? (single ? 100 : 0),
      };
    });
    r.match.forEach((m, j) => {
      out.push({
        name: `${vs.metadata.name}.tls.${i}${r.match.length > 1 ? `.${j}` : ''}`,
        sniHosts: m.sniHosts.map((h) => h.toLowerCase()),
        port: m.port ?? 0,
        destinations,
        source: resourceRef(vs),
      });
    });
  });
  return out;
}
