// Original file: ../../proto/parley/v1/router.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ReceiptBatchRequest as _parley_v1_ReceiptBatchRequest, ReceiptBatchRequest__Output as _parley_v1_ReceiptBatchRequest__Output } from '../../parley/v1/ReceiptBatchRequest';
import type { ReceiptBatchResponse as _parley_v1_ReceiptBatchResponse, ReceiptBatchResponse__Output as _parley_v1_ReceiptBatchResponse__Output } from '../../parley/v1/ReceiptBatchResponse';
import type { ReceiptRequest as _parley_v1_ReceiptRequest, ReceiptRequest__Output as _parley_v1_ReceiptRequest__Output } from '../../parley/v1/ReceiptRequest';
import type { ReceiptResponse as _parley_v1_ReceiptResponse, ReceiptResponse__Output as _parley_v1_ReceiptResponse__Output } from '../../parley/v1/ReceiptResponse';
import type { SendBatchRequest as _parley_v1_SendBatchRequest, SendBatchRequest__Output as _parley_v1_SendBatchRequest__Output } from '../../parley/v1/SendBatchRequest';
import type { SendBatchResponse as _parley_v1_SendBatchResponse, SendBatchResponse__Output as _parley_v1_SendBatchResponse__Output } from '../../parley/v1/SendBatchResponse';
import type { SendManyRequest as _parley_v1_SendManyRequest, SendManyRequest__Output as _parley_v1_SendManyRequest__Output } from '../../parley/v1/SendManyRequest';
import type { SendManyResponse as _parley_v1_SendManyResponse, SendManyResponse__Output as _parley_v1_SendManyResponse__Output } from '../../parley/v1/SendManyResponse';
import type { SendRequest as _parley_v1_SendRequest, SendRequest__Output as _parley_v1_SendRequest__Output } from '../../parley/v1/SendRequest';
import type { SendResponse as _parley_v1_SendResponse, SendResponse__Output as _parley_v1_SendResponse__Output } from '../../parley/v1/SendResponse';
import type { SignalRequest as _parley_v1_SignalRequest, SignalRequest__Output as _parley_v1_SignalRequest__Output } from '../../parley/v1/SignalRequest';
import type { SignalResponse as _parley_v1_SignalResponse, SignalResponse__Output as _parley_v1_SignalResponse__Output } from '../../parley/v1/SignalResponse';

export interface RouterClient extends grpc.Client {
  /**
   * A device's delivered/read position (cumulative). Produced to parley.receipts once the
   * user is known to be a member; storage stores it and fans it out.
   * Errors: INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED, UNAVAILABLE.
   */
  Receipt(argument: _parley_v1_ReceiptRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_ReceiptResponse__Output>): grpc.ClientUnaryCall;
  Receipt(argument: _parley_v1_ReceiptRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_parley_v1_ReceiptResponse__Output>): grpc.ClientUnaryCall;
  Receipt(argument: _parley_v1_ReceiptRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_ReceiptResponse__Output>): grpc.ClientUnaryCall;
  Receipt(argument: _parley_v1_ReceiptRequest, callback: grpc.requestCallback<_parley_v1_ReceiptResponse__Output>): grpc.ClientUnaryCall;
  /**
   * A device's delivered/read position (cumulative). Produced to parley.receipts once the
   * user is known to be a member; storage stores it and fans it out.
   * Errors: INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED, UNAVAILABLE.
   */
  receipt(argument: _parley_v1_ReceiptRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_ReceiptResponse__Output>): grpc.ClientUnaryCall;
  receipt(argument: _parley_v1_ReceiptRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_parley_v1_ReceiptResponse__Output>): grpc.ClientUnaryCall;
  receipt(argument: _parley_v1_ReceiptRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_ReceiptResponse__Output>): grpc.ClientUnaryCall;
  receipt(argument: _parley_v1_ReceiptRequest, callback: grpc.requestCallback<_parley_v1_ReceiptResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Many positions at once, of any devices and conversations (a connector sends what all of
   * its sockets reported since its last flush this way: one call instead of one per
   * position). The valid ones are produced together; each has its own answer (an empty
   * error_code when it was taken; otherwise the code Receipt would have failed with). The
   * call fails as a whole only when nothing could be made durable (UNAVAILABLE) or when it
   * holds more than 1,000 positions (INVALID_ARGUMENT).
   */
  ReceiptBatch(argument: _parley_v1_ReceiptBatchRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_ReceiptBatchResponse__Output>): grpc.ClientUnaryCall;
  ReceiptBatch(argument: _parley_v1_ReceiptBatchRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_parley_v1_ReceiptBatchResponse__Output>): grpc.ClientUnaryCall;
  ReceiptBatch(argument: _parley_v1_ReceiptBatchRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_ReceiptBatchResponse__Output>): grpc.ClientUnaryCall;
  ReceiptBatch(argument: _parley_v1_ReceiptBatchRequest, callback: grpc.requestCallback<_parley_v1_ReceiptBatchResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Many positions at once, of any devices and conversations (a connector sends what all of
   * its sockets reported since its last flush this way: one call instead of one per
   * position). The valid ones are produced together; each has its own answer (an empty
   * error_code when it was taken; otherwise the code Receipt would have failed with). The
   * call fails as a whole only when nothing could be made durable (UNAVAILABLE) or when it
   * holds more than 1,000 positions (INVALID_ARGUMENT).
   */
  receiptBatch(argument: _parley_v1_ReceiptBatchRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_ReceiptBatchResponse__Output>): grpc.ClientUnaryCall;
  receiptBatch(argument: _parley_v1_ReceiptBatchRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_parley_v1_ReceiptBatchResponse__Output>): grpc.ClientUnaryCall;
  receiptBatch(argument: _parley_v1_ReceiptBatchRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_ReceiptBatchResponse__Output>): grpc.ClientUnaryCall;
  receiptBatch(argument: _parley_v1_ReceiptBatchRequest, callback: grpc.requestCallback<_parley_v1_ReceiptBatchResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Errors: INVALID_ARGUMENT (bad ids or body), NOT_FOUND (no such conversation),
   * PERMISSION_DENIED (sender is not a member), RESOURCE_EXHAUSTED (rate limit),
   * UNAVAILABLE (Kafka or storage unreachable; safe to retry with the same client_msg_id).
   */
  Send(argument: _parley_v1_SendRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_SendResponse__Output>): grpc.ClientUnaryCall;
  Send(argument: _parley_v1_SendRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_parley_v1_SendResponse__Output>): grpc.ClientUnaryCall;
  Send(argument: _parley_v1_SendRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_SendResponse__Output>): grpc.ClientUnaryCall;
  Send(argument: _parley_v1_SendRequest, callback: grpc.requestCallback<_parley_v1_SendResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Errors: INVALID_ARGUMENT (bad ids or body), NOT_FOUND (no such conversation),
   * PERMISSION_DENIED (sender is not a member), RESOURCE_EXHAUSTED (rate limit),
   * UNAVAILABLE (Kafka or storage unreachable; safe to retry with the same client_msg_id).
   */
  send(argument: _parley_v1_SendRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_SendResponse__Output>): grpc.ClientUnaryCall;
  send(argument: _parley_v1_SendRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_parley_v1_SendResponse__Output>): grpc.ClientUnaryCall;
  send(argument: _parley_v1_SendRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_SendResponse__Output>): grpc.ClientUnaryCall;
  send(argument: _parley_v1_SendRequest, callback: grpc.requestCallback<_parley_v1_SendResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Several messages of one device to one conversation, made durable in one Kafka produce,
   * in the order given: a connector sends a device's pipelined sends this way, one call at a
   * time per (device, conversation), so their seqs follow the order the device sent them in.
   * Each item has its own answer; the call fails as a whole only when nothing could be
   * made durable (UNAVAILABLE). Errors per item: INVALID_ARGUMENT, RESOURCE_EXHAUSTED; for
   * the whole call: NOT_FOUND, PERMISSION_DENIED, UNAVAILABLE.
   */
  SendBatch(argument: _parley_v1_SendBatchRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_SendBatchResponse__Output>): grpc.ClientUnaryCall;
  SendBatch(argument: _parley_v1_SendBatchRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_parley_v1_SendBatchResponse__Output>): grpc.ClientUnaryCall;
  SendBatch(argument: _parley_v1_SendBatchRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_SendBatchResponse__Output>): grpc.ClientUnaryCall;
  SendBatch(argument: _parley_v1_SendBatchRequest, callback: grpc.requestCallback<_parley_v1_SendBatchResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Several messages of one device to one conversation, made durable in one Kafka produce,
   * in the order given: a connector sends a device's pipelined sends this way, one call at a
   * time per (device, conversation), so their seqs follow the order the device sent them in.
   * Each item has its own answer; the call fails as a whole only when nothing could be
   * made durable (UNAVAILABLE). Errors per item: INVALID_ARGUMENT, RESOURCE_EXHAUSTED; for
   * the whole call: NOT_FOUND, PERMISSION_DENIED, UNAVAILABLE.
   */
  sendBatch(argument: _parley_v1_SendBatchRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_SendBatchResponse__Output>): grpc.ClientUnaryCall;
  sendBatch(argument: _parley_v1_SendBatchRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_parley_v1_SendBatchResponse__Output>): grpc.ClientUnaryCall;
  sendBatch(argument: _parley_v1_SendBatchRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_SendBatchResponse__Output>): grpc.ClientUnaryCall;
  sendBatch(argument: _parley_v1_SendBatchRequest, callback: grpc.requestCallback<_parley_v1_SendBatchResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Several SendBatch calls in one (a connector sends the batches of all of its devices that
   * are ready at once this way): every batch is checked as SendBatch checks it, and the
   * records of all that pass go out in one Kafka produce (each conversation's in the order
   * given). Each batch has its own answer: its SendBatchResponse, or the error SendBatch
   * would have failed with as a whole (NOT_FOUND, PERMISSION_DENIED, INVALID_ARGUMENT). The
   * call fails as a whole only when nothing could be made durable (UNAVAILABLE), or when it
   * holds more than 256 batches or 1,024 items (INVALID_ARGUMENT).
   */
  SendMany(argument: _parley_v1_SendManyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_SendManyResponse__Output>): grpc.ClientUnaryCall;
  SendMany(argument: _parley_v1_SendManyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_parley_v1_SendManyResponse__Output>): grpc.ClientUnaryCall;
  SendMany(argument: _parley_v1_SendManyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_SendManyResponse__Output>): grpc.ClientUnaryCall;
  SendMany(argument: _parley_v1_SendManyRequest, callback: grpc.requestCallback<_parley_v1_SendManyResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Several SendBatch calls in one (a connector sends the batches of all of its devices that
   * are ready at once this way): every batch is checked as SendBatch checks it, and the
   * records of all that pass go out in one Kafka produce (each conversation's in the order
   * given). Each batch has its own answer: its SendBatchResponse, or the error SendBatch
   * would have failed with as a whole (NOT_FOUND, PERMISSION_DENIED, INVALID_ARGUMENT). The
   * call fails as a whole only when nothing could be made durable (UNAVAILABLE), or when it
   * holds more than 256 batches or 1,024 items (INVALID_ARGUMENT).
   */
  sendMany(argument: _parley_v1_SendManyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_SendManyResponse__Output>): grpc.ClientUnaryCall;
  sendMany(argument: _parley_v1_SendManyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_parley_v1_SendManyResponse__Output>): grpc.ClientUnaryCall;
  sendMany(argument: _parley_v1_SendManyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_SendManyResponse__Output>): grpc.ClientUnaryCall;
  sendMany(argument: _parley_v1_SendManyRequest, callback: grpc.requestCallback<_parley_v1_SendManyResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * A QoS 0 signal (typing, ...) to the other members. Errors as for Receipt, plus
   * RESOURCE_EXHAUSTED (rate limit).
   */
  Signal(argument: _parley_v1_SignalRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_SignalResponse__Output>): grpc.ClientUnaryCall;
  Signal(argument: _parley_v1_SignalRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_parley_v1_SignalResponse__Output>): grpc.ClientUnaryCall;
  Signal(argument: _parley_v1_SignalRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_SignalResponse__Output>): grpc.ClientUnaryCall;
  Signal(argument: _parley_v1_SignalRequest, callback: grpc.requestCallback<_parley_v1_SignalResponse__Output>): grpc.ClientUnaryCall;
  /**
   * A QoS 0 signal (typing, ...) to the other members. Errors as for Receipt, plus
   * RESOURCE_EXHAUSTED (rate limit).
   */
  signal(argument: _parley_v1_SignalRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_SignalResponse__Output>): grpc.ClientUnaryCall;
  signal(argument: _parley_v1_SignalRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_parley_v1_SignalResponse__Output>): grpc.ClientUnaryCall;
  signal(argument: _parley_v1_SignalRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_SignalResponse__Output>): grpc.ClientUnaryCall;
  signal(argument: _parley_v1_SignalRequest, callback: grpc.requestCallback<_parley_v1_SignalResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface RouterHandlers extends grpc.UntypedServiceImplementation {
  /**
   * A device's delivered/read position (cumulative). Produced to parley.receipts once the
   * user is known to be a member; storage stores it and fans it out.
   * Errors: INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED, UNAVAILABLE.
   */
  Receipt: grpc.handleUnaryCall<_parley_v1_ReceiptRequest__Output, _parley_v1_ReceiptResponse>;
  
  /**
   * Many positions at once, of any devices and conversations (a connector sends what all of
   * its sockets reported since its last flush this way: one call instead of one per
   * position). The valid ones are produced together; each has its own answer (an empty
   * error_code when it was taken; otherwise the code Receipt would have failed with). The
   * call fails as a whole only when nothing could be made durable (UNAVAILABLE) or when it
   * holds more than 1,000 positions (INVALID_ARGUMENT).
   */
  ReceiptBatch: grpc.handleUnaryCall<_parley_v1_ReceiptBatchRequest__Output, _parley_v1_ReceiptBatchResponse>;
  
  /**
   * Errors: INVALID_ARGUMENT (bad ids or body), NOT_FOUND (no such conversation),
   * PERMISSION_DENIED (sender is not a member), RESOURCE_EXHAUSTED (rate limit),
   * UNAVAILABLE (Kafka or storage unreachable; safe to retry with the same client_msg_id).
   */
  Send: grpc.handleUnaryCall<_parley_v1_SendRequest__Output, _parley_v1_SendResponse>;
  
  /**
   * Several messages of one device to one conversation, made durable in one Kafka produce,
   * in the order given: a connector sends a device's pipelined sends this way, one call at a
   * time per (device, conversation), so their seqs follow the order the device sent them in.
   * Each item has its own answer; the call fails as a whole only when nothing could be
   * made durable (UNAVAILABLE). Errors per item: INVALID_ARGUMENT, RESOURCE_EXHAUSTED; for
   * the whole call: NOT_FOUND, PERMISSION_DENIED, UNAVAILABLE.
   */
  SendBatch: grpc.handleUnaryCall<_parley_v1_SendBatchRequest__Output, _parley_v1_SendBatchResponse>;
  
  /**
   * Several SendBatch calls in one (a connector sends the batches of all of its devices that
   * are ready at once this way): every batch is checked as SendBatch checks it, and the
   * records of all that pass go out in one Kafka produce (each conversation's in the order
   * given). Each batch has its own answer: its SendBatchResponse, or the error SendBatch
   * would have failed with as a whole (NOT_FOUND, PERMISSION_DENIED, INVALID_ARGUMENT). The
   * call fails as a whole only when nothing could be made durable (UNAVAILABLE), or when it
   * holds more than 256 batches or 1,024 items (INVALID_ARGUMENT).
   */
  SendMany: grpc.handleUnaryCall<_parley_v1_SendManyRequest__Output, _parley_v1_SendManyResponse>;
  
  /**
   * A QoS 0 signal (typing, ...) to the other members. Errors as for Receipt, plus
   * RESOURCE_EXHAUSTED (rate limit).
   */
  Signal: grpc.handleUnaryCall<_parley_v1_SignalRequest__Output, _parley_v1_SignalResponse>;
  
}

export interface RouterDefinition extends grpc.ServiceDefinition {
  Receipt: MethodDefinition<_parley_v1_ReceiptRequest, _parley_v1_ReceiptResponse, _parley_v1_ReceiptRequest__Output, _parley_v1_ReceiptResponse__Output>
  ReceiptBatch: MethodDefinition<_parley_v1_ReceiptBatchRequest, _parley_v1_ReceiptBatchResponse, _parley_v1_ReceiptBatchRequest__Output, _parley_v1_ReceiptBatchResponse__Output>
  Send: MethodDefinition<_parley_v1_SendRequest, _parley_v1_SendResponse, _parley_v1_SendRequest__Output, _parley_v1_SendResponse__Output>
  SendBatch: MethodDefinition<_parley_v1_SendBatchRequest, _parley_v1_SendBatchResponse, _parley_v1_SendBatchRequest__Output, _parley_v1_SendBatchResponse__Output>
  SendMany: MethodDefinition<_parley_v1_SendManyRequest, _parley_v1_SendManyResponse, _parley_v1_SendManyRequest__Output, _parley_v1_SendManyResponse__Output>
  Signal: MethodDefinition<_parley_v1_SignalRequest, _parley_v1_SignalResponse, _parley_v1_SignalRequest__Output, _parley_v1_SignalResponse__Output>
}
