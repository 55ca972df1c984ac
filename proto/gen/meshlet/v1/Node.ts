// Original file: proto/meshlet/v1/discovery.proto


export interface Node {
  'id'?: (string);
  'workload'?: (string);
  'namespace'?: (string);
  'labels'?: ({[key: string]: string});
  'podName'?: (string);
  'podIp'?: (string);
  'serviceAccount'?: (string);
}

export interface Node__Output {
  'id': (string);
  'workload': (string);
  'namespace': (string);
  'labels': ({[key: string]: string});
  'podName': (string);
  'podIp': (string);
  'serviceAccount': (string);
}
