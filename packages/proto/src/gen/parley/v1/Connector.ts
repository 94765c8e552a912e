// Original file: ../../proto/parley/v1/connector.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { DeliverRequest as _parley_v1_DeliverRequest, DeliverRequest__Output as _parley_v1_DeliverRequest__Output } from '../../parley/v1/DeliverRequest';
import type { DeliverResponse as _parley_v1_DeliverResponse, DeliverResponse__Output as _parley_v1_DeliverResponse__Output } from '../../parley/v1/DeliverResponse';

export interface ConnectorClient extends grpc.Client {
  /**
   * One call per connector per batch. Writes each message to every listed device
   * that holds a session here; reports the devices it does not hold.
   */
  Deliver(argument: _parley_v1_DeliverRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_DeliverResponse__Output>): grpc.ClientUnaryCall;
  Deliver(argument: _parley_v1_DeliverRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_parley_v1_DeliverResponse__Output>): grpc.ClientUnaryCall;
  Deliver(argument: _parley_v1_DeliverRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_DeliverResponse__Output>): grpc.ClientUnaryCall;
  Deliver(argument: _parley_v1_DeliverRequest, callback: grpc.requestCallback<_parley_v1_DeliverResponse__Output>): grpc.ClientUnaryCall;
  /**
   * One call per connector per batch. Writes each message to every listed device
   * that holds a session here; reports the devices it does not hold.
   */
  deliver(argument: _parley_v1_DeliverRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_DeliverResponse__Output>): grpc.ClientUnaryCall;
  deliver(argument: _parley_v1_DeliverRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_parley_v1_DeliverResponse__Output>): grpc.ClientUnaryCall;
  deliver(argument: _parley_v1_DeliverRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_DeliverResponse__Output>): grpc.ClientUnaryCall;
  deliver(argument: _parley_v1_DeliverRequest, callback: grpc.requestCallback<_parley_v1_DeliverResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface ConnectorHandlers extends grpc.UntypedServiceImplementation {
  /**
   * One call per connector per batch. Writes each message to every listed device
   * that holds a session here; reports the devices it does not hold.
   */
  Deliver: grpc.handleUnaryCall<_parley_v1_DeliverRequest__Output, _parley_v1_DeliverResponse>;
  
}

export interface ConnectorDefinition extends grpc.ServiceDefinition {
  Deliver: MethodDefinition<_parley_v1_DeliverRequest, _parley_v1_DeliverResponse, _parley_v1_DeliverRequest__Output, _parley_v1_DeliverResponse__Output>
}
