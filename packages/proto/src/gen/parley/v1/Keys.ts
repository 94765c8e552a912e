// Original file: ../../proto/parley/v1/keys.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ApiKey as _parley_v1_ApiKey, ApiKey__Output as _parley_v1_ApiKey__Output } from '../../parley/v1/ApiKey';
import type { CreateKeyRequest as _parley_v1_CreateKeyRequest, CreateKeyRequest__Output as _parley_v1_CreateKeyRequest__Output } from '../../parley/v1/CreateKeyRequest';
import type { CreateKeyResponse as _parley_v1_CreateKeyResponse, CreateKeyResponse__Output as _parley_v1_CreateKeyResponse__Output } from '../../parley/v1/CreateKeyResponse';
import type { ListKeysRequest as _parley_v1_ListKeysRequest, ListKeysRequest__Output as _parley_v1_ListKeysRequest__Output } from '../../parley/v1/ListKeysRequest';
import type { ListKeysResponse as _parley_v1_ListKeysResponse, ListKeysResponse__Output as _parley_v1_ListKeysResponse__Output } from '../../parley/v1/ListKeysResponse';
import type { RevokeKeyRequest as _parley_v1_RevokeKeyRequest, RevokeKeyRequest__Output as _parley_v1_RevokeKeyRequest__Output } from '../../parley/v1/RevokeKeyRequest';
import type { VerifyKeyRequest as _parley_v1_VerifyKeyRequest, VerifyKeyRequest__Output as _parley_v1_VerifyKeyRequest__Output } from '../../parley/v1/VerifyKeyRequest';

export interface KeysClient extends grpc.Client {
  /**
   * A new key with the given scopes. The bearer (pk_<key_id>_<secret>) is in this answer only.
   */
  CreateKey(argument: _parley_v1_CreateKeyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_CreateKeyResponse__Output>): grpc.ClientUnaryCall;
  CreateKey(argument: _parley_v1_CreateKeyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_parley_v1_CreateKeyResponse__Output>): grpc.ClientUnaryCall;
  CreateKey(argument: _parley_v1_CreateKeyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_CreateKeyResponse__Output>): grpc.ClientUnaryCall;
  CreateKey(argument: _parley_v1_CreateKeyRequest, callback: grpc.requestCallback<_parley_v1_CreateKeyResponse__Output>): grpc.ClientUnaryCall;
  /**
   * A new key with the given scopes. The bearer (pk_<key_id>_<secret>) is in this answer only.
   */
  createKey(argument: _parley_v1_CreateKeyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_CreateKeyResponse__Output>): grpc.ClientUnaryCall;
  createKey(argument: _parley_v1_CreateKeyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_parley_v1_CreateKeyResponse__Output>): grpc.ClientUnaryCall;
  createKey(argument: _parley_v1_CreateKeyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_CreateKeyResponse__Output>): grpc.ClientUnaryCall;
  createKey(argument: _parley_v1_CreateKeyRequest, callback: grpc.requestCallback<_parley_v1_CreateKeyResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Every key, revoked ones included, in key-id order, in pages. Never a secret.
   */
  ListKeys(argument: _parley_v1_ListKeysRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_ListKeysResponse__Output>): grpc.ClientUnaryCall;
  ListKeys(argument: _parley_v1_ListKeysRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_parley_v1_ListKeysResponse__Output>): grpc.ClientUnaryCall;
  ListKeys(argument: _parley_v1_ListKeysRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_ListKeysResponse__Output>): grpc.ClientUnaryCall;
  ListKeys(argument: _parley_v1_ListKeysRequest, callback: grpc.requestCallback<_parley_v1_ListKeysResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Every key, revoked ones included, in key-id order, in pages. Never a secret.
   */
  listKeys(argument: _parley_v1_ListKeysRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_ListKeysResponse__Output>): grpc.ClientUnaryCall;
  listKeys(argument: _parley_v1_ListKeysRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_parley_v1_ListKeysResponse__Output>): grpc.ClientUnaryCall;
  listKeys(argument: _parley_v1_ListKeysRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_ListKeysResponse__Output>): grpc.ClientUnaryCall;
  listKeys(argument: _parley_v1_ListKeysRequest, callback: grpc.requestCallback<_parley_v1_ListKeysResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Revokes a key: refused everywhere within API_KEY_CACHE_MS. Revoking a revoked key is a no-op.
   */
  RevokeKey(argument: _parley_v1_RevokeKeyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_ApiKey__Output>): grpc.ClientUnaryCall;
  RevokeKey(argument: _parley_v1_RevokeKeyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_parley_v1_ApiKey__Output>): grpc.ClientUnaryCall;
  RevokeKey(argument: _parley_v1_RevokeKeyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_ApiKey__Output>): grpc.ClientUnaryCall;
  RevokeKey(argument: _parley_v1_RevokeKeyRequest, callback: grpc.requestCallback<_parley_v1_ApiKey__Output>): grpc.ClientUnaryCall;
  /**
   * Revokes a key: refused everywhere within API_KEY_CACHE_MS. Revoking a revoked key is a no-op.
   */
  revokeKey(argument: _parley_v1_RevokeKeyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_ApiKey__Output>): grpc.ClientUnaryCall;
  revokeKey(argument: _parley_v1_RevokeKeyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_parley_v1_ApiKey__Output>): grpc.ClientUnaryCall;
  revokeKey(argument: _parley_v1_RevokeKeyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_ApiKey__Output>): grpc.ClientUnaryCall;
  revokeKey(argument: _parley_v1_RevokeKeyRequest, callback: grpc.requestCallback<_parley_v1_ApiKey__Output>): grpc.ClientUnaryCall;
  
  /**
   * For Parley's own services (the router): the key's id, name, scopes and bot, or UNAUTHENTICATED.
   */
  VerifyKey(argument: _parley_v1_VerifyKeyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_ApiKey__Output>): grpc.ClientUnaryCall;
  VerifyKey(argument: _parley_v1_VerifyKeyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_parley_v1_ApiKey__Output>): grpc.ClientUnaryCall;
  VerifyKey(argument: _parley_v1_VerifyKeyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_ApiKey__Output>): grpc.ClientUnaryCall;
  VerifyKey(argument: _parley_v1_VerifyKeyRequest, callback: grpc.requestCallback<_parley_v1_ApiKey__Output>): grpc.ClientUnaryCall;
  /**
   * For Parley's own services (the router): the key's id, name, scopes and bot, or UNAUTHENTICATED.
   */
  verifyKey(argument: _parley_v1_VerifyKeyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_ApiKey__Output>): grpc.ClientUnaryCall;
  verifyKey(argument: _parley_v1_VerifyKeyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_parley_v1_ApiKey__Output>): grpc.ClientUnaryCall;
  verifyKey(argument: _parley_v1_VerifyKeyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_ApiKey__Output>): grpc.ClientUnaryCall;
  verifyKey(argument: _parley_v1_VerifyKeyRequest, callback: grpc.requestCallback<_parley_v1_ApiKey__Output>): grpc.ClientUnaryCall;
  
}

export interface KeysHandlers extends grpc.UntypedServiceImplementation {
  /**
   * A new key with the given scopes. The bearer (pk_<key_id>_<secret>) is in this answer only.
   */
  CreateKey: grpc.handleUnaryCall<_parley_v1_CreateKeyRequest__Output, _parley_v1_CreateKeyResponse>;
  
  /**
   * Every key, revoked ones included, in key-id order, in pages. Never a secret.
   */
  ListKeys: grpc.handleUnaryCall<_parley_v1_ListKeysRequest__Output, _parley_v1_ListKeysResponse>;
  
  /**
   * Revokes a key: refused everywhere within API_KEY_CACHE_MS. Revoking a revoked key is a no-op.
   */
  RevokeKey: grpc.handleUnaryCall<_parley_v1_RevokeKeyRequest__Output, _parley_v1_ApiKey>;
  
  /**
   * For Parley's own services (the router): the key's id, name, scopes and bot, or UNAUTHENTICATED.
   */
  VerifyKey: grpc.handleUnaryCall<_parley_v1_VerifyKeyRequest__Output, _parley_v1_ApiKey>;
  
}

export interface KeysDefinition extends grpc.ServiceDefinition {
  CreateKey: MethodDefinition<_parley_v1_CreateKeyRequest, _parley_v1_CreateKeyResponse, _parley_v1_CreateKeyRequest__Output, _parley_v1_CreateKeyResponse__Output>
  ListKeys: MethodDefinition<_parley_v1_ListKeysRequest, _parley_v1_ListKeysResponse, _parley_v1_ListKeysRequest__Output, _parley_v1_ListKeysResponse__Output>
  RevokeKey: MethodDefinition<_parley_v1_RevokeKeyRequest, _parley_v1_ApiKey, _parley_v1_RevokeKeyRequest__Output, _parley_v1_ApiKey__Output>
  VerifyKey: MethodDefinition<_parley_v1_VerifyKeyRequest, _parley_v1_ApiKey, _parley_v1_VerifyKeyRequest__Output, _parley_v1_ApiKey__Output>
}
