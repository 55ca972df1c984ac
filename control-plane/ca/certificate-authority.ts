// The control plane's CA: signs short-lived workload certificates whose only
// name is the SPIFFE ID the caller's credential maps to (whatever the CSR
// asks for), and the control plane's own serving certificate. The signing key
// is either a root we generated (kept in --ca-dir) or one the user brought
// (--ca-cert/--ca-key, possibly an intermediate under their own root).
import { isIP } from 'node:net';
import { formatSpiffeId, type SpiffeIdentity } from '../../proxy/config/model/index.js';
import { generateEcKeyPair, privateKeyToPem, x509, type CryptoKey, type SigningKey } from './pem-keys.js';

export interface IssuedCertificate {
  /** Leaf first, then the CA chain up to (not including) the root. */
  readonly certChain: readonly string[];
  readonly rootCert: string;
  readonly spiffeId: string;
  readonly notAfter: Date;
}

export interface CaMaterial {
  /** The certificate whose key signs: the root itself, or an intermediate. */
  readonly signingCert: x509.X509Certificate;
  /** The chain a leaf is sent with: the signing cert when it is not the root, up to (excluding) the root (PEM). */
  readonly intermediates: readonly string[];
  readonly rootPem: string;
  readonly key: SigningKey;
}

/** A CSR larger than this is refused before parsing (a P-256 CSR is ~400 bytes). */
const MAX_CSR_BYTES = 16 * 1024;
/** Clock skew allowance: certificates are valid from a minute ago. */
const BACKDATE_MS = 60_000;

export class CsrError extends Error {}

export class CertificateAuthority {
  readonly #m: CaMaterial;

  constructor(material: CaMaterial) {
    this.#m = material;
  }

  /** The root every workload and sidecar trusts (PEM). */
  get rootPem(): string {
    return this.#m.rootPem;
  }

  get notAfter(): Date {
    return this.#m.signingCert.notAfter;
  }

  /**
   * Signs `csrPem`'s public key for `identity`. The CSR must be well-formed and
   * self-signed (proof the caller holds the key); its requested names are
   * ignored: the identity comes from the authenticated credential only.
   */
  async signWorkload(csrPem: string, identity: SpiffeIdentity, ttlMs: number, now = Date.now()): Promise<IssuedCertificate> {
    if (csrPem.length > MAX_CSR_BYTES) throw new CsrError(`CSR larger than ${MAX_CSR_BYTES} bytes`);
    let csr: x509.Pkcs10CertificateRequest;
    try {
      csr = new x509.Pkcs10CertificateRequest(csrPem);
    } catch (err) {
      throw new CsrError(`malformed CSR: ${(err as Error).message}`);
    }
    if (!(await csr.verify())) throw new CsrError('CSR signature does not verify');
    const spiffeId = formatSpiffeId(identity);
    const notAfter = new Date(now + ttlMs);
    const cert = await this.#sign(csr.publicKey, notAfter, now, [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      // Istio's workload certificates: empty subject, so the SAN is critical.
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: spiffeId }], true),
    ]);
    return { certChain: [cert.toString('pem'), ...this.#m.intermediates], rootCert: this.#m.rootPem, spiffeId, notAfter };
  }

  /** A serving certificate (with a fresh key) for the control plane's own names and addresses. */
  async issueServing(names: readonly string[], spiffeId: string, ttlMs: number, now = Date.now()): Promise<{ certChainPem: string; keyPem: string }> {
    const keys = await generateEcKeyPair();
    const sans: x509.JsonGeneralName[] = names.map((n) => ({ type: isIP(n) ? 'ip' : 'dns', value: n }));
    sans.push({ type: 'url', value: spiffeId });
    const cert = await this.#sign(keys.publicKey, new Date(now + ttlMs), now, [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension(sans, true),
    ]);
    return { certChainPem: [cert.toString('pem'), ...this.#m.intermediates].join('\n'), keyPem: await privateKeyToPem(keys.privateKey) };
  }

  async #sign(publicKey: x509.PublicKey | CryptoKey, notAfter: Date, now: number, extensions: x509.Extension[]): Promise<x509.X509Certificate> {
    const issuer = this.#m.signingCert;
    // A certificate must not outlive the CA that signed it.
    const end = notAfter.getTime() > issuer.notAfter.getTime() ? issuer.notAfter : notAfter;
    return x509.X509CertificateGenerator.create({
      subject: '',
      issuer: issuer.subjectName,
      publicKey,
      signingKey: this.#m.key.key,
      signingAlgorithm: this.#m.key.algorithm,
      notBefore: new Date(now - BACKDATE_MS),
      notAfter: end,
      extensions: [
        ...extensions,
        await x509.AuthorityKeyIdentifierExtension.create(issuer.publicKey),
        await x509.SubjectKeyIdentifierExtension.create(publicKey),
      ],
    });
  }
}
