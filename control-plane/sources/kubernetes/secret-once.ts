// A Secret that is created once and then shared: whichever control-plane
// replica starts first creates it; a create conflict (409) means another
// replica won, so its Secret is read and used. Both the CA root (--ca-secret)
// and the injector's webhook CA are kept this way.
import type { CoreV1Api } from '@kubernetes/client-node';

/** The HTTP status of a @kubernetes/client-node error, if it carries one. */
export function apiStatusOf(err: unknown): number | undefined {
  const c = (err as { code?: unknown }).code;
  return typeof c === 'number' ? c : undefined;
}

export interface SecretOnce<T> {
  readonly namespace: string;
  readonly name: string;
  /** The value from an existing Secret's data (throws when the Secret is unusable). */
  readonly decode: (data: Record<string, string> | undefined) => Promise<T>;
  /** A new value and the Secret data (base64) that stores it. */
  readonly create: () => Promise<{ readonly value: T; readonly data: Record<string, string> }>;
  /** Wraps a read error other than 404. */
  readonly readError?: (err: Error) => Error;
  /** Wraps a create error other than 409. */
  readonly createError?: (err: Error) => Error;
}

/** The existing value, or a new one stored in a new Secret; `created` says which. */
export async function readOrCreateSecret<T>(core: CoreV1Api, o: SecretOnce<T>): Promise<{ value: T; created: boolean }> {
  const where = `Secret ${o.namespace}/${o.name}`;
  const read = async (): Promise<T | undefined> => {
    let data: Record<string, string> | undefined;
    try {
      data = (await core.readNamespacedSecret({ name: o.name, namespace: o.namespace })).data;
    } catch (err) {
      if (apiStatusOf(err) === 404) return undefined;
      throw o.readError !== undefined ? o.readError(err as Error) : err;
    }
    return o.decode(data);
  };
  const existing = await read();
  if (existing !== undefined) return { value: existing, created: false };
  const { value, data } = await o.create();
  try {
    await core.createNamespacedSecret({
      namespace: o.namespace,
      body: { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: o.name, namespace: o.namespace, labels: { 'app.kubernetes.io/part-of': 'meshlet' } }, data },
    });
  } catch (err) {
    if (apiStatusOf(err) !== 409) throw o.createError !== undefined ? o.createError(err as Error) : err;
    const theirs = await read();
    if (theirs === undefined) throw new Error(`${where} vanished after a create conflict`, { cause: err });
    return { value: theirs, created: false };
  }
  return { value, created: true };
}
