// zod schema of AuthorizationPolicyModel, as a sidecar checks it when it comes
// off the wire. Unlike the rest of the model (mesh-config-schema.ts), these
// objects are strict: a field this sidecar does not know could narrow who is
// allowed, and ignoring it would fail open, so the snapshot is NACKed instead.

import { isIP } from 'node:net';
import { z } from 'zod';

const strings = z.array(z.string()).optional();
const ports = z.array(z.number().int().min(1).max(65535)).optional();

/** `10.0.0.1` or `10.0.0.0/8` (the layer hands these to node:net's BlockList). */
const ipBlock = z.string().refine((v) => {
  const [ip, bits, extra] = v.split('/');
  const family = isIP(ip ?? '');
  if (family === 0 || extra !== undefined) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
}, 'not an IP address or CIDR block');
const ipBlocks = z.array(ipBlock).optional();

const SourceSchema = z.strictObject({
  principals: strings,
  notPrincipals: strings,
  namespaces: strings,
  notNamespaces: strings,
  trustDomains: strings,
  notTrustDomains: strings,
  ipBlocks,
  notIpBlocks: ipBlocks,
  remoteIpBlocks: ipBlocks,
  notRemoteIpBlocks: ipBlocks,
});

const OperationSchema = z.strictObject({
  hosts: strings,
  notHosts: strings,
  ports,
  notPorts: ports,
  methods: strings,
  notMethods: strings,
  paths: strings,
  notPaths: strings,
});

const ConditionSchema = z
  .strictObject({
    key: z.enum(['request.headers', 'source.ip', 'remote.ip', 'source.namespace', 'source.principal', 'destination.ip', 'destination.port', 'connection.sni']),
    header: z.string().min(1).optional(),
    values: strings,
    notValues: strings,
  })
  .refine((c) => (c.key === 'request.headers') === (c.header !== undefined), 'request.headers needs `header`, and only it')
  .refine((c) => !['source.ip', 'remote.ip', 'destination.ip'].includes(c.key) || [...(c.values ?? []), ...(c.notValues ?? [])].every((v) => ipBlock.safeParse(v).success), 'not an IP address or CIDR block');

export const AuthorizationPolicyModelSchema = z.strictObject({
  name: z.string().min(1),
  namespace: z.string().min(1),
  selector: z.record(z.string(), z.string()).optional(),
  action: z.enum(['ALLOW', 'DENY', 'AUDIT']),
  rules: z.array(z.strictObject({ from: z.array(SourceSchema).optional(), to: z.array(OperationSchema).optional(), when: z.array(ConditionSchema).optional() })),
  source: z.string(),
});
