// Original file: ../../proto/parley/v1/router.proto


export interface SignalResponse {
}

export interface SignalResponse__Output {
}
