// Bootstrap credentials for workloads outside Kubernetes: a YAML list of
// {token, nodeId, namespace, serviceAccount} (optionally `admin: true` for the
// operator's `meshlet status` / `meshlet config`). A token maps to exactly one
// node id and identity; tokens are kept only as SHA-256 digests and looked up
// by digest, so neither the lookup's timing nor a heap dump reveals them.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { z } from 'zod';
import { isValidIdentitySegment } from '../../proxy/config/model/index.js';
import type { Authenticator, Credential } from './credential.js';

/** Shorter tokens are refused: a bootstrap token must not be guessable. */
export const MIN_TOKEN_LENGTH = 16;

const segment = (what: string) => z.string().refine(isValidIdentitySegment, { message: `${what} must be a DNS label (lower-case letters, digits, '-', '.')` });

const ENTRY = z
  .object({
    token: z.string().min(MIN_TOKEN_LENGTH, { message: `token must be at least ${MIN_TOKEN_LENGTH} characters` }),
    nodeId: z.string().min(1),
    namespace: segment('namespace'),
    serviceAccount: segment('serviceAccount'),
    admin: z.boolean().optional(),
  })
  .strict();
const FILE = z.array(ENTRY);

const digest = (token: string): string => createHash('sha256').update(token).digest('hex');

export class BootstrapTokens implements Authenticator {
  readonly #byDigest: ReadonlyMap<string, Credential>;

  private constructor(byDigest: ReadonlyMap<string, Credential>) {
    this.#byDigest = byDigest;
  }

  get size(): number {
    return this.#byDigest.size;
  }

  /** Reads and validates the file; every problem is reported with its entry and field. */
  static async load(file: string): Promise<BootstrapTokens> {
    const text = await readFile(file, 'utf8');
    let doc: unknown;
    try {
      doc = parse(text);
    } catch (err) {
      throw new Error(`${file}: not YAML: ${(err as Error).message}`);
    }
    return BootstrapTokens.from(doc ?? [], file);
  }

  static from(doc: unknown, file = 'bootstrap tokens'): BootstrapTokens {
    const parsed = FILE.safeParse(doc);
    if (!parsed.success) {
      const lines = parsed.error.issues.map((i) => `${file}: [${i.path.join('.') || '(root)'}]: ${i.message}`);
      throw new Error(`invalid bootstrap tokens:\n  ${lines.join('\n  ')}`);
    }
    const map = new Map<string, Credential>();
    parsed.data.forEach((e, i) => {
      const d = digest(e.token);
      if (map.has(d)) throw new Error(`invalid bootstrap tokens:\n  ${file}: [${i}.token]: the same token appears twice`);
      map.set(d, Object.freeze({ nodeId: e.nodeId, namespace: e.namespace, serviceAccount: e.serviceAccount, admin: e.admin === true, via: 'bootstrap-token' }));
    });
    return new BootstrapTokens(map);
  }

  authenticate(token: string): Promise<Credential | undefined> {
    return Promise.resolve(this.#byDigest.get(digest(token)));
  }
}
