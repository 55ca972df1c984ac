// The CA root kept in a Kubernetes Secret, so every replica and every restart
// of the control plane signs with the same root (the file-based --ca-dir does
// the same on one disk). Whichever replica starts first creates it; a create
// conflict (409) means another won, so we load theirs. Istio's key names
// (`ca-cert.pem`, `ca-key.pem`, `root-cert.pem`), as in its `istio-ca-secret`.
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { CertificateAuthority } from './certificate-authority.js';
import { CA_CERT_FILE, CA_KEY_FILE, ROOT_CERT_FILE, createRootPem, loadCaPem } from './load-ca.js';

export interface CaSecretOptions {
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  readonly name: string;
  readonly trustDomain: string;
  readonly log: (msg: string) => void;
}

function codeOf(err: unknown): number | undefined {
  const c = (err as { code?: unknown }).code;
  return typeof c === 'number' ? c : undefined;
}

export async function loadOrCreateCaSecret(o: CaSecretOptions): Promise<CertificateAuthority> {
  const core = o.kubeConfig.makeApiClient(CoreV1Api);
  const where = `Secret ${o.namespace}/${o.name}`;
  const read = async (): Promise<CertificateAuthority | undefined> => {
    let data: Record<string, string> | undefined;
    try {
      data = (await core.readNamespacedSecret({ name: o.name, namespace: o.namespace })).data;
    } catch (err) {
      if (codeOf(err) === 404) return undefined;
      throw new Error(`${where}: cannot read the CA: ${(err as Error).message}`, { cause: err });
    }
    const cert = data?.[CA_CERT_FILE];
    const key = data?.[CA_KEY_FILE];
    // Half a CA is never replaced: that would silently split the mesh's trust.
    if (cert === undefined || key === undefined) throw new Error(`${where} lacks ${CA_CERT_FILE} or ${CA_KEY_FILE}; refusing to replace it`);
    return loadCaPem(Buffer.from(cert, 'base64').toString(), Buffer.from(key, 'base64').toString(), where);
  };
  const existing = await read();
  if (existing !== undefined) return existing;
  const { certPem, keyPem, notAfter } = await createRootPem(o.trustDomain);
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  try {
    await core.createNamespacedSecret({
      namespace: o.namespace,
      body: {
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'Opaque',
        metadata: { name: o.name, namespace: o.namespace, labels: { 'app.kubernetes.io/part-of': 'meshlet' } },
        data: { [CA_CERT_FILE]: b64(certPem), [CA_KEY_FILE]: b64(keyPem + '\n'), [ROOT_CERT_FILE]: b64(certPem) },
      },
    });
  } catch (err) {
    if (codeOf(err) !== 409) throw new Error(`${where}: cannot create the CA: ${(err as Error).message}`, { cause: err });
    const theirs = await read();
    if (theirs === undefined) throw new Error(`${where} vanished after a create conflict`, { cause: err });
    return theirs;
  }
  o.log(`CA: created a new self-signed root in ${where} (valid until ${notAfter.toISOString()})`);
  return loadCaPem(certPem, keyPem, where);
}
