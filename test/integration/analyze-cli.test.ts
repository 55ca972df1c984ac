// `meshlet analyze` and the CLI's manners, through the real binary.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIN, tempConfig } from '../support/meshlet-process.js';

const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30_000 });

const SE = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: reviews }
spec:
  hosts: [reviews]
  ports: [{ number: 9080, name: http }]
  endpoints: [{ address: 127.0.0.1 }]
`;

describe('meshlet analyze', () => {
  it('prints every error and warning with file, resource, path and severity; exit 1 on errors', () => {
    const dir = tempConfig({
      'a.yaml': `${SE}---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http: [{ timout: 2s, route: [{ destination: { host: reviews } }] }]
---
apiVersion: networking.istio.io/v1
kind: VirtualServce
metadata: { name: typo }
spec: {}
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
`,
      'b.yaml': `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews }
spec: { host: reviews, exportTo: ['.'] }
`,
    });
    const r = run(['analyze', dir]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`error: ${dir}/a.yaml: VirtualService/default/reviews: spec.http[0].timout: unknown field "timout" (did you mean \`timeout\`?)`);
    expect(r.stdout).toContain(`error: ${dir}/a.yaml: VirtualServce/default/typo: kind: unknown networking.istio.io kind "VirtualServce" (did you mean \`VirtualService\`?)`);
    expect(r.stdout).toContain(`warning: ${dir}/b.yaml: DestinationRule/default/reviews: spec.exportTo: accepted, not applied`);
    expect(r.stdout).toContain(`info: ${dir}/a.yaml: Deployment/default/web: : skipped: apps/v1 is not an Istio networking or security API`);
    expect(r.stdout).toMatch(/2 error\(s\), 1 warning\(s\), 1 note\(s\)/);
    const json = JSON.parse(run(['analyze', '--json', dir]).stdout) as { severity: string; path: string }[];
    expect(json.map((i) => i.severity).sort()).toEqual(['error', 'error', 'info', 'warning']);
  });

  it('exit 0 with warnings only; the shipped examples are clean', () => {
    const dir = tempConfig({ 'a.yaml': `${SE}---\napiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: { name: gw }\nspec: {}\n` });
    const r = run(['analyze', dir]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('warning: ');
    expect(run(['analyze', 'examples/config']).status).toBe(0);
  });
});

describe('CLI manners', () => {
  it('--version and version print the package version', () => {
    for (const v of ['--version', 'version']) {
      const r = run([v]);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/^meshlet \d+\.\d+\.\d+ \(node v\d+/);
    }
  });

  it('a misspelled flag gets a did-you-mean, a bad value one line without a stack trace', () => {
    const typo = run(['proxy', '--confg', 'x']);
    expect(typo.status).toBe(2);
    expect(typo.stderr.split('\n')[0]).toBe('unknown flag --confg (did you mean `--config`?)');
    const bad = run(['proxy', '--config', 'x', '--admin-port', 'abc']);
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim()).toBe('meshlet proxy: --admin-port must be an integer, got "abc"');
    expect(run(['statu']).stderr.split('\n')[0]).toBe('meshlet: unknown command "statu" (did you mean `status`?)');
  });
});
