// The sidecar's CA client: CreateCertificate over its own channel to the
// control plane (unary, idle between rotations).
import type { CertificateResponse__Output } from '../../proto/gen/meshlet/v1/CertificateResponse.js';
import type { MeshDiscoveryClient } from '../../proto/gen/meshlet/v1/MeshDiscovery.js';
import { loadDiscoveryProto } from '../../proto/load.js';
import { callMetadata, channelCredentials, type ControlPlaneAuth } from './control-plane-credentials.js';

export class CertificateClient {
  readonly #client: MeshDiscoveryClient;
  readonly #auth: ControlPlaneAuth;
  readonly #timeoutMs: number;

  constructor(target: string, auth: ControlPlaneAuth, timeoutMs = 10_000) {
    const Client = loadDiscoveryProto().meshlet.v1.MeshDiscovery;
    this.#client = new Client(target, channelCredentials(auth));
    this.#auth = auth;
    this.#timeoutMs = timeoutMs;
  }

  create(csr: string, namespace: string, serviceAccount: string): Promise<CertificateResponse__Output> {
    return new Promise((resolve, reject) => {
      let md;
      try {
        md = callMetadata(this.#auth);
      } catch (err) {
        return reject(new Error(`cannot read the bootstrap token: ${(err as Error).message}`));
      }
      this.#client.CreateCertificate({ csr, namespace, serviceAccount }, md, { deadline: new Date(Date.now() + this.#timeoutMs) }, (err, res) => {
        if (err || res === undefined) reject(err ?? new Error('empty CreateCertificate reply'));
        else resolve(res);
      });
    });
  }

  close(): void {
    this.#client.close();
  }
}
