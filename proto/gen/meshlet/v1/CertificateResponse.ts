// Original file: proto/meshlet/v1/discovery.proto


export interface CertificateResponse {
  'certChain'?: (string)[];
  'rootCert'?: (string);
  'spiffeId'?: (string);
  'nodeId'?: (string);
  'expiresAt'?: (string);
}

export interface CertificateResponse__Output {
  'certChain': (string)[];
  'rootCert': (string);
  'spiffeId': (string);
  'nodeId': (string);
  'expiresAt': (string);
}
