import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { ApiKey as _parley_v1_ApiKey, ApiKey__Output as _parley_v1_ApiKey__Output } from './parley/v1/ApiKey';
import type { CreateKeyRequest as _parley_v1_CreateKeyRequest, CreateKeyRequest__Output as _parley_v1_CreateKeyRequest__Output } from './parley/v1/CreateKeyRequest';
import type { CreateKeyResponse as _parley_v1_CreateKeyResponse, CreateKeyResponse__Output as _parley_v1_CreateKeyResponse__Output } from './parley/v1/CreateKeyResponse';
import type { KeysClient as _parley_v1_KeysClient, KeysDefinition as _parley_v1_KeysDefinition } from './parley/v1/Keys';
import type { ListKeysRequest as _parley_v1_ListKeysRequest, ListKeysRequest__Output as _parley_v1_ListKeysRequest__Output } from './parley/v1/ListKeysRequest';
import type { ListKeysResponse as _parley_v1_ListKeysResponse, ListKeysResponse__Output as _parley_v1_ListKeysResponse__Output } from './parley/v1/ListKeysResponse';
import type { RevokeKeyRequest as _parley_v1_RevokeKeyRequest, RevokeKeyRequest__Output as _parley_v1_RevokeKeyRequest__Output } from './parley/v1/RevokeKeyRequest';
import type { VerifyKeyRequest as _parley_v1_VerifyKeyRequest, VerifyKeyRequest__Output as _parley_v1_VerifyKeyRequest__Output } from './parley/v1/VerifyKeyRequest';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  parley: {
    v1: {
      ApiKey: MessageTypeDefinition<_parley_v1_ApiKey, _parley_v1_ApiKey__Output>
      CreateKeyRequest: MessageTypeDefinition<_parley_v1_CreateKeyRequest, _parley_v1_CreateKeyRequest__Output>
      CreateKeyResponse: MessageTypeDefinition<_parley_v1_CreateKeyResponse, _parley_v1_CreateKeyResponse__Output>
      Keys: SubtypeConstructor<typeof grpc.Client, _parley_v1_KeysClient> & { service: _parley_v1_KeysDefinition }
      ListKeysRequest: MessageTypeDefinition<_parley_v1_ListKeysRequest, _parley_v1_ListKeysRequest__Output>
      ListKeysResponse: MessageTypeDefinition<_parley_v1_ListKeysResponse, _parley_v1_ListKeysResponse__Output>
      RevokeKeyRequest: MessageTypeDefinition<_parley_v1_RevokeKeyRequest, _parley_v1_RevokeKeyRequest__Output>
      VerifyKeyRequest: MessageTypeDefinition<_parley_v1_VerifyKeyRequest, _parley_v1_VerifyKeyRequest__Output>
    }
  }
}

