import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AcceptedMessage as _parley_v1_AcceptedMessage, AcceptedMessage__Output as _parley_v1_AcceptedMessage__Output } from './parley/v1/AcceptedMessage';
import type { BotsRequest as _parley_v1_BotsRequest, BotsRequest__Output as _parley_v1_BotsRequest__Output } from './parley/v1/BotsRequest';
import type { Conversation as _parley_v1_Conversation, Conversation__Output as _parley_v1_Conversation__Output } from './parley/v1/Conversation';
import type { ConversationState as _parley_v1_ConversationState, ConversationState__Output as _parley_v1_ConversationState__Output } from './parley/v1/ConversationState';
import type { CreateDirectRequest as _parley_v1_CreateDirectRequest, CreateDirectRequest__Output as _parley_v1_CreateDirectRequest__Output } from './parley/v1/CreateDirectRequest';
import type { CreateGroupRequest as _parley_v1_CreateGroupRequest, CreateGroupRequest__Output as _parley_v1_CreateGroupRequest__Output } from './parley/v1/CreateGroupRequest';
import type { DeliveriesRecord as _parley_v1_DeliveriesRecord, DeliveriesRecord__Output as _parley_v1_DeliveriesRecord__Output } from './parley/v1/DeliveriesRecord';
import type { GetConversationRequest as _parley_v1_GetConversationRequest, GetConversationRequest__Output as _parley_v1_GetConversationRequest__Output } from './parley/v1/GetConversationRequest';
import type { HistoryRequest as _parley_v1_HistoryRequest, HistoryRequest__Output as _parley_v1_HistoryRequest__Output } from './parley/v1/HistoryRequest';
import type { ListConversationsRequest as _parley_v1_ListConversationsRequest, ListConversationsRequest__Output as _parley_v1_ListConversationsRequest__Output } from './parley/v1/ListConversationsRequest';
import type { ListConversationsResponse as _parley_v1_ListConversationsResponse, ListConversationsResponse__Output as _parley_v1_ListConversationsResponse__Output } from './parley/v1/ListConversationsResponse';
import type { ListMembersRequest as _parley_v1_ListMembersRequest, ListMembersRequest__Output as _parley_v1_ListMembersRequest__Output } from './parley/v1/ListMembersRequest';
import type { ListMembersResponse as _parley_v1_ListMembersResponse, ListMembersResponse__Output as _parley_v1_ListMembersResponse__Output } from './parley/v1/ListMembersResponse';
import type { MembersRequest as _parley_v1_MembersRequest, MembersRequest__Output as _parley_v1_MembersRequest__Output } from './parley/v1/MembersRequest';
import type { MembershipChange as _parley_v1_MembershipChange, MembershipChange__Output as _parley_v1_MembershipChange__Output } from './parley/v1/MembershipChange';
import type { MembershipRecord as _parley_v1_MembershipRecord, MembershipRecord__Output as _parley_v1_MembershipRecord__Output } from './parley/v1/MembershipRecord';
import type { MembershipRequest as _parley_v1_MembershipRequest, MembershipRequest__Output as _parley_v1_MembershipRequest__Output } from './parley/v1/MembershipRequest';
import type { MembershipResponse as _parley_v1_MembershipResponse, MembershipResponse__Output as _parley_v1_MembershipResponse__Output } from './parley/v1/MembershipResponse';
import type { MessagesRecord as _parley_v1_MessagesRecord, MessagesRecord__Output as _parley_v1_MessagesRecord__Output } from './parley/v1/MessagesRecord';
import type { MessagesResponse as _parley_v1_MessagesResponse, MessagesResponse__Output as _parley_v1_MessagesResponse__Output } from './parley/v1/MessagesResponse';
import type { Receipt as _parley_v1_Receipt, Receipt__Output as _parley_v1_Receipt__Output } from './parley/v1/Receipt';
import type { ReceiptsRecord as _parley_v1_ReceiptsRecord, ReceiptsRecord__Output as _parley_v1_ReceiptsRecord__Output } from './parley/v1/ReceiptsRecord';
import type { Rejection as _parley_v1_Rejection, Rejection__Output as _parley_v1_Rejection__Output } from './parley/v1/Rejection';
import type { Signal as _parley_v1_Signal, Signal__Output as _parley_v1_Signal__Output } from './parley/v1/Signal';
import type { SignalsRecord as _parley_v1_SignalsRecord, SignalsRecord__Output as _parley_v1_SignalsRecord__Output } from './parley/v1/SignalsRecord';
import type { StorageClient as _parley_v1_StorageClient, StorageDefinition as _parley_v1_StorageDefinition } from './parley/v1/Storage';
import type { StoredMessage as _parley_v1_StoredMessage, StoredMessage__Output as _parley_v1_StoredMessage__Output } from './parley/v1/StoredMessage';
import type { SyncRequest as _parley_v1_SyncRequest, SyncRequest__Output as _parley_v1_SyncRequest__Output } from './parley/v1/SyncRequest';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  parley: {
    v1: {
      AcceptedMessage: MessageTypeDefinition<_parley_v1_AcceptedMessage, _parley_v1_AcceptedMessage__Output>
      BotsRequest: MessageTypeDefinition<_parley_v1_BotsRequest, _parley_v1_BotsRequest__Output>
      Conversation: MessageTypeDefinition<_parley_v1_Conversation, _parley_v1_Conversation__Output>
      ConversationKind: EnumTypeDefinition
      ConversationState: MessageTypeDefinition<_parley_v1_ConversationState, _parley_v1_ConversationState__Output>
      CreateDirectRequest: MessageTypeDefinition<_parley_v1_CreateDirectRequest, _parley_v1_CreateDirectRequest__Output>
      CreateGroupRequest: MessageTypeDefinition<_parley_v1_CreateGroupRequest, _parley_v1_CreateGroupRequest__Output>
      DeliveriesRecord: MessageTypeDefinition<_parley_v1_DeliveriesRecord, _parley_v1_DeliveriesRecord__Output>
      GetConversationRequest: MessageTypeDefinition<_parley_v1_GetConversationRequest, _parley_v1_GetConversationRequest__Output>
      HistoryOrder: EnumTypeDefinition
      HistoryRequest: MessageTypeDefinition<_parley_v1_HistoryRequest, _parley_v1_HistoryRequest__Output>
      ListConversationsRequest: MessageTypeDefinition<_parley_v1_ListConversationsRequest, _parley_v1_ListConversationsRequest__Output>
      ListConversationsResponse: MessageTypeDefinition<_parley_v1_ListConversationsResponse, _parley_v1_ListConversationsResponse__Output>
      ListMembersRequest: MessageTypeDefinition<_parley_v1_ListMembersRequest, _parley_v1_ListMembersRequest__Output>
      ListMembersResponse: MessageTypeDefinition<_parley_v1_ListMembersResponse, _parley_v1_ListMembersResponse__Output>
      MembersRequest: MessageTypeDefinition<_parley_v1_MembersRequest, _parley_v1_MembersRequest__Output>
      MembershipChange: MessageTypeDefinition<_parley_v1_MembershipChange, _parley_v1_MembershipChange__Output>
      MembershipRecord: MessageTypeDefinition<_parley_v1_MembershipRecord, _parley_v1_MembershipRecord__Output>
      MembershipRequest: MessageTypeDefinition<_parley_v1_MembershipRequest, _parley_v1_MembershipRequest__Output>
      MembershipResponse: MessageTypeDefinition<_parley_v1_MembershipResponse, _parley_v1_MembershipResponse__Output>
      MessagesRecord: MessageTypeDefinition<_parley_v1_MessagesRecord, _parley_v1_MessagesRecord__Output>
      MessagesResponse: MessageTypeDefinition<_parley_v1_MessagesResponse, _parley_v1_MessagesResponse__Output>
      Receipt: MessageTypeDefinition<_parley_v1_Receipt, _parley_v1_Receipt__Output>
      ReceiptsRecord: MessageTypeDefinition<_parley_v1_ReceiptsRecord, _parley_v1_ReceiptsRecord__Output>
      Rejection: MessageTypeDefinition<_parley_v1_Rejection, _parley_v1_Rejection__Output>
      Signal: MessageTypeDefinition<_parley_v1_Signal, _parley_v1_Signal__Output>
      SignalsRecord: MessageTypeDefinition<_parley_v1_SignalsRecord, _parley_v1_SignalsRecord__Output>
      Storage: SubtypeConstructor<typeof grpc.Client, _parley_v1_StorageClient> & { service: _parley_v1_StorageDefinition }
      StoredMessage: MessageTypeDefinition<_parley_v1_StoredMessage, _parley_v1_StoredMessage__Output>
      SyncRequest: MessageTypeDefinition<_parley_v1_SyncRequest, _parley_v1_SyncRequest__Output>
    }
  }
}

