// In-cluster TLS for the injector without cert-manager: the CA lives in a
// Secret (created by whichever replica starts first; a 409 means another won,
// so re-read), every replica issues its own serving certificate from it, and
// the MutatingWebhookConfiguration's caBundle is set to that CA so the API
// server trusts every replica and every restart.
import { AdmissionregistrationV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { readOrCreateSecret } from '../sources/kubernetes/secret-once.js';
import { createCertAuthority, issueServingCert, loadCertAuthority, type CertAuthority, type PemPair } from './serving-cert.js';

export interface WebhookCertOptions {
  readonly kubeConfig: KubeConfig;
  /** Namespace of the control plane (the Secret and Service live there). */
  readonly namespace: string;
  readonly secretName: string;
  readonly serviceName: string;
  /** MutatingWebhookConfiguration to patch ('' = leave alone). */
  readonly webhookConfigName: string;
  readonly log: (level: 'info' | 'warn', msg: string) => void;
}

export interface WebhookCert {
  readonly caPem: string;
  readonly tls: PemPair;
}

/** DNS names the API server may use to reach the webhook Service. */
export function serviceDnsNames(service: string, namespace: string): string[] {
  return [service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`];
}

export async function bootstrapWebhookCert(o: WebhookCertOptions): Promise<WebhookCert> {
  const core = o.kubeConfig.makeApiClient(CoreV1Api);
  const ca = await loadOrCreateCa(core, o);
  const tls = await issueServingCert(ca, serviceDnsNames(o.serviceName, o.namespace));
  if (o.webhookConfigName !== '') await patchCaBundle(o, ca.certPem);
  return { caPem: ca.certPem, tls };
}

async function loadOrCreateCa(core: CoreV1Api, o: WebhookCertOptions): Promise<CertAuthority> {
  const { value, created } = await readOrCreateSecret(core, {
    namespace: o.namespace,
    name: o.secretName,
    decode: async (data) => {
      const crt = data?.['ca.crt'];
      const key = data?.['ca.key'];
      if (!crt || !key) throw new Error(`Secret ${o.namespace}/${o.secretName} lacks ca.crt/ca.key`);
      return loadCertAuthority({ certPem: Buffer.from(crt, 'base64').toString(), keyPem: Buffer.from(key, 'base64').toString() });
    },
    create: async () => {
      const ca = await createCertAuthority('meshlet-injector-ca');
      return { value: ca, data: { 'ca.crt': Buffer.from(ca.certPem).toString('base64'), 'ca.key': Buffer.from(ca.keyPem).toString('base64') } };
    },
  });
  if (created) o.log('info', `injector: created CA Secret ${o.namespace}/${o.secretName}`);
  return value;
}

async function patchCaBundle(o: WebhookCertOptions, caPem: string): Promise<void> {
  const api = o.kubeConfig.makeApiClient(AdmissionregistrationV1Api);
  const bundle = Buffer.from(caPem).toString('base64');
  const cfg = await api.readMutatingWebhookConfiguration({ name: o.webhookConfigName });
  const webhooks = cfg.webhooks ?? [];
  if (webhooks.every((w) => w.clientConfig.caBundle === bundle)) return;
  for (const w of webhooks) w.clientConfig.caBundle = bundle;
  // Replace carries resourceVersion: a concurrent writer makes this fail (409) instead of being overwritten.
  await api.replaceMutatingWebhookConfiguration({ name: o.webhookConfigName, body: cfg });
  o.log('info', `injector: caBundle of MutatingWebhookConfiguration ${o.webhookConfigName} set (${webhooks.length} webhook(s))`);
}
