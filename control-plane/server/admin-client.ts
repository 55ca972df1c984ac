// Client for the admin RPCs (GetStatus / GetNodeConfig), used by the CLI.
import { credentials, Metadata, type ChannelCredentials } from '@grpc/grpc-js';
import { loadDiscoveryProto } from '../../proto/load.js';
import type { NodeConfigResponse__Output } from '../../proto/gen/meshlet/v1/NodeConfigResponse.js';
import type { StatusResponse__Output } from '../../proto/gen/meshlet/v1/StatusResponse.js';
import type { ExperimentReply__Output } from '../../proto/gen/meshlet/v1/ExperimentReply.js';

export type ExperimentReply = ExperimentReply__Output;

export type StatusReply = StatusResponse__Output;
export type NodeConfigReply = NodeConfigResponse__Output;

export interface AdminCallOptions {
  /** Default plaintext (an --insecure control plane); TLS: credentials.createSsl(root). */
  readonly creds?: ChannelCredentials;
  /** Bearer token of an admin credential (not needed from the control plane's own host). */
  readonly token?: string;
  readonly timeoutMs?: number;
}

function metadata(opts: AdminCallOptions): Metadata {
  const md = new Metadata();
  if (opts.token !== undefined) md.set('authorization', `Bearer ${opts.token}`);
  return md;
}

function unary<Res>(target: string, opts: AdminCallOptions, call: (c: InstanceType<ReturnType<typeof loadDiscoveryProto>['meshlet']['v1']['MeshDiscovery']>, deadline: Date, cb: (err: Error | null, res?: Res) => void) => void): Promise<Res> {
  const Client = loadDiscoveryProto().meshlet.v1.MeshDiscovery;
  const client = new Client(target, opts.creds ?? credentials.createInsecure());
  const deadline = new Date(Date.now() + (opts.timeoutMs ?? 5000));
  return new Promise<Res>((resolve, reject) => {
    call(client, deadline, (err, res) => {
      client.close();
      if (err || res === undefined) reject(err ?? new Error('empty reply'));
      else resolve(res);
    });
  });
}

export function fetchStatus(target: string, opts: AdminCallOptions = {}): Promise<StatusReply> {
  return unary<StatusReply>(target, opts, (c, deadline, cb) => c.GetStatus({}, metadata(opts), { deadline }, (err, res) => cb(err, res)));
}

export function fetchNodeConfig(target: string, nodeId: string, opts: AdminCallOptions = {}): Promise<NodeConfigReply> {
  return unary<NodeConfigReply>(target, opts, (c, deadline, cb) => c.GetNodeConfig({ nodeId }, metadata(opts), { deadline }, (err, res) => cb(err, res)));
}

export function applyExperiment(target: string, req: { name: string; virtualServiceYaml: string; ttlMs: number }, opts: AdminCallOptions = {}): Promise<ExperimentReply> {
  return unary<ExperimentReply>(target, opts, (c, deadline, cb) => c.ApplyExperiment(req, metadata(opts), { deadline }, (err, res) => cb(err, res)));
}

export function removeExperiment(target: string, name: string, opts: AdminCallOptions = {}): Promise<ExperimentReply> {
  return unary<ExperimentReply>(target, opts, (c, deadline, cb) => c.RemoveExperiment({ name }, metadata(opts), { deadline }, (err, res) => cb(err, res)));
}
