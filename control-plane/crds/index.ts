export { istioCrds } from './istio-crds.js';
export { toStructural } from './structural-schema.js';
