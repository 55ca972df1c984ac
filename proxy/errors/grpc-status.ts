// gRPC status codes (grpc/doc/statuscodes.md) and Envoy's mapping between
// them and HTTP statuses. Pure data, shared by the fault layer, the pipeline
// and the local-reply writer.

/** Envoy's Grpc::Utility::grpcToHttpStatus: what outlier detection and retries on status see for a gRPC answer. */
const GRPC_TO_HTTP = [200, 499, 500, 400, 504, 404, 409, 403, 429, 400, 409, 400, 501, 500, 503, 500, 401];
export function grpcToHttpStatus(code: number): number {
  return GRPC_TO_HTTP[code] ?? 500;
}

export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

/** `UNAVAILABLE` or `14` → 14; -1 when not a gRPC status. */
export function parseGrpcStatusName(s: string): number {
  const byName = (GrpcStatus as Record<string, number>)[s.toUpperCase()];
  if (byName !== undefined) return byName;
  const n = Number(s);
  return Number.isInteger(n) && n >= 0 && n <= 16 ? n : -1;
}

