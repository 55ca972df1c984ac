// Routing for HTTP/1.1 Upgrade (WebSocket) requests: the same host index,
// route table and weighted split as ordinary requests, resolved to one
// endpoint, since an upgraded connection is pinned to it for its lifetime.
import type { IncomingMessage } from 'node:http';
import type { Snapshot } from '../snapshot/index.js';
import type { Endpoint } from '../upstream/endpoint.js';
import { parseTarget } from './request-target.js';

export type UpgradeRoute =
  | { readonly ok: true; readonly endpoint: Endpoint; readonly authority: string; readonly path: string }
  | { readonly ok: false; readonly status: 404 | 503; readonly reason: string };

export function routeUpgrade(snap: Snapshot | undefined, req: IncomingMessage): UpgradeRoute {
  // The same target parsing as ordinary requests (origin- or absolute-form, port from the authority).
  const t = { req, ex: { authority: '', path: '' }, authority: '', path: '', rawQuery: '', port: 80, method: req.method ?? 'GET', headers: req.headers };
  if (!parseTarget(t)) return { ok: false, status: 404, reason: 'invalid request target' };
  const vh = snap?.hosts.lookup(t.authority);
  const i = vh === undefined ? -1 : vh.table.match(t);
  const route = i >= 0 ? vh!.routes[i] : undefined;
  if (route === undefined || route.split === undefined) return { ok: false, status: 404, reason: `no route for host "${t.authority}"` };
  const dest = route.split.next();
  const cluster = dest.cluster ?? dest.byPort?.get(t.port);
  const endpoint = cluster?.picker.pick(undefined, undefined, cluster.panic);
  if (endpoint === undefined) return { ok: false, status: 503, reason: 'no healthy upstream' };
  const path = t.rawQuery !== '' ? `${t.path}?${t.rawQuery}` : t.path;
  return { ok: true, endpoint, authority: route.rewriteAuthority ?? t.authority, path };
}
