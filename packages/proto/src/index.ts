// Owns the one way every service loads proto/ and the TypeScript types generated
// from it (src/gen, by `pnpm --filter @parley/proto gen`; a test fails when they drift).
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType as RouterProto } from './gen/router';
import type { ProtoGrpcType as StorageProto } from './gen/storage';
import type { ProtoGrpcType as ConnectorProto } from './gen/connector';
import type { ProtoGrpcType as KeysProto } from './gen/keys';
import type { ProtoGrpcType as HealthProto } from './gen/health';

export const PROTO_FILES = [
  'parley/v1/common.proto',
  'parley/v1/router.proto',
  'parley/v1/storage.proto',
  'parley/v1/keys.proto',
  'parley/v1/connector.proto',
  'parley/v1/client.proto',
  'grpc/health/v1/health.proto',
] as const;

/** proto/ at the repository root (src/ and dist/ sit at the same depth); PARLEY_PROTO_DIR overrides it in images. */
export function protoDir(): string {
  return process.env['PARLEY_PROTO_DIR'] ?? path.resolve(__dirname, '..', '..', '..', 'proto');
}

/** The options both the loader and the type generator use, so runtime objects match the generated types. */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
};

export type ParleyGrpc = RouterProto & StorageProto & KeysProto & ConnectorProto & HealthProto;

let cached: { definition: protoLoader.PackageDefinition; grpcObject: ParleyGrpc } | undefined;

function load(): { definition: protoLoader.PackageDefinition; grpcObject: ParleyGrpc } {
  if (!cached) {
    const definition = protoLoader.loadSync([...PROTO_FILES], { ...LOADER_OPTIONS, includeDirs: [protoDir()] });
    cached = { definition, grpcObject: grpc.loadPackageDefinition(definition) as unknown as ParleyGrpc };
  }
  return cached;
}

/** The loaded package definition (for gRPC reflection). */
export function packageDefinition(): protoLoader.PackageDefinition {
  return load().definition;
}

/** The typed gRPC object: `parleyGrpc().parley.v1.Router` etc. */
export function parleyGrpc(): ParleyGrpc {
  return load().grpcObject;
}

export type { StoredMessage, StoredMessage__Output } from './gen/parley/v1/StoredMessage';
export type { AcceptedMessage, AcceptedMessage__Output } from './gen/parley/v1/AcceptedMessage';
export type { SendRequest__Output, SendRequest } from './gen/parley/v1/SendRequest';
export type { SendResponse, SendResponse__Output } from './gen/parley/v1/SendResponse';
export type { RouterClient, RouterHandlers } from './gen/parley/v1/Router';
export type { StorageClient, StorageHandlers } from './gen/parley/v1/Storage';
export type { ConnectorClient, ConnectorHandlers } from './gen/parley/v1/Connector';
export type { KeysClient, KeysHandlers } from './gen/parley/v1/Keys';
export type { ApiKey, ApiKey__Output } from './gen/parley/v1/ApiKey';
export type { CreateKeyResponse, CreateKeyResponse__Output } from './gen/parley/v1/CreateKeyResponse';
export type { ListKeysResponse, ListKeysResponse__Output } from './gen/parley/v1/ListKeysResponse';
export type { Conversation } from './gen/parley/v1/Conversation';
export type { ConversationKind } from './gen/parley/v1/ConversationKind';
export type { HistoryRequest__Output } from './gen/parley/v1/HistoryRequest';
export type { HistoryOrder } from './gen/parley/v1/HistoryOrder';
export type { SyncRequest__Output } from './gen/parley/v1/SyncRequest';
export type { MessagesResponse } from './gen/parley/v1/MessagesResponse';
export type { DeliverRequest, DeliverRequest__Output } from './gen/parley/v1/DeliverRequest';
export type { DeliverResponse, DeliverResponse__Output } from './gen/parley/v1/DeliverResponse';
export type { DeviceTarget } from './gen/parley/v1/DeviceTarget';
export type { SendFrame } from './gen/parley/v1/client/SendFrame';
export type { AuthFrame } from './gen/parley/v1/client/AuthFrame';
export type { AuthedFrame } from './gen/parley/v1/client/AuthedFrame';
export type { SyncFrame } from './gen/parley/v1/client/SyncFrame';
export type { HistoryFrame } from './gen/parley/v1/client/HistoryFrame';
export type { WelcomeFrame } from './gen/parley/v1/client/WelcomeFrame';
export type { AckFrame } from './gen/parley/v1/client/AckFrame';
export type { MsgFrame } from './gen/parley/v1/client/MsgFrame';
export type { MsgsFrame } from './gen/parley/v1/client/MsgsFrame';
export type { ErrorFrame } from './gen/parley/v1/client/ErrorFrame';
export type { HealthHandlers } from './gen/grpc/health/v1/Health';
export type { HealthClient } from './gen/grpc/health/v1/Health';
export type { MessagesResponse__Output } from './gen/parley/v1/MessagesResponse';
export type { Receipt, Receipt__Output } from './gen/parley/v1/Receipt';
export type { Signal, Signal__Output } from './gen/parley/v1/Signal';
export type { Delivery__Output } from './gen/parley/v1/Delivery';
export type { ReceiptRequest__Output } from './gen/parley/v1/ReceiptRequest';
export type { SignalRequest__Output } from './gen/parley/v1/SignalRequest';
export type { ListConversationsResponse, ListConversationsResponse__Output } from './gen/parley/v1/ListConversationsResponse';
export type { ConversationState, ConversationState__Output } from './gen/parley/v1/ConversationState';
export type { RecvFrame } from './gen/parley/v1/client/RecvFrame';
export type { ReadFrame } from './gen/parley/v1/client/ReadFrame';
export type { SignalFrame } from './gen/parley/v1/client/SignalFrame';
export type { ConvsFrame } from './gen/parley/v1/client/ConvsFrame';
export type { ReceiptFrame } from './gen/parley/v1/client/ReceiptFrame';
export type { SigFrame } from './gen/parley/v1/client/SigFrame';
export type { ConvListFrame } from './gen/parley/v1/client/ConvListFrame';
export type { ConvState } from './gen/parley/v1/client/ConvState';
export type { ListMembersResponse__Output } from './gen/parley/v1/ListMembersResponse';
export type { MembershipChange, MembershipChange__Output } from './gen/parley/v1/MembershipChange';
export type { Rejection, Rejection__Output } from './gen/parley/v1/Rejection';
export type { MessagesRecord } from './gen/parley/v1/MessagesRecord';
export type { DeliveriesRecord } from './gen/parley/v1/DeliveriesRecord';
export type { ReceiptsRecord } from './gen/parley/v1/ReceiptsRecord';
export type { SignalsRecord } from './gen/parley/v1/SignalsRecord';
export type { MembershipRecord } from './gen/parley/v1/MembershipRecord';
export type { MembershipResponse, MembershipResponse__Output } from './gen/parley/v1/MembershipResponse';
export type { ReceiptBatchRequest, ReceiptBatchRequest__Output } from './gen/parley/v1/ReceiptBatchRequest';
export type { ReceiptBatchResponse, ReceiptBatchResponse__Output } from './gen/parley/v1/ReceiptBatchResponse';
export type { ReceiptResult, ReceiptResult__Output } from './gen/parley/v1/ReceiptResult';
export type { SendBatchRequest, SendBatchRequest__Output } from './gen/parley/v1/SendBatchRequest';
export type { SendBatchResponse, SendBatchResponse__Output } from './gen/parley/v1/SendBatchResponse';
export type { SendItemResult, SendItemResult__Output } from './gen/parley/v1/SendItemResult';
export type { SendManyRequest, SendManyRequest__Output } from './gen/parley/v1/SendManyRequest';
export type { SendManyResponse, SendManyResponse__Output } from './gen/parley/v1/SendManyResponse';
export type { SendManyResult, SendManyResult__Output } from './gen/parley/v1/SendManyResult';
export type { ListMembersRequest__Output } from './gen/parley/v1/ListMembersRequest';
export type { RejectedFrame } from './gen/parley/v1/client/RejectedFrame';
export { JsonShapeError, jsonMethodCodec, type JsonMethodCodec } from './json';
