// What the resilience layers report. The composition root wires these to
// metrics; the pipeline and the layers only call them. A leaf module (types
// and one no-op value) so observe/, layers/ and pipeline/ can share it
// without importing each other.

export type MirrorOutcome = 'sent' | 'failed' | 'dropped';
export type MirrorEvents = (route: string, outcome: MirrorOutcome) => void;

export interface ResilienceEvents {
  retry(service: string, reason: string): void;
  /** A retry the policy allowed but the request could not make (`body_too_large`). */
  retryAbandoned(service: string, reason: string): void;
  retryBudgetExhausted(service: string): void;
  overflow(service: string, limit: string): void;
  fault(route: string, kind: 'delay' | 'abort'): void;
  readonly mirror: MirrorEvents;
  /** An AuthorizationPolicy denied (or an AUDIT policy matched) a request or connection; `policy` is `ns/name`, `` when no ALLOW policy matched. */
  authorization(decision: 'denied' | 'audited', policy: string, protocol: 'http' | 'tcp'): void;
}

export const NO_EVENTS: ResilienceEvents = {
  retry: () => undefined,
  retryAbandoned: () => undefined,
  retryBudgetExhausted: () => undefined,
  overflow: () => undefined,
  fault: () => undefined,
  mirror: () => undefined,
  authorization: () => undefined,
};
