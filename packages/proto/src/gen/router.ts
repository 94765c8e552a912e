import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { ReceiptBatchRequest as _parley_v1_ReceiptBatchRequest, ReceiptBatchRequest__Output as _parley_v1_ReceiptBatchRequest__Output } from './parley/v1/ReceiptBatchRequest';
import type { ReceiptBatchResponse as _parley_v1_ReceiptBatchResponse, ReceiptBatchResponse__Output as _parley_v1_ReceiptBatchResponse__Output } from './parley/v1/ReceiptBatchResponse';
import type { ReceiptRequest as _parley_v1_ReceiptRequest, ReceiptRequest__Output as _parley_v1_ReceiptRequest__Output } from './parley/v1/ReceiptRequest';
import type { ReceiptResponse as _parley_v1_ReceiptResponse, ReceiptResponse__Output as _parley_v1_ReceiptResponse__Output } from './parley/v1/ReceiptResponse';
import type { ReceiptResult as _parley_v1_ReceiptResult, ReceiptResult__Output as _parley_v1_ReceiptResult__Output } from './parley/v1/ReceiptResult';
import type { RouterClient as _parley_v1_RouterClient, RouterDefinition as _parley_v1_RouterDefinition } from './parley/v1/Router';
import type { SendBatchRequest as _parley_v1_SendBatchRequest, SendBatchRequest__Output as _parley_v1_SendBatchRequest__Output } from './parley/v1/SendBatchRequest';
import type { SendBatchResponse as _parley_v1_SendBatchResponse, SendBatchResponse__Output as _parley_v1_SendBatchResponse__Output } from './parley/v1/SendBatchResponse';
import type { SendItem as _parley_v1_SendItem, SendItem__Output as _parley_v1_SendItem__Output } from './parley/v1/SendItem';
import type { SendItemResult as _parley_v1_SendItemResult, SendItemResult__Output as _parley_v1_SendItemResult__Output } from './parley/v1/SendItemResult';
import type { SendManyRequest as _parley_v1_SendManyRequest, SendManyRequest__Output as _parley_v1_SendManyRequest__Output } from './parley/v1/SendManyRequest';
import type { SendManyResponse as _parley_v1_SendManyResponse, SendManyResponse__Output as _parley_v1_SendManyResponse__Output } from './parley/v1/SendManyResponse';
import type { SendManyResult as _parley_v1_SendManyResult, SendManyResult__Output as _parley_v1_SendManyResult__Output } from './parley/v1/SendManyResult';
import type { SendRequest as _parley_v1_SendRequest, SendRequest__Output as _parley_v1_SendRequest__Output } from './parley/v1/SendRequest';
import type { SendResponse as _parley_v1_SendResponse, SendResponse__Output as _parley_v1_SendResponse__Output } from './parley/v1/SendResponse';
import type { SignalRequest as _parley_v1_SignalRequest, SignalRequest__Output as _parley_v1_SignalRequest__Output } from './parley/v1/SignalRequest';
import type { SignalResponse as _parley_v1_SignalResponse, SignalResponse__Output as _parley_v1_SignalResponse__Output } from './parley/v1/SignalResponse';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  parley: {
    v1: {
      ReceiptBatchRequest: MessageTypeDefinition<_parley_v1_ReceiptBatchRequest, _parley_v1_ReceiptBatchRequest__Output>
      ReceiptBatchResponse: MessageTypeDefinition<_parley_v1_ReceiptBatchResponse, _parley_v1_ReceiptBatchResponse__Output>
      ReceiptRequest: MessageTypeDefinition<_parley_v1_ReceiptRequest, _parley_v1_ReceiptRequest__Output>
      ReceiptResponse: MessageTypeDefinition<_parley_v1_ReceiptResponse, _parley_v1_ReceiptResponse__Output>
      ReceiptResult: MessageTypeDefinition<_parley_v1_ReceiptResult, _parley_v1_ReceiptResult__Output>
      Router: SubtypeConstructor<typeof grpc.Client, _parley_v1_RouterClient> & { service: _parley_v1_RouterDefinition }
      SendBatchRequest: MessageTypeDefinition<_parley_v1_SendBatchRequest, _parley_v1_SendBatchRequest__Output>
      SendBatchResponse: MessageTypeDefinition<_parley_v1_SendBatchResponse, _parley_v1_SendBatchResponse__Output>
      SendItem: MessageTypeDefinition<_parley_v1_SendItem, _parley_v1_SendItem__Output>
      SendItemResult: MessageTypeDefinition<_parley_v1_SendItemResult, _parley_v1_SendItemResult__Output>
      SendManyRequest: MessageTypeDefinition<_parley_v1_SendManyRequest, _parley_v1_SendManyRequest__Output>
      SendManyResponse: MessageTypeDefinition<_parley_v1_SendManyResponse, _parley_v1_SendManyResponse__Output>
      SendManyResult: MessageTypeDefinition<_parley_v1_SendManyResult, _parley_v1_SendManyResult__Output>
      SendRequest: MessageTypeDefinition<_parley_v1_SendRequest, _parley_v1_SendRequest__Output>
      SendResponse: MessageTypeDefinition<_parley_v1_SendResponse, _parley_v1_SendResponse__Output>
      SignalRequest: MessageTypeDefinition<_parley_v1_SignalRequest, _parley_v1_SignalRequest__Output>
      SignalResponse: MessageTypeDefinition<_parley_v1_SignalResponse, _parley_v1_SignalResponse__Output>
    }
  }
}

