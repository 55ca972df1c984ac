// Typed failures. Layers never write error responses: they throw or return a
// MeshletError, and rescue.ts turns it into the one local reply.
import { Flag } from './flags.js';

export { Flag, flagsToString, type FlagName } from './flags.js';

export type MeshletErrorCode =
  | 'MESH_ERR_NO_ROUTE'
  | 'MESH_ERR_NO_HEALTHY_UPSTREAM'
  | 'MESH_ERR_UPSTREAM_CONNECT'
  | 'MESH_ERR_UPSTREAM_RESET'
  | 'MESH_ERR_UPSTREAM_PROTOCOL'
  | 'MESH_ERR_UPSTREAM_TIMEOUT'
  | 'MESH_ERR_OVERFLOW'
  | 'MESH_ERR_RETRY_LIMIT'
  | 'MESH_ERR_FAULT_ABORT'
  | 'MESH_ERR_BAD_REQUEST'
  | 'MESH_ERR_HEADERS_TOO_LARGE'
  | 'MESH_ERR_UPGRADE_REFUSED'
  | 'MESH_ERR_METHOD_NOT_ALLOWED'
  | 'MESH_ERR_REQUEST_TIMEOUT'
  | 'MESH_ERR_STREAM_IDLE'
  | 'MESH_ERR_RBAC_DENIED'
  | 'MESH_ERR_INTERNAL';

export class MeshletError extends Error {
  readonly code: MeshletErrorCode;
  /** Envoy-style flag bit (see flags.ts). */
  readonly flag: number;
  /** Status of the local reply this error produces. */
  readonly status: number;
  /** Extra response headers for the local reply (e.g. x-envoy-overloaded). */
  readonly headers: Readonly<Record<string, string>> | undefined;
  /** gRPC status of the local reply to a gRPC caller; -1 = derived from flag and status (errors/grpc-reply.ts). */
  readonly grpcStatus: number;
  /** Access-log `detail` when it should say more than the reply body (Envoy's response_code_details); default: the message. */
  readonly detail: string | undefined;

  constructor(code: MeshletErrorCode, flag: number, status: number, message: string, headers?: Record<string, string>, grpcStatus = -1, detail?: string) {
    super(message);
    this.detail = detail;
    this.grpcStatus = grpcStatus;
    this.name = 'MeshletError';
    this.code = code;
    this.flag = flag;
    this.status = status;
    this.headers = headers;
  }
}

const OVERLOADED = Object.freeze({ 'x-envoy-overloaded': 'true' });

export const errors = {
  noRoute: (host: string) => new MeshletError('MESH_ERR_NO_ROUTE', Flag.NR, 404, `no route for host "${host}"`),
  /** REGISTRY_ONLY: a destination outside the registry goes to Envoy's BlackHoleCluster (502 NR). */
  blackHole: (dst: string) => new MeshletError('MESH_ERR_NO_ROUTE', Flag.NR, 502, `${dst} is not in the service registry (outbound traffic policy REGISTRY_ONLY)`),
  noHealthyUpstream: (cluster: string) =>
    new MeshletError('MESH_ERR_NO_HEALTHY_UPSTREAM', Flag.UH, 503, `no healthy upstream for ${cluster}`),
  connectFailure: (detail: string) => new MeshletError('MESH_ERR_UPSTREAM_CONNECT', Flag.UF, 503, `upstream connect error: ${detail}`),
  upstreamReset: (detail: string) => new MeshletError('MESH_ERR_UPSTREAM_RESET', Flag.UC, 502, `upstream reset: ${detail}`),
  upstreamProtocol: (detail: string) => new MeshletError('MESH_ERR_UPSTREAM_PROTOCOL', Flag.UPE, 502, `upstream protocol error: ${detail}`),
  upstreamTimeout: () => new MeshletError('MESH_ERR_UPSTREAM_TIMEOUT', Flag.UT, 504, 'upstream request timeout'),
  overflow: (limit: string) =>
    new MeshletError('MESH_ERR_OVERFLOW', Flag.UO, 503, `upstream overflow: ${limit} limit reached`, OVERLOADED),
  retryLimit: (last: MeshletError) => new MeshletError(last.code, last.flag | Flag.URX, last.status, last.message, last.headers, last.grpcStatus),
  /** `grpcStatus` >= 0: a fault.abort.grpcStatus (HTTP callers get the status Envoy maps it to). */
  faultAbort: (status: number, grpcStatus = -1) => new MeshletError('MESH_ERR_FAULT_ABORT', Flag.FI, status, 'fault filter abort', undefined, grpcStatus),
  badRequest: (detail: string) => new MeshletError('MESH_ERR_BAD_REQUEST', Flag.DPE, 400, `bad request: ${detail}`),
  // Envoy answers 403 to an upgrade its upgrade_configs do not enable; no response flag.
  upgradeRefused: (protocol: string) => new MeshletError('MESH_ERR_UPGRADE_REFUSED', 0, 403, `upgrade to "${protocol}" is not allowed on this route`),
  headersTooLarge: () => new MeshletError('MESH_ERR_HEADERS_TOO_LARGE', Flag.RHL, 431, 'request header fields too large'),
  tooManyHeaders: (max: number) => new MeshletError('MESH_ERR_HEADERS_TOO_LARGE', Flag.RHL, 431, `more than ${max} request headers`),
  // CONNECT tunnels do not exist yet; Envoy answers 404 without an upgrade config, 405 says what is wrong.
  connectNotAllowed: () => new MeshletError('MESH_ERR_METHOD_NOT_ALLOWED', Flag.DPE, 405, 'CONNECT is not supported', NOT_CONNECT),
  requestHeadersTimeout: () => new MeshletError('MESH_ERR_REQUEST_TIMEOUT', 0, 408, 'request headers not received in time'),
  /** The client stopped sending its request body (Envoy's stream_idle_timeout, downstream). */
  downstreamIdle: () => new MeshletError('MESH_ERR_STREAM_IDLE', Flag.SI, 408, 'stream idle timeout'),
  /** The upstream sent nothing for the stream-idle timeout (Envoy's stream_idle_timeout, upstream). */
  upstreamIdle: () => new MeshletError('MESH_ERR_STREAM_IDLE', Flag.SI, 504, 'stream idle timeout'),
  /** Denied by an AuthorizationPolicy: Envoy's RBAC reply (403 `RBAC: access denied`, gRPC PERMISSION_DENIED). */
  rbacDenied: (detail: string) => new MeshletError('MESH_ERR_RBAC_DENIED', Flag.RBAC, 403, 'RBAC: access denied', undefined, 7, detail),
  /** A handler threw: a bug, answered so the process keeps serving. */
  internal: () => new MeshletError('MESH_ERR_INTERNAL', 0, 500, 'internal error'),
} as const;

const NOT_CONNECT = Object.freeze({ allow: 'GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS, TRACE' });
