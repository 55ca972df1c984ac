// CreateCertificate: the CA behind the gRPC port. The caller's credential
// decides the identity (spiffe://<td>/ns/<ns>/sa/<sa>) and node id; the CSR only
// contributes its public key. What was issued to each node is kept for status.
import { status as GrpcStatus, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import type { CertificateRequest__Output } from '../../proto/gen/meshlet/v1/CertificateRequest.js';
import type { CertificateResponse } from '../../proto/gen/meshlet/v1/CertificateResponse.js';
import { CsrError, type CertificateAuthority } from '../ca/index.js';
import type { ControlPlaneMetrics } from '../metrics/index.js';
import type { CallDenial, CallGuard } from './call-guard.js';

export interface CertificateIssuer {
  readonly ca: CertificateAuthority;
  readonly trustDomain: string;
  /** Workload certificate lifetime. */
  readonly certTtlMs: number;
}

export interface IssuedRecord {
  readonly spiffeId: string;
  readonly notAfter: Date;
}

export class CertificateService {
  /** Last certificate per node id (bounded by the credentials that exist). */
  readonly issued = new Map<string, IssuedRecord>();
  readonly #guard: CallGuard;
  readonly #issuer: CertificateIssuer | undefined;
  readonly #metrics: ControlPlaneMetrics;
  readonly #log: (msg: string) => void;

  constructor(guard: CallGuard, issuer: CertificateIssuer | undefined, metrics: ControlPlaneMetrics, log: (msg: string) => void) {
    this.#guard = guard;
    this.#issuer = issuer;
    this.#metrics = metrics;
    this.#log = log;
  }

  readonly handle = (call: ServerUnaryCall<CertificateRequest__Output, CertificateResponse>, cb: sendUnaryData<CertificateResponse>): void => {
    void this.#handle(call).then(
      (res) => cb(null, res),
      (denial: CallDenial) => {
        if (denial.code === GrpcStatus.UNAUTHENTICATED) this.#metrics.callsDenied.inc({ rpc: 'CreateCertificate', reason: 'unauthenticated' });
        else if (denial.code === GrpcStatus.PERMISSION_DENIED) this.#metrics.callsDenied.inc({ rpc: 'CreateCertificate', reason: 'permission_denied' });
        cb(denial);
      },
    );
  };

  async #handle(call: ServerUnaryCall<CertificateRequest__Output, CertificateResponse>): Promise<CertificateResponse> {
    const issuer = this.#issuer;
    if (issuer === undefined || !this.#guard.secure) {
      throw { code: GrpcStatus.FAILED_PRECONDITION, details: 'this control plane runs --insecure: it has no CA and issues no certificates' } satisfies CallDenial;
    }
    const admission = await this.#guard.admit(call);
    if (!admission.ok) throw admission.denial;
    const cred = admission.credential!;
    const req = call.request;
    if ((req.namespace !== '' && req.namespace !== cred.namespace) || (req.serviceAccount !== '' && req.serviceAccount !== cred.serviceAccount)) {
      throw {
        code: GrpcStatus.PERMISSION_DENIED,
        details: `asked for ns/${req.namespace || '?'}/sa/${req.serviceAccount || '?'} but this credential is ns/${cred.namespace}/sa/${cred.serviceAccount}`,
      } satisfies CallDenial;
    }
    let cert;
    try {
      cert = await issuer.ca.signWorkload(req.csr, { trustDomain: issuer.trustDomain, namespace: cred.namespace, serviceAccount: cred.serviceAccount }, issuer.certTtlMs);
    } catch (err) {
      if (err instanceof CsrError) throw { code: GrpcStatus.INVALID_ARGUMENT, details: err.message } satisfies CallDenial;
      throw { code: GrpcStatus.INTERNAL, details: `signing failed: ${(err as Error).message}` } satisfies CallDenial;
    }
    this.issued.set(cred.nodeId, { spiffeId: cert.spiffeId, notAfter: cert.notAfter });
    this.#metrics.certificatesIssued.inc();
    this.#log(`CA: issued ${cert.spiffeId} to node ${cred.nodeId} (until ${cert.notAfter.toISOString()})`);
    return { certChain: cert.certChain.slice(), rootCert: cert.rootCert, spiffeId: cert.spiffeId, nodeId: cred.nodeId, expiresAt: cert.notAfter.toISOString() };
  }
}
