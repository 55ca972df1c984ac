// Standalone mode: config from Istio YAML files (a file or a directory), the
// same translation the control plane uses. Reloads on change (debounced) and
// on SIGHUP; a bad config is rejected with every issue while the last good
// one keeps serving.
import { watch, type FSWatcher } from 'node:fs';
import { loadMeshConfig } from './config/index.js';
import { experimentFaults, formatIssue, type ConfigIssue, type MeshConfig } from './config/model/index.js';
import type { Logger } from './logger.js';

export interface FileSource {
  /** Loads once; returns the issues (empty = applied). */
  reload(): Promise<readonly ConfigIssue[]>;
  close(): void;
}

export function startFileSource(
  path: string,
  apply: (c: MeshConfig) => ConfigIssue[],
  reject: (issues: readonly ConfigIssue[]) => void,
  log: Logger,
  debounceMs = 200,
): FileSource {
  let lastVersion: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<readonly ConfigIssue[]> | undefined;
  // Experiment overlays expire at an absolute time: reload then, so the
  // expired overlay drops out at translation and a new version is applied.
  let expiry: NodeJS.Timeout | undefined;
  let live: readonly { experiment: string; host: string; expiresAt: number }[] = [];
  const reload = async (): Promise<readonly ConfigIssue[]> => {
    let r: Awaited<ReturnType<typeof loadMeshConfig>>;
    try {
      r = await loadMeshConfig(path);
    } catch (err) {
      // Whatever the loader throws is a rejected config too, never a silent "reload failed".
      const issues: ConfigIssue[] = [{ file: path, resource: 'config', path: '', reason: `cannot load: ${(err as Error).message}` }];
      reject(issues);
      return issues;
    }
    if (!r.ok) {
      reject(r.issues);
      return r.issues;
    }
    if (r.config.version === lastVersion) return [];
    // Fields accepted but not applied, and skipped documents: said once per new config.
    if (r.warnings !== undefined && r.warnings.length > 0) log.warn(`config loaded with ${r.warnings.length} note(s):\n${issuesText(r.warnings)}`);
    const issues = apply(r.config);
    if (issues.length === 0) {
      lastVersion = r.config.version;
      const now = live;
      live = experimentFaults(r.config);
      for (const e of now) {
        if (live.some((l) => l.experiment === e.experiment && l.host === e.host)) continue;
        const how = e.expiresAt <= Date.now() ? 'expired (TTL)' : 'removed';
        log.info({ experiment: e.experiment, host: e.host, version: r.config.version }, `experiment fault ${how}`);
      }
      if (expiry !== undefined) clearTimeout(expiry);
      const next = Math.min(...live.map((e) => e.expiresAt));
      if (Number.isFinite(next)) {
        expiry = setTimeout(schedule, Math.max(0, next - Date.now()) + 5);
        expiry.unref();
      }
    }
    return issues;
  };
  const schedule = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      // One reload at a time; a change during a reload triggers another.
      running = (running ?? Promise.resolve([])).then(reload).catch((err: Error) => {
        log.error({ err: err.message }, 'config reload failed');
        return [];
      });
    }, debounceMs);
  };
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(path, { persistent: false }, schedule);
  } catch (err) {
    log.warn({ path, err: (err as Error).message }, 'cannot watch config path; reload with SIGHUP');
  }
  const onHup = (): void => schedule();
  process.on('SIGHUP', onHup);
  return {
    reload,
    close: () => {
      watcher?.close();
      if (timer !== undefined) clearTimeout(timer);
      if (expiry !== undefined) clearTimeout(expiry);
      process.off('SIGHUP', onHup);
    },
  };
}

export function issuesText(issues: readonly ConfigIssue[]): string {
  return issues.map((i) => '  ' + formatIssue(i)).join('\n');
}
