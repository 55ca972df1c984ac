// Original file: proto/meshlet/v1/discovery.proto


export interface StatusRequest {
}

export interface StatusRequest__Output {
}
