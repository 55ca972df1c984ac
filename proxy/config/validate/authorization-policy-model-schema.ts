// zod schema of AuthorizationPolicyModel, as a sidecar checks it when it comes
// off the wire. Unlike the rest of the model (mesh-config-schema.ts), these
// objects are strict: a field this sidecar does not know could narrow who is
// allowed, and ignoring it would fail open, so the snapshot is NACKed instead.

import { z } from 'zod';
import { conditionHeaderRule, conditionIpRule, IP_BLOCK_REASON, isIpBlock } from './model-rules.js';

const strings = z.array(z.string()).optional();
const ports = z.array(z.number().int().min(1).max(65535)).optional();

/** `10.0.0.1` or `10.0.0.0/8` (the layer hands these to node:net's BlockList). */
const ipBlock = z.string().refine(isIpBlock, IP_BLOCK_REASON);
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
  .refine((c) => conditionHeaderRule(c) === undefined, 'request.headers needs `header`, and only it')
  .refine((c) => conditionIpRule(c) === undefined, IP_BLOCK_REASON);

export const AuthorizationPolicyModelSchema = z.strictObject({
  name: z.string().min(1),
  namespace: z.string().min(1),
  selector: z.record(z.string(), z.string()).optional(),
  action: z.enum(['ALLOW', 'DENY', 'AUDIT']),
  rules: z.array(z.strictObject({ from: z.array(SourceSchema).optional(), to: z.array(OperationSchema).optional(), when: z.array(ConditionSchema).optional() })),
  source: z.string(),
});
