// The CA root kept in a Kubernetes Secret, so every replica and every restart
// of the control plane signs with the same root (the file-based --ca-dir does
// the same on one disk). Whichever replica starts first creates it; a create
// conflict (409) means another won, so we load theirs. Istio's key names
// (`ca-cert.pem`, `ca-key.pem`, `root-cert.pem`), as in its `istio-ca-secret`.
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { CertificateAuthority } from './certificate-authority.js';
import { CA_CERT_FILE, CA_KEY_FILE, ROOT_CERT_FILE, createRootPem, loadCaPem } from './load-ca.js';
import { readOrCreateSecret } from '../sources/kubernetes/secret-once.js';

export interface CaSecretOptions {
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  readonly name: string;
  readonly trustDomain: string;
  readonly log: (msg: string) => void;
}

export async function loadOrCreateCaSecret(o: CaSecretOptions): Promise<CertificateAuthority> {
  const where = `Secret ${o.namespace}/${o.name}`;
  const b64 = (t: string): string => Buffer.from(t).toString('base64');
  let notAfter: Date | undefined;
  const { value, created } = await readOrCreateSecret(o.kubeConfig.makeApiClient(CoreV1Api), {
    namespace: o.namespace,
    name: o.name,
    decode: async (data) => {
      const cert = data?.[CA_CERT_FILE];
      const key = data?.[CA_KEY_FILE];
      // Half a CA is never replaced: that would silently split the mesh's trust.
      if (cert === undefined || key === undefined) throw new Error(`${where} lacks ${CA_CERT_FILE} or ${CA_KEY_FILE}; refusing to replace it`);
      return loadCaPem(Buffer.from(cert, 'base64').toString(), Buffer.from(key, 'base64').toString(), where);
    },
    create: async () => {
      const root = await createRootPem(o.trustDomain);
      notAfter = root.notAfter;
      return {
        value: await loadCaPem(root.certPem, root.keyPem, where),
        data: { [CA_CERT_FILE]: b64(root.certPem), [CA_KEY_FILE]: b64(root.keyPem + '\n'), [ROOT_CERT_FILE]: b64(root.certPem) },
      };
    },
    readError: (err) => new Error(`${where}: cannot read the CA: ${err.message}`, { cause: err }),
    createError: (err) => new Error(`${where}: cannot create the CA: ${err.message}`, { cause: err }),
  });
  if (created) o.log(`CA: created a new self-signed root in ${where} (valid until ${notAfter!.toISOString()})`);
  return value;
}
