// Test-only helper: a real Exchange over a real (unconnected) IncomingMessage,
// so observers are exercised exactly as the pipeline calls them.
import type { IncomingHttpHeaders } from 'node:http';
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { Exchange, type DestinationInfo, type Direction, type EndpointInfo } from '../exchange/index.js';

export function makeExchange(direction: Direction, headers: IncomingHttpHeaders = {}, method = 'GET'): Exchange {
  const req = new IncomingMessage(new Socket());
  req.headers = headers;
  req.method = method;
  return new Exchange(direction, req, performance.now(), Date.now());
}

export function destination(name: string, ns = 'default', subset = ''): DestinationInfo {
  const service = `${name}.${ns}.svc.cluster.local`;
  return { cluster: `outbound|9080|${subset}|${service}`, service, serviceName: name, serviceNamespace: ns, subset };
}

export function endpoint(authority: string, app: string, version: string, ns = 'default'): EndpointInfo {
  return { authority, labels: { app, version }, app, version, workload: `${app}-${version}`, namespace: ns };
}
