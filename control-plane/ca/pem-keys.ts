// Key material for the CA: WebCrypto keys (what @peculiar/x509 signs with)
// from and to PEM, through Node's crypto so any PKCS#1/SEC1/PKCS#8 PEM a user
// brings (RSA or EC) is accepted. No ASN.1 is written here.
import 'reflect-metadata';
import { createPrivateKey, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

// @peculiar/x509 types its provider as the DOM's Crypto; Node's webcrypto is that API.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export type CryptoKey = webcrypto.CryptoKey;
export type CryptoKeyPair = webcrypto.CryptoKeyPair;
export type EcdsaParams = webcrypto.EcdsaParams;

export const subtle = webcrypto.subtle;

export interface SigningKey {
  readonly key: CryptoKey;
  /** What the certificates it signs say they are signed with. */
  readonly algorithm: webcrypto.Algorithm | EcdsaParams;
}

export const EC_P256: webcrypto.EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };
const ECDSA_SHA256: EcdsaParams = { name: 'ECDSA', hash: 'SHA-256' };
const RSA_SHA256: webcrypto.RsaHashedImportParams = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };

export async function generateEcKeyPair(): Promise<CryptoKeyPair> {
  return (await subtle.generateKey(EC_P256, true, ['sign', 'verify'])) as CryptoKeyPair;
}

export async function privateKeyToPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await subtle.exportKey('pkcs8', key));
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

/** A signing key from PEM: EC (P-256/384/521) or RSA. */
export async function importSigningKey(pem: string): Promise<SigningKey> {
  const k = createPrivateKey(pem);
  const der = k.export({ format: 'der', type: 'pkcs8' });
  if (k.asymmetricKeyType === 'ec') {
    const curve = k.asymmetricKeyDetails?.namedCurve;
    const namedCurve = curve === 'prime256v1' ? 'P-256' : curve === 'secp384r1' ? 'P-384' : curve === 'secp521r1' ? 'P-521' : undefined;
    if (namedCurve === undefined) throw new Error(`unsupported EC curve ${curve ?? '?'} (P-256, P-384 or P-521)`);
    const key = await subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve }, false, ['sign']);
    return { key, algorithm: { ...ECDSA_SHA256, hash: namedCurve === 'P-256' ? 'SHA-256' : 'SHA-384' } as EcdsaParams };
  }
  if (k.asymmetricKeyType === 'rsa') {
    const key = await subtle.importKey('pkcs8', der, RSA_SHA256, false, ['sign']);
    return { key, algorithm: RSA_SHA256 };
  }
  throw new Error(`unsupported CA key type ${k.asymmetricKeyType ?? '?'} (EC or RSA)`);
}

export { x509 };
