// Original file: ../../proto/parley/v1/router.proto


export interface ReceiptResponse {
}

export interface ReceiptResponse__Output {
}
