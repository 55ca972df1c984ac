// The mesh config of the interception scenarios: a declared TCP service with a
// VIP (redis), a declared TCP echo (for exact istio_tcp_* counts) and a TLS
// service split 50/50 by a VirtualService tls route. Everything else the
// client reaches is undeclared on purpose.
export const POD_IPS = {
  client: '10.244.0.10',
  redis: '10.244.0.11',
  pg: '10.244.0.12',
  banner: '10.244.0.13',
  'tls-a': '10.244.0.14',
  'tls-b': '10.244.0.15',
  web: '10.244.0.16',
} as const;

export const REDIS_VIP = '10.96.100.1';
export const ECHO_VIP = '10.96.100.3';
/** Where the client dials the declared TLS service: an address nobody serves (only the SNI route can get it there). */
export const SECURE_ADDR = '10.96.100.2';

export const MESH_YAML = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: redis-db }
spec:
  hosts: [redis.db.internal]
  addresses: [${REDIS_VIP}]
  ports: [{ number: 6379, name: tcp-redis, protocol: TCP }]
  resolution: STATIC
  endpoints: [{ address: ${POD_IPS.redis} }]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: echo }
spec:
  hosts: [echo.db.internal]
  addresses: [${ECHO_VIP}/32]
  ports: [{ number: 9090, name: tcp-echo }]
  resolution: STATIC
  endpoints: [{ address: ${POD_IPS.web} }]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: secure }
spec:
  hosts: [secure.example.com]
  ports: [{ number: 8443, name: tls, protocol: TLS }]
  resolution: STATIC
  endpoints:
    - { address: ${POD_IPS['tls-a']}, labels: { v: a } }
    - { address: ${POD_IPS['tls-b']}, labels: { v: b } }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: secure }
spec:
  host: secure.example.com
  subsets: [{ name: a, labels: { v: a } }, { name: b, labels: { v: b } }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: secure }
spec:
  hosts: [secure.example.com]
  tls:
    - match: [{ sniHosts: [secure.example.com], port: 8443 }]
      route:
        - { destination: { host: secure.example.com, subset: a }, weight: 50 }
        - { destination: { host: secure.example.com, subset: b }, weight: 50 }
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: slow-http }
spec:
  hosts: [slow.example.com]
  ports: [{ number: 8080, name: http, protocol: HTTP }]
  resolution: STATIC
  endpoints: [{ address: ${POD_IPS.web}, ports: { http: 9080 } }]
`;

/** An address nobody serves: the client dials it for slow.example.com (an HTTP ServiceEntry without addresses), so only HTTP routing by Host can reach the web pod. */
export const SLOW_HTTP_ADDR = '10.96.100.4';

export const REGISTRY_ONLY_YAML = `
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: { name: default }
spec:
  outboundTrafficPolicy: { mode: REGISTRY_ONLY }
`;
