// Original file: proto/meshlet/v1/discovery.proto


export interface CertificateRequest {
  'csr'?: (string);
  'namespace'?: (string);
  'serviceAccount'?: (string);
}

export interface CertificateRequest__Output {
  'csr': (string);
  'namespace': (string);
  'serviceAccount': (string);
}
