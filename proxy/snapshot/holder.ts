// The single mutable reference to the running config. A swap replaces the
// reference atomically; requests in flight keep the Snapshot they started with.
import type { Snapshot } from './compile.js';

export class SnapshotHolder {
  #current: Snapshot | undefined;
  /** Reason the last rejected config was rejected, for /config_dump. */
  lastRejection: { version: string | undefined; at: string; issues: string[] } | undefined;
  /** When the current snapshot was applied (ISO time). */
  appliedAt = '';

  get current(): Snapshot | undefined {
    return this.#current;
  }

  swap(next: Snapshot): void {
    this.#current = next;
    this.appliedAt = new Date().toISOString();
  }
}
