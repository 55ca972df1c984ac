// `meshlet inject -f FILE|-`: the webhook's injection, offline (like
// `istioctl kube-inject` / `linkerd inject`). Reads multi-document YAML (and
// `kind: List`), injects every Pod, Deployment, StatefulSet, DaemonSet,
// ReplicaSet, Job and CronJob, passes everything else through, writes YAML.
import { readFile } from 'node:fs/promises';
import { parseAllDocuments, stringify } from 'yaml';
import { DEFAULT_INJECT_SETTINGS, type InjectSettings } from '../../control-plane/injector/inject-settings.js';
import { injectWorkload } from '../../control-plane/injector/inject-workload.js';
import { flagsHelp, parseOrUsage, type FlagSpec } from '../flags.js';

const SPEC = {
  filename: { type: 'string', help: 'YAML file to inject, - for stdin (also -f)' },
  'proxy-image': { type: 'string', default: DEFAULT_INJECT_SETTINGS.image, help: 'image of the sidecar and init container' },
  'sidecar-control-plane': { type: 'string', default: DEFAULT_INJECT_SETTINGS.controlPlane, help: 'control plane address the sidecar subscribes to' },
  'sidecar-mode': { type: 'string', default: 'native', help: 'native (initContainers, restartPolicy: Always; Kubernetes >= 1.29) | classic' },
} satisfies Record<string, FlagSpec>;

export const help = flagsHelp(
  `Usage: meshlet inject -f FILE|- [flags] > injected.yaml

Adds the Meshlet sidecar (and its iptables init container) to every workload
in the YAML, like the webhook does. Pods annotated sidecar.meshlet.io/inject:
"false" and already-injected workloads are left as they are.`,
  SPEC,
);

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

export async function run(argv: string[]): Promise<number> {
  // -f is the kubectl spelling; parseArgs short options are declared per spec, so map it here.
  const args = argv.map((a) => (a === '-f' ? '--filename' : a));
  const parsed = parseOrUsage(args, SPEC, help);
  if (parsed === undefined) return 2;
  const f = parsed.flags;
  const file = f.filename;
  const mode = f['sidecar-mode'];
  if (file === undefined || (mode !== 'native' && mode !== 'classic')) {
    process.stderr.write(`${file === undefined ? '-f FILE|- is required' : '--sidecar-mode must be native or classic'}\n\n${help}`);
    return 2;
  }
  const settings: InjectSettings = { ...DEFAULT_INJECT_SETTINGS, image: f['proxy-image'] ?? DEFAULT_INJECT_SETTINGS.image, controlPlane: f['sidecar-control-plane'] ?? DEFAULT_INJECT_SETTINGS.controlPlane, nativeSidecar: mode === 'native' };
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (err) {
    process.stderr.write(`inject: ${(err as Error).message}\n`);
    return 1;
  }
  const docs = parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [];
  const out: string[] = [];
  let failed = false;
  list.forEach((doc, i) => {
    if (doc.errors.length > 0) {
      process.stderr.write(`inject: document ${i + 1}: ${doc.errors.map((e) => e.message).join('; ')}\n`);
      failed = true;
      return;
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) return;
    const one = (obj: unknown, where: string): unknown => {
      const r = injectWorkload(obj, settings);
      if (r.kind === 'invalid') {
        process.stderr.write(`inject: ${where}: ${r.reason}\n`);
        failed = true;
      } else if (r.kind === 'skipped') process.stderr.write(`inject: ${where}: not injected: ${r.reason}\n`);
      return r.kind === 'injected' ? r.object : obj;
    };
    const isList = typeof value === 'object' && (value as { kind?: unknown }).kind === 'List' && Array.isArray((value as { items?: unknown }).items);
    const result = isList
      ? { ...(value as object), items: ((value as { items: unknown[] }).items).map((item, j) => one(item, `document ${i + 1} items[${j}]`)) }
      : one(value, `document ${i + 1}`);
    out.push(stringify(result));
  });
  // Refuse rather than print a half-injected stream someone might apply.
  if (failed) return 1;
  process.stdout.write(out.join('---\n'));
  return 0;
}
