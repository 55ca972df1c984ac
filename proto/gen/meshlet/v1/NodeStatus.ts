// Original file: proto/meshlet/v1/discovery.proto


export interface NodeStatus {
  'nodeId'?: (string);
  'workload'?: (string);
  'namespace'?: (string);
  'versionSent'?: (string);
  'versionAcked'?: (string);
  'versionCurrent'?: (string);
  'lastNackVersion'?: (string);
  'lastNackReason'?: (string);
  'connectedSince'?: (string);
  'lastPushAt'?: (string);
  'pushError'?: (string);
  'identity'?: (string);
  'certExpiresAt'?: (string);
  'refused'?: (string);
}

export interface NodeStatus__Output {
  'nodeId': (string);
  'workload': (string);
  'namespace': (string);
  'versionSent': (string);
  'versionAcked': (string);
  'versionCurrent': (string);
  'lastNackVersion': (string);
  'lastNackReason': (string);
  'connectedSince': (string);
  'lastPushAt': (string);
  'pushError': (string);
  'identity': (string);
  'certExpiresAt': (string);
  'refused': (string);
}
