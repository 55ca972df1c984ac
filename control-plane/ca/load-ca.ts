// Where the CA's key and certificates come from: a directory the control plane
// owns (--ca-dir: a self-signed root created on first start and reused after,
// so restarts and replicas sharing the directory agree), or files the user
// provides (--ca-cert/--ca-key: a root, or an intermediate followed by its
// chain up to the root). Istio's file names, so plugged-in CA material fits.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CertificateAuthority } from './certificate-authority.js';
import { generateEcKeyPair, importSigningKey, privateKeyToPem, x509, type EcdsaParams } from './pem-keys.js';

export const CA_CERT_FILE = 'ca-cert.pem';
export const CA_KEY_FILE = 'ca-key.pem';
export const ROOT_CERT_FILE = 'root-cert.pem';

const ROOT_TTL_MS = 10 * 365 * 24 * 3600 * 1000;

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Loads the CA kept in `dir`, creating a self-signed root there if it holds none. */
export async function loadOrCreateCaDir(dir: string, trustDomain: string, log: (msg: string) => void): Promise<CertificateAuthority> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const certPath = join(dir, CA_CERT_FILE);
  const keyPath = join(dir, CA_KEY_FILE);
  const [cert, key] = await Promise.all([readIfExists(certPath), readIfExists(keyPath)]);
  if (cert !== undefined && key !== undefined) return loadCaPem(cert, key, certPath);
  if (cert !== undefined || key !== undefined) {
    throw new Error(`${dir}: has ${cert !== undefined ? CA_CERT_FILE : CA_KEY_FILE} but not ${cert !== undefined ? CA_KEY_FILE : CA_CERT_FILE}; refusing to replace half a CA`);
  }
  const { certPem, keyPem, notAfter } = await createRootPem(trustDomain);
  // 'wx': a replica that raced us to create the root wins; we then load theirs.
  try {
    await writeFile(keyPath, keyPem + '\n', { mode: 0o600, flag: 'wx' });
    await writeFile(certPath, certPem, { flag: 'wx' });
    await writeFile(join(dir, ROOT_CERT_FILE), certPem, { flag: 'w' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return loadOrCreateCaDir(dir, trustDomain, log);
  }
  log(`CA: created a new self-signed root in ${dir} (valid until ${notAfter.toISOString()}); sidecars verify the control plane with --ca-cert ${join(dir, ROOT_CERT_FILE)}`);
  return loadCaPem(certPem, keyPem, certPath);
}

/** A new self-signed root (ECDSA P-256, 10 years) as PEM, for a CA directory or Secret. */
export async function createRootPem(trustDomain: string): Promise<{ certPem: string; keyPem: string; notAfter: Date }> {
  const keys = await generateEcKeyPair();
  const root = await x509.X509CertificateGenerator.createSelfSigned({
    name: `O=${trustDomain}, CN=Meshlet root CA`,
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + ROOT_TTL_MS),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: root.toString('pem') + '\n', keyPem: await privateKeyToPem(keys.privateKey), notAfter: root.notAfter };
}

/** A user-provided CA: `certFile` holds the signing certificate, then any chain up to the root. */
export async function loadProvidedCa(certFile: string, keyFile: string): Promise<CertificateAuthority> {
  const [cert, key] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
  return loadCaPem(cert, key, certFile);
}

export async function loadCaPem(certPem: string, keyPem: string, where: string): Promise<CertificateAuthority> {
  let certs: x509.X509Certificate[];
  try {
    certs = x509.PemConverter.decode(certPem).map((der) => new x509.X509Certificate(der));
  } catch (err) {
    throw new Error(`${where}: not a PEM certificate bundle: ${(err as Error).message}`);
  }
  const signingCert = certs[0];
  if (signingCert === undefined) throw new Error(`${where}: no certificate found`);
  const bc = signingCert.getExtension(x509.BasicConstraintsExtension);
  if (!bc?.ca) throw new Error(`${where}: the first certificate is not a CA certificate (basicConstraints CA:TRUE missing)`);
  if (signingCert.notAfter.getTime() <= Date.now()) throw new Error(`${where}: the CA certificate expired at ${signingCert.notAfter.toISOString()}`);
  let key;
  try {
    key = await importSigningKey(keyPem);
  } catch (err) {
    throw new Error(`${where}: CA key: ${(err as Error).message}`);
  }
  const last = certs[certs.length - 1]!;
  // The root is the last certificate if it is self-signed; otherwise the chain
  // stops at an intermediate and sidecars must trust that one.
  const rootIsLast = certs.length > 1 && (await last.isSelfSigned());
  const root = certs.length === 1 ? signingCert : last;
  // What a workload sends after its leaf: the signing cert (when it is not the
  // root) and anything between it and the root.
  const intermediates = certs.length === 1 ? [] : certs.slice(0, rootIsLast ? -1 : undefined).map((c) => c.toString('pem'));
  return new CertificateAuthority({ signingCert, intermediates, rootPem: root.toString('pem') + '\n', key });
}
