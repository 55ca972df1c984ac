// Sidecar injection: the pure injection (shared with `meshlet inject`), the
// AdmissionReview webhook and its self-managed TLS.
export { injectPod, isInjected, wantsInjection, type InjectOutcome, type PodTemplate } from './inject-pod.js';
export { injectWorkload, type WorkloadOutcome } from './inject-workload.js';
export * from './inject-settings.js';
export { reviewAdmission, BadAdmissionReview, type AdmissionContext, type AdmissionResponse, type AdmissionReviewReply } from './admission-review.js';
export { WebhookServer, type WebhookServerOptions } from './webhook-server.js';
export { createCertAuthority, issueServingCert, loadCertAuthority, type CertAuthority, type PemPair } from './serving-cert.js';
export { bootstrapWebhookCert, serviceDnsNames, type WebhookCert, type WebhookCertOptions } from './webhook-cert-bootstrap.js';
