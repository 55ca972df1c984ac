import { describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { Flag } from '../errors/index.js';
import type { HeaderBag } from './b3.js';
import { destination, endpoint, makeExchange } from './exchange-fixture.js';
import { createObservers } from './index.js';

function get(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve(body));
    }).on('error', reject).end();
  });
}

describe('createObservers', () => {
  it('composes request id, tracing, metrics and events into one observer', async () => {
    const obs = await createObservers({
      workload: 'productpage-v1',
      namespace: 'default',
      labels: { app: 'productpage', version: 'v1' },
      accessLog: 'off',
      metrics: true,
      tracing: { sampleRate: 0, inject: { multi: true, single: false, w3c: false }, serviceName: 'productpage', env: {} },
      registry: {
        all: () => [{ destination: destination('reviews'), active: 2, ejected: 1, endpoints: [{ authority: '10.0.0.7:9080', available: false, connections: 3 }] }],
      },
    });
    try {
      const ex = makeExchange('outbound', { 'x-b3-traceid': '463ac35c9f6413ad', 'x-b3-spanid': 'a2fb4a1d1a96d312' });
      ex.destination = destination('reviews');
      const h: HeaderBag = {};
      obs.observer.onStart(ex, h);
      expect(h['x-request-id']).toBe(ex.requestId);
      expect(h['x-b3-parentspanid']).toBe('a2fb4a1d1a96d312');
      // The caller deferred the decision: it stays deferred on the wire.
      expect(h['x-b3-sampled']).toBeUndefined();
      expect(h['x-meshlet-peer']).toBe('productpage-v1;default;productpage;v1');
      ex.endpoint = endpoint('10.0.0.7:9080', 'reviews', 'v1');
      ex.status = 504;
      ex.flags = Flag.UT;
      obs.observer.onComplete(ex);
      // A request that never reached onStart still gets an id for logs.
      const nr = makeExchange('outbound');
      obs.observer.onComplete(nr);
      expect(nr.requestId).not.toBe('');

      obs.events.retry('reviews.default.svc.cluster.local', '5xx');
      obs.events.configApplied('v3');
      obs.events.ejection('reviews.default.svc.cluster.local', '10.0.0.7:9080', 'consecutive_5xx');
      const port = await obs.startMetricsServer(0, '127.0.0.1', () => true);
      const text = await get(port, '/stats/prometheus');
      expect(text).toMatch(/^istio_requests_total\{reporter="source",.*response_code="504",response_flags="UT",.*\} 1$/m);
      expect(text).toMatch(/^meshlet_retries_total\{destination_service="reviews.default.svc.cluster.local",reason="5xx"\} 1$/m);
      expect(text).toMatch(/^meshlet_config_version_info\{version="v3"\} 1$/m);
      expect(text).toMatch(/^meshlet_outlier_ejections_total\{destination_service="reviews.default.svc.cluster.local"\} 1$/m);
      expect(text).toMatch(/^meshlet_active_requests\{destination_service="reviews.default.svc.cluster.local"\} 2$/m);
      expect(text).toMatch(/^meshlet_upstream_connections\{destination_service="reviews.default.svc.cluster.local"\} 3$/m);
      expect(text).toMatch(/^meshlet_outlier_ejected_endpoints\{destination_service="reviews.default.svc.cluster.local"\} 1$/m);
      expect(text).toMatch(/^meshlet_endpoint_breaker_state\{.*state="open"\} 1$/m);
    } finally {
      await obs.close();
    }
  });
});
