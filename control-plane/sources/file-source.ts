// Watches a directory of Istio YAML and turns every change into a new config
// (or a report of what is wrong with it). fs.watch gives fast notice but is
// unreliable (editors rename, network filesystems and some containers never
// fire), so a cheap periodic rescan of names/sizes/mtimes backs it up.
import { watch, type FSWatcher } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConfigIssue, MeshConfig } from '../../proxy/config/model/index.js';

/** What a load yields: a translated config by default, raw resources when merged with other sources. */
export type SourceLoader<R> = (
  dir: string,
) => Promise<{ readonly ok: true; readonly config: R; readonly warnings?: readonly ConfigIssue[] } | { readonly ok: false; readonly issues: readonly ConfigIssue[] }>;

export interface FileSourceOptions<R = MeshConfig> {
  readonly dir: string;
  readonly load: SourceLoader<R>;
  /** A good config was loaded (may be identical to the previous one). */
  /** `warnings`: accepted-but-not-applied fields and skipped documents of this load. */
  readonly onConfig: (config: R, warnings: readonly ConfigIssue[]) => void;
  /** The load failed: the caller keeps the last good config. */
  readonly onIssues: (issues: readonly ConfigIssue[]) => void;
  /** Quiet time after the last file event before reloading (default 100 ms). */
  readonly debounceMs?: number;
  /** Fallback rescan period (default 2 s; 0 disables). */
  readonly rescanMs?: number;
}

export class FileSource<R = MeshConfig> {
  readonly #opts: FileSourceOptions<R>;
  #watcher: FSWatcher | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #rescan: NodeJS.Timeout | undefined;
  #fingerprint = '';
  #reloading: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(opts: FileSourceOptions<R>) {
    this.#opts = opts;
  }

  /** Loads once (resolves after the first load is reported), then watches. */
  async start(): Promise<void> {
    this.#fingerprint = await this.#scan();
    await this.reload();
    try {
      this.#watcher = watch(this.#opts.dir, { recursive: true }, () => this.#schedule());
      this.#watcher.on('error', () => {
        // The rescan keeps working; a vanished directory just reads as empty.
        this.#watcher?.close();
        this.#watcher = undefined;
      });
    } catch {
      // Recursive watch unsupported here: rely on the rescan.
    }
    const rescanMs = this.#opts.rescanMs ?? 2000;
    if (rescanMs > 0) {
      this.#rescan = setInterval(() => void this.#checkFingerprint(), rescanMs);
      this.#rescan.unref();
    }
  }

  /** Reload now, serialised with any reload in progress. */
  reload(): Promise<void> {
    this.#reloading = this.#reloading.then(() => this.#doReload());
    return this.#reloading;
  }

  close(): void {
    this.#closed = true;
    this.#watcher?.close();
    if (this.#debounce) clearTimeout(this.#debounce);
    if (this.#rescan) clearInterval(this.#rescan);
  }

  #schedule(): void {
    if (this.#closed) return;
    if (this.#debounce) clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => {
      this.#debounce = undefined;
      void this.#checkFingerprint(true);
    }, this.#opts.debounceMs ?? 100);
  }

  async #checkFingerprint(force = false): Promise<void> {
    if (this.#closed) return;
    const fp = await this.#scan();
    if (!force && fp === this.#fingerprint) return;
    // A watch event that changed nothing visible (e.g. touch of an open file) still reloads: cheap and safe.
    this.#fingerprint = fp;
    await this.reload();
  }

  async #doReload(): Promise<void> {
    if (this.#closed) return;
    let result;
    try {
      result = await this.#opts.load(this.#opts.dir);
    } catch (err) {
      result = { ok: false as const, issues: [{ resource: this.#opts.dir, path: '', reason: `load failed: ${(err as Error).message}` }] };
    }
    if (this.#closed) return;
    if (result.ok) this.#opts.onConfig(result.config, result.warnings ?? []);
    else this.#opts.onIssues(result.issues);
  }

  /** name:size:mtime of every file under dir, sorted; '' when the dir is unreadable. */
  async #scan(): Promise<string> {
    const parts: string[] = [];
    const walk = async (dir: string, depth: number): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const p = join(dir, e.name);
        if (e.isDirectory() && depth < 8) await walk(p, depth + 1);
        else if (e.isFile()) {
          try {
            const s = await stat(p);
            parts.push(`${p}:${s.size}:${s.mtimeMs}`);
          } catch {
            // Deleted between readdir and stat: the next scan sees it.
          }
        }
      }
    };
    await walk(this.#opts.dir, 0);
    return parts.sort().join('\n');
  }
}
