import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { RouterClient as _parley_v1_RouterClient, RouterDefinition as _parley_v1_RouterDefinition } from './parley/v1/Router';
import type { SendRequest as _parley_v1_SendRequest, SendRequest__Output as _parley_v1_SendRequest__Output } from './parley/v1/SendRequest';
import type { SendResponse as _parley_v1_SendResponse, SendResponse__Output as _parley_v1_SendResponse__Output } from './parley/v1/SendResponse';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  parley: {
    v1: {
      Router: SubtypeConstructor<typeof grpc.Client, _parley_v1_RouterClient> & { service: _parley_v1_RouterDefinition }
      SendRequest: MessageTypeDefinition<_parley_v1_SendRequest, _parley_v1_SendRequest__Output>
      SendResponse: MessageTypeDefinition<_parley_v1_SendResponse, _parley_v1_SendResponse__Output>
    }
  }
}

