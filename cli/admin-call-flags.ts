// Flags shared by the commands that call the control plane's admin RPCs
// (`meshlet status`, `meshlet config`): TLS verified with its root, and an
// admin credential unless the command runs on the control plane's host.
import { readFileSync } from 'node:fs';
import { credentials } from '@grpc/grpc-js';
import type { AdminCallOptions } from '../control-plane/server/index.js';
import type { FlagSpec } from './flags.js';

export const ADMIN_CALL_FLAGS = {
  'ca-cert': { type: 'string', help: 'the control plane\'s root certificate, to verify it (TLS)' },
  'token-file': { type: 'string', help: 'an admin bootstrap token (not needed on the control plane\'s own host)' },
  insecure: { type: 'boolean', default: false, help: 'plaintext, for a control plane started with --insecure' },
} satisfies Record<string, FlagSpec>;

/** Call options from the flags; a string is why they are unusable. */
export function adminCallOptions(f: { 'ca-cert': string | undefined; 'token-file': string | undefined; insecure: boolean }): AdminCallOptions | string {
  if (f.insecure) return {};
  const ca = f['ca-cert'];
  if (ca === undefined) return 'give --ca-cert (the control plane\'s root-cert.pem) to verify the control plane, or --insecure for one started with --insecure';
  try {
    return {
      creds: credentials.createSsl(readFileSync(ca)),
      ...(f['token-file'] !== undefined ? { token: readFileSync(f['token-file'], 'utf8').trim() } : {}),
    };
  } catch (err) {
    return (err as Error).message;
  }
}
