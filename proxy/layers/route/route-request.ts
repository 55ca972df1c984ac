import type { IncomingHttpHeaders } from 'node:http';

/** What route matching reads from a request. */
export interface RouteRequest {
  readonly method: string;
  /** Path without the query string. */
  readonly path: string;
  /** Query string without the leading `?` (a leading `?` is tolerated); '' when none. */
  readonly rawQuery: string;
  readonly headers: IncomingHttpHeaders;
  /** Authority (Host / :authority) exactly as sent, port included when sent. */
  readonly authority: string;
  /** Port the request arrived for (the service port). */
  readonly port: number;
}
