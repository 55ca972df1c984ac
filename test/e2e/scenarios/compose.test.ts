// The docker-compose examples' topology, run in the pod rig without Docker
// (test/e2e/compose-rig.ts): the same services, commands, environment, users,
// volumes, depends_on conditions and names as examples/compose/*/compose.yaml.
// Proves, per flavour, that the product page works across every hop, that
// each hop went through both sidecars (metrics on each side), that replicas
// behind one name are all used, that traces reach the tracing backend and (if
// Debian's prometheus is installed) that Prometheus scrapes the sidecars by
// compose name. Needs root and a built dist/ (npm test builds); skips loudly.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, until } from '../../support/meshlet-process.js';
import { PodRig } from '../rig/index.js';
import { ComposeRig, type StandIn } from '../compose-rig.js';
import { prometheusInstalled, sumSamples } from '../mesh/prom.js';

const avail = await PodRig.available();
if (!avail.ok) console.warn(`\n!!! E2E SKIPPED: test/e2e/scenarios/compose.test.ts: pod rig unavailable: ${avail.why ?? '?'} !!!\n`);
const havePrometheus = avail.ok && (await prometheusInstalled());
if (avail.ok && !havePrometheus) console.warn('\n!!! compose e2e: no `prometheus` binary, the Prometheus service is not run (apt-get install prometheus) !!!\n');

const STAND_INS: Record<string, StandIn> = {
  // Jaeger's OTLP/HTTP receiver, played by the test sink (same port, same path).
  jaeger: () => ({ cmd: process.execPath, args: ['--import', 'tsx', join(ROOT, 'test/e2e/mesh/otlp-sink.ts')], env: { PORT: '4318' } }),
  prometheus: (svc, rig) =>
    havePrometheus
      ? { cmd: 'prometheus', args: [...(svc.command ?? []).map((a) => rig.mapPaths(svc, a)), `--storage.tsdb.path=${join(rig.work, 'prometheus-data')}`, '--web.listen-address=0.0.0.0:9090', '--log.level=warn'] }
      : null,
};
const DOCKER_DNS_RULE = '-A DOCKER_OUTPUT -d 127.0.0.11/32 -p udp -m udp --dport 53 -j DNAT --to-destination 127.0.0.11:53053';

interface Page {
  details: { pod?: string };
  reviews: { pod?: string; version?: string; ratings?: { pod?: string } };
}

describe.skipIf(!avail.ok).each(['explicit', 'transparent'] as const)('examples/compose/%s in the pod rig', (flavour) => {
  const rig = new ComposeRig(join(ROOT, 'examples/compose', flavour, 'compose.yaml'), STAND_INS);
  let keep = process.env['MESHLET_E2E_KEEP'] === '1';
  const pages: Page[] = [];

  beforeAll(async () => {
    try {
      await rig.up(async (r, pod) => {
        // What Docker puts in a container's nat table for its embedded DNS: it must survive the init container.
        if (flavour === 'transparent') await r.podShell(pod, `iptables -t nat -N DOCKER_OUTPUT && iptables -t nat -A OUTPUT -d 127.0.0.11/32 -j DOCKER_OUTPUT && iptables -t nat ${DOCKER_DNS_RULE}`);
      });
      // Ready when the page works end to end (sidecars get config, DNS endpoints resolve).
      await until(async () => (await rig.nodeGet(`http://${rig.ipOf('productpage')}:9080/productpage`)).status === 200, 60_000, 500);
    } catch (err) {
      keep = true;
      await rig.down(true);
      throw new Error(`compose bring-up failed (logs in ${rig.work}): ${(err as Error).message}`);
    }
  }, 180_000);

  afterAll(async () => {
    await rig.down(keep);
    if (keep) console.info(`compose e2e (${flavour}): logs kept in ${rig.work}`);
  }, 30_000);

  it('serves the product page across every hop; versions and replicas behind one name are all used', async () => {
    for (const r of await rig.nodeGetMany(`http://${rig.ipOf('productpage')}:9080/productpage`, 30)) {
      expect(r.status, r.body).toBe(200);
      pages.push(JSON.parse(r.body) as Page);
    }
    expect(new Set(pages.map((p) => p.details.pod))).toEqual(new Set(['details']));
    expect(new Set(pages.map((p) => p.reviews.pod))).toEqual(new Set(['reviews-v1', 'reviews-v2']));
    // Only v2 calls ratings; round robin over the two containers behind the alias "ratings".
    const ratings = pages.filter((p) => p.reviews.version === 'v2').map((p) => p.reviews.ratings?.pod);
    expect(ratings.length).toBeGreaterThanOrEqual(2);
    expect(new Set(ratings)).toEqual(new Set(['ratings-1', 'ratings-2']));
    console.info(`compose ${flavour}: services not run in the rig: ${rig.notRun.join(', ') || 'none'}`);
  }, 120_000);

  it('sent every call through the caller\'s and the callee\'s sidecars', async () => {
    const scrape = async (svc: string): Promise<string> => {
      const r = await rig.nodeGet(`http://${rig.ipOf(svc)}:15090/stats/prometheus`);
      expect(r.status).toBe(200);
      return r.body;
    };
    const page = await scrape('productpage');
    expect(sumSamples(page, 'istio_requests_total', { reporter: 'destination', destination_workload: 'productpage', response_code: '200' })).toBeGreaterThanOrEqual(30);
    expect(sumSamples(page, 'istio_requests_total', { reporter: 'source', source_workload: 'productpage', destination_service_name: 'reviews', response_code: '200' })).toBeGreaterThanOrEqual(30);
    expect(sumSamples(page, 'istio_requests_total', { reporter: 'source', source_workload: 'productpage', destination_service_name: 'details', response_code: '200' })).toBeGreaterThanOrEqual(30);
    const v2Calls = pages.filter((p) => p.reviews.version === 'v2').length;
    expect(sumSamples(await scrape('reviews-v2'), 'istio_requests_total', { reporter: 'source', source_workload: 'reviews-v2', destination_service_name: 'ratings' })).toBeGreaterThanOrEqual(v2Calls);
    for (const r of ['ratings-1', 'ratings-2']) {
      expect(sumSamples(await scrape(r), 'istio_requests_total', { reporter: 'destination', source_workload: 'reviews-v2', destination_workload: r })).toBeGreaterThanOrEqual(1);
    }
    if (flavour === 'explicit') {
      // The app listens on loopback only: from outside its namespace there is no way around the sidecar.
      expect((await rig.nodeGet(`http://${rig.ipOf('productpage')}:9081/productpage`, 3000)).status).toBe(0);
    }
  });

  it.runIf(flavour === 'transparent')('loaded the interception rules in every workload with the init service, keeping Docker\'s DNS rules', async () => {
    for (const w of ['productpage', 'details', 'reviews-v1', 'reviews-v2', 'ratings-1', 'ratings-2']) {
      expect((await rig.procs.get(`${w}-init`)!.exited).code).toBe(0);
      const nat = (await rig.podShell(w, 'iptables -t nat -S')).stdout;
      expect(nat).toContain(DOCKER_DNS_RULE);
      expect(nat).toContain('-A OUTPUT -d 127.0.0.11/32 -j DOCKER_OUTPUT');
      expect(nat).toContain('-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports 15001');
      expect(nat).toContain('-A ISTIO_OUTPUT -d 127.0.0.11/32 -j RETURN');
    }
  });

  it('exports the sidecars\' spans to the tracing backend by its compose name', async () => {
    const services = await until(async () => {
      const r = await rig.nodeGet(`http://${rig.ipOf('jaeger')}:4318/spans`);
      const names = new Set((JSON.parse(r.body) as Array<{ serviceName: string }>).map((s) => s.serviceName));
      return ['productpage', 'details', 'reviews-v1'].every((n) => names.has(n)) ? names : undefined;
    }, 30_000, 500);
    expect(services.has('productpage')).toBe(true);
  });

  it.runIf(havePrometheus)('Prometheus from the compose file scrapes every sidecar by service name', async () => {
    const q = encodeURIComponent('count(up{job="meshlet-sidecars"} == 1)');
    await until(async () => {
      const r = await rig.nodeGet(`http://${rig.ipOf('prometheus')}:9090/api/v1/query?query=${q}`);
      const v = r.status === 200 ? (JSON.parse(r.body) as { data: { result: Array<{ value: [number, string] }> } }).data.result[0]?.value[1] : undefined;
      return v === '6' ? true : undefined;
    }, 45_000, 1000);
  });
});
