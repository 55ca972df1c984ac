// How the sidecar reaches an authenticated control plane: TLS verified against
// the control plane's root (--ca-cert), and a bearer credential on every call
// (--token-file, re-read on each use so a rotated projected token is picked up).
import { readFileSync } from 'node:fs';
import { credentials, Metadata, type ChannelCredentials } from '@grpc/grpc-js';

export interface ControlPlaneAuth {
  /** The control plane's root certificate (PEM). */
  readonly ca: Buffer;
  /** The bearer token; called for every call. */
  readonly token: () => string;
}

export function tokenFromFile(path: string): () => string {
  return () => readFileSync(path, 'utf8').trim();
}

export function channelCredentials(auth: ControlPlaneAuth | undefined): ChannelCredentials {
  return auth ? credentials.createSsl(auth.ca) : credentials.createInsecure();
}

export function callMetadata(auth: ControlPlaneAuth | undefined): Metadata {
  const md = new Metadata();
  if (auth) md.set('authorization', `Bearer ${auth.token()}`);
  return md;
}
