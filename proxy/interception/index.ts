// Pod traffic interception: the iptables rule set shared by `meshlet iptables`,
// the Kubernetes init container and the e2e pod rig.
export {
  cleanupScript,
  interceptionRules,
  interceptionScript,
  ISTIO_DEFAULT_INTERCEPTION,
  INBOUND_PASSTHROUGH_SOURCE,
  IPV6_MODES,
  OWN_CHAINS,
  type InterceptionOptions,
  type Ipv6Mode,
} from './iptables-rules.js';
