// Pod traffic interception: the iptables rule set shared by the e2e rig and a
// future Kubernetes injector.
export {
  interceptionRules,
  ISTIO_DEFAULT_INTERCEPTION,
  INBOUND_PASSTHROUGH_SOURCE,
  type InterceptionOptions,
} from './iptables-rules.js';
