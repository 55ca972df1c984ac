// What the demo changes while traffic flows, and when. Each step is an
// ordinary operator action: edit the Istio YAML the control plane watches, or
// (re)deploy a pod.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { writeConfig } from './mesh.js';

export interface Step {
  /** Seconds after traffic starts. */
  readonly atS: number;
  readonly title: string;
  run(): Promise<void>;
}

export interface ScenarioDeps {
  readonly root: string;
  readonly configDir: string;
  /** Restarts reviews-v3-b's app with this FAIL_RATE. */
  restartV3b(failRate: number): Promise<void>;
}

/** The files from examples/config/ the demo serves unchanged at the start. */
export const COPIED_FILES = ['20-destination-rules.yaml', '30-virtual-services.yaml'] as const;

/** `examples/config/30-virtual-services.yaml` with its `reviews` VirtualService replaced by `replacement`. */
export function replaceVirtualService(allText: string, name: string, replacement: string): string {
  const docs = parseAllDocuments(allText);
  const out: string[] = [];
  for (const d of docs) {
    const js = d.toJS() as { kind?: string; metadata?: { name?: string } } | null;
    out.push(js?.kind === 'VirtualService' && js.metadata?.name === name ? replacement.trim() + '\n' : String(d).trim() + '\n');
  }
  return out.join('---\n');
}

/** Step times scale with `stepS` (default 10 s) so tests can run the whole story quickly. */
export function demoSteps(deps: ScenarioDeps, stepS: number): Step[] {
  return [
    {
      atS: stepS,
      title: 'canary: reviews split 80/20 → 50/50 v1/v3 (new VirtualService written to the control plane)',
      run: async () => {
        const base = await readFile(join(deps.root, 'examples/config/30-virtual-services.yaml'), 'utf8');
        const canary = await readFile(join(deps.root, 'examples/demo-config/reviews-canary.yaml'), 'utf8');
        await writeConfig(deps.configDir, '30-virtual-services.yaml', replaceVirtualService(base, 'reviews', canary));
      },
    },
    {
      atS: stepS * 2,
      title: 'reviews-v3-b breaks (restarted with FAIL_RATE=1): watch retries hide it and outlier detection eject it',
      run: () => deps.restartV3b(1),
    },
    {
      atS: stepS * 4,
      title: 'reviews-v3-b fixed (restarted healthy): back in rotation when its ejection (30 s) ends',
      run: () => deps.restartV3b(0),
    },
  ];
}
