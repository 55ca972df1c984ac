// Builds a ConfigIssue pointing into an Istio resource, carrying its file.

import type { ConfigIssue } from '../model/index.js';
import { resourceRef, type IstioResource } from '../istio/index.js';

export function issueFor(r: IstioResource, path: string, reason: string): ConfigIssue {
  return { ...(r.file !== undefined ? { file: r.file } : {}), resource: resourceRef(r), path, reason };
}
