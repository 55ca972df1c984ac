// The injector's own TLS: a small CA (ECDSA P-256, 10 years) that signs a
// short-lived serving certificate for the webhook Service's DNS names, so no
// cert-manager is needed. The CA is what goes into the webhook's caBundle;
// kept in a Secret in-cluster, so restarts and replicas present certificates
// the API server already trusts. Certificates are built with @peculiar/x509
// over node's WebCrypto (no hand-rolled ASN.1).
// @peculiar/x509 needs a Reflect metadata polyfill loaded before it.
import 'reflect-metadata';
import { randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

type CryptoKey = webcrypto.CryptoKey;
type Crypto = webcrypto.Crypto;

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;

export interface PemPair {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface CertAuthority extends PemPair {
  readonly cert: x509.X509Certificate;
  readonly privateKey: CryptoKey;
}

function crypto(): Crypto {
  return webcrypto;
}

function serial(): string {
  // Positive 16-byte serial (top bit cleared).
  const b = randomBytes(16);
  b[0] = (b[0] ?? 0) & 0x7f;
  return b.toString('hex');
}

async function keyPem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await crypto().subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

export async function createCertAuthority(commonName: string, now = Date.now()): Promise<CertAuthority> {
  const keys = await crypto().subtle.generateKey(ALG, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: serial(),
      name: `CN=${commonName}`,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + 3650 * DAY),
      keys,
      signingAlgorithm: ALG,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto()),
      ],
    },
    crypto(),
  );
  return { cert, privateKey: keys.privateKey, certPem: cert.toString('pem'), keyPem: await keyPem(keys.privateKey) };
}

/** Loads a CA kept as PEM (the Secret's `ca.crt` / `ca.key`). */
export async function loadCertAuthority(pair: PemPair): Promise<CertAuthority> {
  const cert = new x509.X509Certificate(pair.certPem);
  const der = x509.PemConverter.decode(pair.keyPem)[0];
  if (!der) throw new Error('CA key: no PEM block');
  const privateKey = await crypto().subtle.importKey('pkcs8', der, ALG, true, ['sign']);
  return { cert, privateKey, certPem: pair.certPem, keyPem: pair.keyPem };
}

/** A serving certificate (server auth) for these DNS names / IPs, valid `days` days. */
export async function issueServingCert(ca: CertAuthority, dnsNames: readonly string[], ips: readonly string[] = [], days = 365, now = Date.now()): Promise<PemPair> {
  const keys = await crypto().subtle.generateKey(ALG, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serial(),
      subject: `CN=${dnsNames[0] ?? ips[0] ?? 'meshlet'}`,
      issuer: ca.cert.subject,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + days * DAY),
      publicKey: keys.publicKey,
      signingKey: ca.privateKey,
      signingAlgorithm: ALG,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
        new x509.SubjectAlternativeNameExtension([...dnsNames.map((value) => ({ type: 'dns' as const, value })), ...ips.map((value) => ({ type: 'ip' as const, value }))], false),
        await x509.AuthorityKeyIdentifierExtension.create(ca.cert, false, crypto()),
      ],
    },
    crypto(),
  );
  return { certPem: cert.toString('pem'), keyPem: await keyPem(keys.privateKey) };
}
