import type { V1EndpointSlice, V1Pod, V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { translate } from '../../../proxy/config/index.js';
import { endpointSlice, pod, service } from '../../../test/support/kube-objects.js';
import { serviceEntriesFromKube } from './service-entries-from-kube.js';

const svc = (o: unknown): V1Service => o as V1Service;
const slice = (o: unknown): V1EndpointSlice => o as V1EndpointSlice;
const p = (o: unknown): V1Pod => o as V1Pod;

describe('serviceEntriesFromKube', () => {
  it('takes the protocol from appProtocol, else leaves the name prefix to the shared translation', () => {
    const { entries } = serviceEntriesFromKube({
      services: [svc(service('api', [{ name: 'grpc-x', port: 50051 }, { name: 'web', port: 80, appProtocol: 'kubernetes.io/h2c' }, { port: 81, appProtocol: 'http' }]))],
      slices: [],
      pods: [],
    });
    const r = translate(entries);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.services[0]?.ports.map((x) => `${x.name}:${x.protocol}`)).toEqual(['grpc-x:GRPC', 'web:HTTP2', 'port-81:HTTP']);
  });

  it('leaves not-ready endpoints out unless publishNotReadyAddresses, and labels endpoints from pods by IP too', () => {
    const s = svc(service('db', [{ name: 'tcp', port: 5432 }], { headless: true }));
    const sl = slice(endpointSlice('db', [{ ip: '10.1.0.1' }, { ip: '10.1.0.2', ready: false }], [{ name: 'tcp', port: 5432 }]));
    const pods = [p(pod('db-0', '10.1.0.1', { role: 'primary' }))];
    const eps = serviceEntriesFromKube({ services: [s], slices: [sl], pods }).entries[0]?.spec.endpoints;
    expect(eps).toEqual([{ address: '10.1.0.1', ports: { tcp: 5432 }, labels: { role: 'primary' } }]);
    const all = svc({ ...s, spec: { ...s.spec, publishNotReadyAddresses: true } });
    expect(serviceEntriesFromKube({ services: [all], slices: [sl], pods }).entries[0]?.spec.endpoints?.length).toBe(2);
  });

  it('resolves ExternalName by DNS, and reports Services it cannot mesh', () => {
    const { entries, issues } = serviceEntriesFromKube({
      services: [svc(service('ext', [{ name: 'https', port: 443 }], { externalName: 'api.example.com' })), svc({ ...service('dns', []), spec: { ports: [{ port: 53, protocol: 'UDP' }] } })],
      slices: [],
      pods: [],
    });
    expect(entries[0]?.spec).toMatchObject({ resolution: 'DNS', endpoints: [{ address: 'api.example.com' }], hosts: ['ext.default.svc.cluster.local'] });
    expect(issues).toEqual([{ resource: 'Service/default/dns', path: 'spec.ports', reason: 'warning: no TCP port, so not part of the mesh' }]);
  });
});
