// The compose examples, checked without Docker: each file validates against
// the Compose specification's JSON schema (the copy the dclint package ships,
// compose-spec/compose-spec's schema/compose-spec.json), and hangs together:
// every reference names a service, volume or file that exists, and what the
// sidecars, the init containers and Prometheus expect matches.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadComposeFile, startOrder } from '../../test/support/compose-file.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const FLAVOURS = ['explicit', 'transparent'] as const;
// dclint's package exports hide the file from require.resolve; it sits at a fixed place in the package.
const schema = JSON.parse(readFileSync(join(HERE, '../../node_modules/dclint/schemas/compose.schema.json'), 'utf8')) as Record<string, unknown>;
const ajv = new Ajv({ allErrors: true, strict: false });
// The file names draft-07 by its https URI; Ajv knows the meta-schema by the
// http one. Register it under both, so the schema itself is checked too.
const draft07 = JSON.parse(readFileSync(join(HERE, '../../node_modules/ajv/dist/refs/json-schema-draft-07.json'), 'utf8')) as Record<string, unknown>;
ajv.addMetaSchema({ ...draft07, $id: 'https://json-schema.org/draft-07/schema' });
const validate = ajv.compile(schema);
const WORKLOADS = ['productpage', 'details', 'reviews-v1', 'reviews-v2', 'ratings-1', 'ratings-2'];

function errorsOf(doc: unknown): string[] {
  return validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}

describe('the Compose-spec schema (sanity: it can fail)', () => {
  it('is the official one and rejects what Compose rejects', () => {
    expect(schema['title']).toBe('Compose Specification');
    expect(errorsOf({ services: { a: { image: 'x', network_mode: 5 } } })).not.toEqual([]);
    expect(errorsOf({ services: { a: { image: 'x', netwrk_mode: 'host' } } })).not.toEqual([]);
    expect(errorsOf({ services: { a: { image: 'x', depends_on: { b: { condition: 'service_ready' } } } } })).not.toEqual([]);
    expect(errorsOf({ services: { a: { image: 'x', network_mode: 'service:b' } } })).toEqual([]);
  });
});

describe.each(FLAVOURS)('examples/compose/%s/compose.yaml', (flavour) => {
  const path = join(HERE, flavour, 'compose.yaml');
  const file = loadComposeFile(path);
  const svc = (name: string) => {
    const s = file.services.get(name);
    if (s === undefined) throw new Error(`no service ${name}`);
    return s;
  };

  it('validates against the Compose specification schema', () => {
    expect(errorsOf(file.document)).toEqual([]);
    // Also as written (merge keys unresolved would be a "<<" property): the resolved form is what Compose validates.
    expect(Object.keys(parse(readFileSync(path, 'utf8')) as object)).toContain('services');
  });

  it('references only services, volumes and files that exist, with no dependency cycle', () => {
    const order = startOrder(file).map((s) => s.name);
    expect(order.indexOf('meshlet-bootstrap')).toBeLessThan(order.indexOf('meshlet-control-plane'));
    const volumes = Object.keys((file.document['volumes'] ?? {}) as object);
    for (const s of file.services.values()) {
      for (const src of s.mounts.values()) {
        if (src.startsWith('volume:')) expect(volumes, `${s.name}: ${src}`).toContain(src.slice('volume:'.length));
        else expect(existsSync(src), `${s.name}: ${src}`).toBe(true);
      }
    }
  });

  it('gives every workload a sidecar in its network namespace with its own token, and Prometheus scrapes them all', () => {
    const bootstrap = svc('meshlet-bootstrap').command ?? [];
    const prom = readFileSync(join(HERE, 'prometheus.yml'), 'utf8');
    for (const w of WORKLOADS) {
      const proxy = svc(`${w}-proxy`);
      expect(proxy.joins).toBe(w);
      expect(proxy.dependsOn.get('meshlet-control-plane')).toBe('service_healthy');
      expect(proxy.environment['MESHLET_WORKLOAD']).toBe(w);
      expect(proxy.environment['MESHLET_TOKEN_FILE']).toBe(`/var/lib/meshlet/tokens/${w}.token`);
      // The token's service account is the one the sidecar claims.
      expect(bootstrap).toContain(`${w}=${proxy.environment['MESHLET_SERVICE_ACCOUNT'] ?? ''}`);
      expect(prom).toContain(`${w}:15090`);
      // Apps never run as the sidecar's uid (1337 is never captured).
      expect(svc(w).user?.uid).not.toBe(1337);
    }
    // Replicas and versions behind one name, as the ServiceEntries expect.
    expect(svc('ratings-1').aliases).toContain('ratings');
    expect(svc('ratings-2').aliases).toContain('ratings');
    expect(svc('reviews-v1').aliases).toContain('reviews');
  });

  if (flavour === 'explicit') {
    it('needs no capabilities: apps use the standard HTTP_PROXY/NO_PROXY and listen on loopback behind the sidecar', () => {
      for (const s of file.services.values()) expect(s.capAdd, s.name).toEqual([]);
      for (const w of WORKLOADS) {
        const env = svc(w).environment;
        expect(env['HTTP_PROXY']).toBe('http://127.0.0.1:15001');
        expect(env['NO_PROXY']).toContain('localhost');
        expect(env['HOST']).toBe('127.0.0.1');
        expect(svc(`${w}-proxy`).environment['MESHLET_APP_PORT']).toBe(env['PORT']);
      }
    });
  } else {
    it('runs `meshlet iptables` in an init service with NET_ADMIN, without flushing Docker\'s DNS rules, before the sidecar', () => {
      for (const w of WORKLOADS) {
        const init = svc(`${w}-init`);
        expect(init.joins).toBe(w);
        expect(init.capAdd).toContain('NET_ADMIN');
        expect(init.user?.uid).toBe(0);
        const cmd = [...(init.entrypoint ?? []), ...(init.command ?? [])].join(' ');
        expect(init.entrypoint).toBeUndefined(); // the image's: meshlet
        expect(cmd).toMatch(/^iptables --apply /);
        expect(svc(`${w}-proxy`).dependsOn.get(`${w}-init`)).toBe('service_completed_successfully');
        expect(svc(w).environment['HTTP_PROXY']).toBeUndefined();
      }
    });
  }
});
