// Declared services as the L4 path sees them: by original destination
// address and port, the way Istio recognises TCP services (ServiceEntry
// `addresses` VIPs/CIDRs; a service without addresses matches its port on any
// address), plus TLS routing by SNI. Built once per snapshot.
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { clusterName, type MeshConfig, type ServiceModel, type TlsRouteModel } from '../config/model/index.js';
import { WeightedSplit } from '../layers/balance/index.js';
import type { ClusterRuntime } from '../upstream/cluster.js';
import type { UpstreamRegistry } from '../upstream/registry.js';
import type { DeclaredProtocol } from '../exchange/index.js';

export interface L4Service {
  readonly host: string;
  readonly port: number;
  readonly protocol: DeclaredProtocol;
  readonly cluster: ClusterRuntime | undefined;
  readonly source: string;
}

export interface CompiledTlsRoute {
  readonly name: string;
  /** Lower-cased SNI patterns: exact or `*.suffix`. */
  readonly sniHosts: readonly string[];
  /** 0 = any port. */
  readonly port: number;
  readonly split: WeightedSplit<ClusterRuntime | undefined>;
}

/** ServiceEntry port protocol (or name prefix, already applied by translation) → how to treat its connections. */
export function declaredProtocolOf(protocol: string): DeclaredProtocol {
  switch (protocol) {
    case 'HTTP':
      return 'http1';
    case 'HTTP2':
    case 'GRPC':
    case 'GRPC-WEB':
      return 'http2';
    case 'TLS':
    case 'HTTPS':
      return 'tls';
    case 'TCP':
    case 'MONGO':
    case 'REDIS':
    case 'MYSQL':
      return 'tcp';
    default:
      return undefined;
  }
}

export class L4Index {
  /** Services with addresses, per port: matched by address first. */
  readonly #byAddress = new Map<number, { readonly list: BlockList; readonly svc: L4Service }[]>();
  /** Services without addresses, per port (first declared wins). */
  readonly #byPort = new Map<number, L4Service>();
  readonly #tls: CompiledTlsRoute[] = [];
  readonly #tlsHosts = new Map<string, L4Service>();
  /**
   * Ports declared TLS for every address: a TLS/HTTPS ServiceEntry port without
   * addresses, or a tls route's match port (Istio builds a 0.0.0.0:<port>
   * listener matched by SNI for these). Only the protocol is declared here;
   * routing still goes by SNI, then address, then the traffic policy.
   */
  readonly #tlsPorts = new Set<number>();
  /**
   * Ports declared HTTP/HTTP2/GRPC by a service without addresses: every
   * connection to them is that protocol (Istio's wildcard 0.0.0.0:<port> HTTP
   * listener, routed by Host), so a client that connects and waits longer than
   * the detection timeout before its first request is not cut to opaque TCP.
   * First declared wins; an address match or a TCP/TLS claim on the port wins over it.
   */
  readonly #httpPorts = new Map<number, DeclaredProtocol>();

  constructor(config: MeshConfig, registry: UpstreamRegistry) {
    for (const s of config.services) this.#addService(s, registry);
    for (const r of config.tlsRoutes ?? []) {
      this.#tls.push(compileTlsRoute(r, registry, config.services));
      if (r.port !== 0) this.#tlsPorts.add(r.port);
    }
  }

  #addService(s: ServiceModel, registry: UpstreamRegistry): void {
    const addresses = s.addresses ?? [];
    for (const p of s.ports) {
      const svc: L4Service = {
        host: s.host,
        port: p.number,
        protocol: declaredProtocolOf(p.protocol),
        cluster: registry.get(clusterName(s.host, p.number)),
        source: s.source,
      };
      if (svc.protocol === 'tls' && !this.#tlsHosts.has(`${s.host}:${p.number}`)) this.#tlsHosts.set(`${s.host}:${p.number}`, svc);
      if (addresses.length === 0) {
        // TCP services claim the bare port for every address (routing by port);
        // HTTP ones declare only the protocol: their requests are routed by Host.
        if (svc.protocol === 'tcp' && !this.#byPort.has(p.number)) this.#byPort.set(p.number, svc);
        if (svc.protocol === 'tls') this.#tlsPorts.add(p.number);
        if ((svc.protocol === 'http1' || svc.protocol === 'http2') && !this.#httpPorts.has(p.number)) this.#httpPorts.set(p.number, svc.protocol);
        continue;
      }
      const list = new BlockList();
      for (const a of addresses) addToBlockList(list, a);
      let arr = this.#byAddress.get(p.number);
      if (arr === undefined) this.#byAddress.set(p.number, (arr = []));
      arr.push({ list, svc });
    }
  }

  /** The declared service for an original destination, if any. */
  lookup(address: string, port: number): L4Service | undefined {
    const withAddr = this.#byAddress.get(port);
    if (withAddr !== undefined) {
      const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
      if (family !== undefined) for (const e of withAddr) if (e.list.check(address, family)) return e.svc;
    }
    return this.#byPort.get(port);
  }

  /**
   * How a connection to this original destination is declared: its service's
   * protocol, else TLS on a TLS port, else HTTP on a port an address-less HTTP
   * service declares.
   */
  declaredProtocol(address: string, port: number): DeclaredProtocol {
    return this.lookup(address, port)?.protocol ?? (this.#tlsPorts.has(port) ? 'tls' : this.#httpPorts.get(port));
  }

  /** A VirtualService tls route matching the SNI (and port), first declared wins. */
  tlsRoute(sni: string, port: number): CompiledTlsRoute | undefined {
    for (const r of this.#tls) {
      if (r.port !== 0 && r.port !== port) continue;
      for (const h of r.sniHosts) if (h === sni || (h.startsWith('*.') && sni.endsWith(h.slice(1)))) return r;
    }
    return undefined;
  }

  /** A declared TLS/HTTPS service named by the SNI, on this port. */
  tlsService(sni: string, port: number): L4Service | undefined {
    return this.#tlsHosts.get(`${sni}:${port}`);
  }
}

function addToBlockList(list: BlockList, a: string): void {
  const slash = a.indexOf('/');
  const ip = slash < 0 ? a : a.slice(0, slash);
  const family = isIPv4(ip) ? 'ipv4' : 'ipv6';
  if (slash < 0) list.addAddress(ip, family);
  else list.addSubnet(ip, Number(a.slice(slash + 1)), family);
}

function compileTlsRoute(r: TlsRouteModel, registry: UpstreamRegistry, services: readonly ServiceModel[]): CompiledTlsRoute {
  const split = new WeightedSplit(
    r.destinations.map((d) => {
      const ports = services.find((s) => s.host === d.host)?.ports ?? [];
      const port = d.port ?? (ports.length === 1 ? ports[0]!.number : r.port !== 0 ? r.port : undefined);
      return { item: port === undefined ? undefined : registry.get(clusterName(d.host, port, d.subset)), weight: d.weight };
    }),
  );
  return { name: r.name, sniHosts: r.sniHosts.map((h) => h.toLowerCase()), port: r.port, split };
}
