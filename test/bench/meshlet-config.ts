// Istio YAML the meshlet targets load: a STATIC ServiceEntry for the bench
// upstream, plus (all-features) a VirtualService with retries, timeout and a
// mirror, and a DestinationRule with outlier detection and connection-pool
// limits far above what the bench reaches, so nothing trips.
import { writeFileSync } from 'node:fs';
import path from 'node:path';

export const MESH_HOST = 'upstream.default.svc.cluster.local';

export interface MeshletConfigOptions {
  readonly upstreamPort: number;
  /** When set, the all-features config mirrors to this port. */
  readonly mirrorPort?: number;
  readonly mirrorPercent?: number;
}

function serviceEntry(name: string, port: number): string {
  return `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ${name} }
spec:
  hosts: [${name}]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 80, name: http, protocol: HTTP }]
  endpoints: [{ address: 127.0.0.1, ports: { http: ${port} } }]
`;
}

/** Builds the YAML; all-features when `mirrorPort` is set. */
export function meshletConfigYaml(o: MeshletConfigOptions): string {
  const docs = [serviceEntry('upstream', o.upstreamPort)];
  if (o.mirrorPort !== undefined) {
    docs.push(serviceEntry('mirror', o.mirrorPort));
    docs.push(`apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: upstream }
spec:
  hosts: [upstream]
  http:
    - route: [{ destination: { host: upstream } }]
      timeout: 5s
      retries: { attempts: 2, perTryTimeout: 2s, retryOn: "5xx,reset,connect-failure" }
      mirror: { host: mirror }
      mirrorPercentage: { value: ${o.mirrorPercent ?? 10} }
`);
    docs.push(`apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: upstream }
spec:
  host: upstream
  trafficPolicy:
    connectionPool:
      tcp: { maxConnections: 100000 }
      http: { http1MaxPendingRequests: 100000, http2MaxRequests: 100000 }
    outlierDetection: { consecutive5xxErrors: 5, interval: 10s, baseEjectionTime: 30s, maxEjectionPercent: 50 }
`);
  }
  return docs.join('---\n');
}

export function writeMeshletConfig(dir: string, name: string, o: MeshletConfigOptions): string {
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, meshletConfigYaml(o));
  return file;
}

/** nginx: one worker, upstream keep-alive pool, no access log. */
export function nginxConf(dir: string, listenPort: number, upstreamPort: number): string {
  return `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  upstream up { server 127.0.0.1:${upstreamPort}; keepalive 64; }
  server {
    listen 127.0.0.1:${listenPort};
    location / {
      proxy_pass http://up;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_request_buffering off;
    }
  }
}
`;
}

/** haproxy: one thread, connection reuse always. */
export function haproxyConf(listenPort: number, upstreamPort: number): string {
  return `global
  nbthread 1
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  http-reuse always
frontend f
  bind 127.0.0.1:${listenPort}
  default_backend b
backend b
  server s1 127.0.0.1:${upstreamPort}
`;
}
