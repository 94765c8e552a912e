// Original file: ../../proto/parley/v1/router.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { SendRequest as _parley_v1_SendRequest, SendRequest__Output as _parley_v1_SendRequest__Output } from '../../parley/v1/SendRequest';
import type { SendResponse as _parley_v1_SendResponse, SendResponse__Output as _parley_v1_SendResponse__Output } from '../../parley/v1/SendResponse';

export interface RouterClient extends grpc.Client {
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
  
}

export interface RouterHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Errors: INVALID_ARGUMENT (bad ids or body), NOT_FOUND (no such conversation),
   * PERMISSION_DENIED (sender is not a member), RESOURCE_EXHAUSTED (rate limit),
   * UNAVAILABLE (Kafka or storage unreachable; safe to retry with the same client_msg_id).
   */
  Send: grpc.handleUnaryCall<_parley_v1_SendRequest__Output, _parley_v1_SendResponse>;
  
}

export interface RouterDefinition extends grpc.ServiceDefinition {
  Send: MethodDefinition<_parley_v1_SendRequest, _parley_v1_SendResponse, _parley_v1_SendRequest__Output, _parley_v1_SendResponse__Output>
}
