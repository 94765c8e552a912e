// Original file: ../../proto/parley/v1/storage.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { BotsRequest as _parley_v1_BotsRequest, BotsRequest__Output as _parley_v1_BotsRequest__Output } from '../../parley/v1/BotsRequest';
import type { Conversation as _parley_v1_Conversation, Conversation__Output as _parley_v1_Conversation__Output } from '../../parley/v1/Conversation';
import type { CreateDirectRequest as _parley_v1_CreateDirectRequest, CreateDirectRequest__Output as _parley_v1_CreateDirectRequest__Output } from '../../parley/v1/CreateDirectRequest';
import type { CreateGroupRequest as _parley_v1_CreateGroupRequest, CreateGroupRequest__Output as _parley_v1_CreateGroupRequest__Output } from '../../parley/v1/CreateGroupRequest';
import type { GetConversationRequest as _parley_v1_GetConversationRequest, GetConversationRequest__Output as _parley_v1_GetConversationRequest__Output } from '../../parley/v1/GetConversationRequest';
import type { HistoryRequest as _parley_v1_HistoryRequest, HistoryRequest__Output as _parley_v1_HistoryRequest__Output } from '../../parley/v1/HistoryRequest';
import type { ListConversationsRequest as _parley_v1_ListConversationsRequest, ListConversationsRequest__Output as _parley_v1_ListConversationsRequest__Output } from '../../parley/v1/ListConversationsRequest';
import type { ListConversationsResponse as _parley_v1_ListConversationsResponse, ListConversationsResponse__Output as _parley_v1_ListConversationsResponse__Output } from '../../parley/v1/ListConversationsResponse';
import type { ListMembersRequest as _parley_v1_ListMembersRequest, ListMembersRequest__Output as _parley_v1_ListMembersRequest__Output } from '../../parley/v1/ListMembersRequest';
import type { ListMembersResponse as _parley_v1_ListMembersResponse, ListMembersResponse__Output as _parley_v1_ListMembersResponse__Output } from '../../parley/v1/ListMembersResponse';
import type { MembersRequest as _parley_v1_MembersRequest, MembersRequest__Output as _parley_v1_MembersRequest__Output } from '../../parley/v1/MembersRequest';
import type { MembershipRequest as _parley_v1_MembershipRequest, MembershipRequest__Output as _parley_v1_MembershipRequest__Output } from '../../parley/v1/MembershipRequest';
import type { MembershipResponse as _parley_v1_MembershipResponse, MembershipResponse__Output as _parley_v1_MembershipResponse__Output } from '../../parley/v1/MembershipResponse';
import type { MessagesResponse as _parley_v1_MessagesResponse, MessagesResponse__Output as _parley_v1_MessagesResponse__Output } from '../../parley/v1/MessagesResponse';
import type { SyncRequest as _parley_v1_SyncRequest, SyncRequest__Output as _parley_v1_SyncRequest__Output } from '../../parley/v1/SyncRequest';

export interface StorageClient extends grpc.Client {
  /**
   * The bots (service identities "bot:<name>") allowed to post into a conversation, direct or
   * group, without being members: published in the conversation's stream like a membership
   * change, so a bot removed cannot post after its removal. At most 32 bots per conversation.
   */
  AddBots(argument: _parley_v1_BotsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  AddBots(argument: _parley_v1_BotsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  AddBots(argument: _parley_v1_BotsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  AddBots(argument: _parley_v1_BotsRequest, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  /**
   * The bots (service identities "bot:<name>") allowed to post into a conversation, direct or
   * group, without being members: published in the conversation's stream like a membership
   * change, so a bot removed cannot post after its removal. At most 32 bots per conversation.
   */
  addBots(argument: _parley_v1_BotsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  addBots(argument: _parley_v1_BotsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  addBots(argument: _parley_v1_BotsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  addBots(argument: _parley_v1_BotsRequest, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  
  AddMembers(argument: _parley_v1_MembersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  AddMembers(argument: _parley_v1_MembersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  AddMembers(argument: _parley_v1_MembersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  AddMembers(argument: _parley_v1_MembersRequest, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  addMembers(argument: _parley_v1_MembersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  addMembers(argument: _parley_v1_MembersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  addMembers(argument: _parley_v1_MembersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  addMembers(argument: _parley_v1_MembersRequest, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  
  /**
   * Conversation administration.
   */
  CreateDirect(argument: _parley_v1_CreateDirectRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  CreateDirect(argument: _parley_v1_CreateDirectRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  CreateDirect(argument: _parley_v1_CreateDirectRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  CreateDirect(argument: _parley_v1_CreateDirectRequest, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  /**
   * Conversation administration.
   */
  createDirect(argument: _parley_v1_CreateDirectRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  createDirect(argument: _parley_v1_CreateDirectRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  createDirect(argument: _parley_v1_CreateDirectRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  createDirect(argument: _parley_v1_CreateDirectRequest, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  
  CreateGroup(argument: _parley_v1_CreateGroupRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  CreateGroup(argument: _parley_v1_CreateGroupRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  CreateGroup(argument: _parley_v1_CreateGroupRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  CreateGroup(argument: _parley_v1_CreateGroupRequest, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  createGroup(argument: _parley_v1_CreateGroupRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  createGroup(argument: _parley_v1_CreateGroupRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  createGroup(argument: _parley_v1_CreateGroupRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  createGroup(argument: _parley_v1_CreateGroupRequest, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  
  GetConversation(argument: _parley_v1_GetConversationRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  GetConversation(argument: _parley_v1_GetConversationRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  GetConversation(argument: _parley_v1_GetConversationRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  GetConversation(argument: _parley_v1_GetConversationRequest, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  getConversation(argument: _parley_v1_GetConversationRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  getConversation(argument: _parley_v1_GetConversationRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  getConversation(argument: _parley_v1_GetConversationRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  getConversation(argument: _parley_v1_GetConversationRequest, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  
  /**
   * Messages of one conversation in a seq range, newest first or oldest first.
   */
  History(argument: _parley_v1_HistoryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_MessagesResponse__Output>): grpc.ClientUnaryCall;
  History(argument: _parley_v1_HistoryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_parley_v1_MessagesResponse__Output>): grpc.ClientUnaryCall;
  History(argument: _parley_v1_HistoryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_MessagesResponse__Output>): grpc.ClientUnaryCall;
  History(argument: _parley_v1_HistoryRequest, callback: grpc.requestCallback<_parley_v1_MessagesResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Messages of one conversation in a seq range, newest first or oldest first.
   */
  history(argument: _parley_v1_HistoryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_MessagesResponse__Output>): grpc.ClientUnaryCall;
  history(argument: _parley_v1_HistoryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_parley_v1_MessagesResponse__Output>): grpc.ClientUnaryCall;
  history(argument: _parley_v1_HistoryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_MessagesResponse__Output>): grpc.ClientUnaryCall;
  history(argument: _parley_v1_HistoryRequest, callback: grpc.requestCallback<_parley_v1_MessagesResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * The conversations a user is a member of, with that user's positions (the client's
   * sync cursor across conversations), ordered by conversation id, in pages.
   */
  ListConversations(argument: _parley_v1_ListConversationsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_ListConversationsResponse__Output>): grpc.ClientUnaryCall;
  ListConversations(argument: _parley_v1_ListConversationsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_parley_v1_ListConversationsResponse__Output>): grpc.ClientUnaryCall;
  ListConversations(argument: _parley_v1_ListConversationsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_ListConversationsResponse__Output>): grpc.ClientUnaryCall;
  ListConversations(argument: _parley_v1_ListConversationsRequest, callback: grpc.requestCallback<_parley_v1_ListConversationsResponse__Output>): grpc.ClientUnaryCall;
  /**
   * The conversations a user is a member of, with that user's positions (the client's
   * sync cursor across conversations), ordered by conversation id, in pages.
   */
  listConversations(argument: _parley_v1_ListConversationsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_ListConversationsResponse__Output>): grpc.ClientUnaryCall;
  listConversations(argument: _parley_v1_ListConversationsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_parley_v1_ListConversationsResponse__Output>): grpc.ClientUnaryCall;
  listConversations(argument: _parley_v1_ListConversationsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_ListConversationsResponse__Output>): grpc.ClientUnaryCall;
  listConversations(argument: _parley_v1_ListConversationsRequest, callback: grpc.requestCallback<_parley_v1_ListConversationsResponse__Output>): grpc.ClientUnaryCall;
  
  ListMembers(argument: _parley_v1_ListMembersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_ListMembersResponse__Output>): grpc.ClientUnaryCall;
  ListMembers(argument: _parley_v1_ListMembersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_parley_v1_ListMembersResponse__Output>): grpc.ClientUnaryCall;
  ListMembers(argument: _parley_v1_ListMembersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_ListMembersResponse__Output>): grpc.ClientUnaryCall;
  ListMembers(argument: _parley_v1_ListMembersRequest, callback: grpc.requestCallback<_parley_v1_ListMembersResponse__Output>): grpc.ClientUnaryCall;
  listMembers(argument: _parley_v1_ListMembersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_ListMembersResponse__Output>): grpc.ClientUnaryCall;
  listMembers(argument: _parley_v1_ListMembersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_parley_v1_ListMembersResponse__Output>): grpc.ClientUnaryCall;
  listMembers(argument: _parley_v1_ListMembersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_ListMembersResponse__Output>): grpc.ClientUnaryCall;
  listMembers(argument: _parley_v1_ListMembersRequest, callback: grpc.requestCallback<_parley_v1_ListMembersResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Is user_id a member of conversation_id? For a conversation of at most 256 members the
   * answer also lists every member, so that one call fills a cache for all of them (the
   * router's membership cache). NOT_FOUND when the conversation does not exist.
   */
  Membership(argument: _parley_v1_MembershipRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_MembershipResponse__Output>): grpc.ClientUnaryCall;
  Membership(argument: _parley_v1_MembershipRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_parley_v1_MembershipResponse__Output>): grpc.ClientUnaryCall;
  Membership(argument: _parley_v1_MembershipRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_MembershipResponse__Output>): grpc.ClientUnaryCall;
  Membership(argument: _parley_v1_MembershipRequest, callback: grpc.requestCallback<_parley_v1_MembershipResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Is user_id a member of conversation_id? For a conversation of at most 256 members the
   * answer also lists every member, so that one call fills a cache for all of them (the
   * router's membership cache). NOT_FOUND when the conversation does not exist.
   */
  membership(argument: _parley_v1_MembershipRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_MembershipResponse__Output>): grpc.ClientUnaryCall;
  membership(argument: _parley_v1_MembershipRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_parley_v1_MembershipResponse__Output>): grpc.ClientUnaryCall;
  membership(argument: _parley_v1_MembershipRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_MembershipResponse__Output>): grpc.ClientUnaryCall;
  membership(argument: _parley_v1_MembershipRequest, callback: grpc.requestCallback<_parley_v1_MembershipResponse__Output>): grpc.ClientUnaryCall;
  
  RemoveBots(argument: _parley_v1_BotsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  RemoveBots(argument: _parley_v1_BotsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  RemoveBots(argument: _parley_v1_BotsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  RemoveBots(argument: _parley_v1_BotsRequest, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  removeBots(argument: _parley_v1_BotsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  removeBots(argument: _parley_v1_BotsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  removeBots(argument: _parley_v1_BotsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  removeBots(argument: _parley_v1_BotsRequest, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  
  RemoveMembers(argument: _parley_v1_MembersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  RemoveMembers(argument: _parley_v1_MembersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  RemoveMembers(argument: _parley_v1_MembersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  RemoveMembers(argument: _parley_v1_MembersRequest, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  removeMembers(argument: _parley_v1_MembersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  removeMembers(argument: _parley_v1_MembersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  removeMembers(argument: _parley_v1_MembersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  removeMembers(argument: _parley_v1_MembersRequest, callback: grpc.requestCallback<_parley_v1_Conversation__Output>): grpc.ClientUnaryCall;
  
  /**
   * Everything after a seq, oldest first, in pages.
   */
  Sync(argument: _parley_v1_SyncRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_MessagesResponse__Output>): grpc.ClientUnaryCall;
  Sync(argument: _parley_v1_SyncRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_parley_v1_MessagesResponse__Output>): grpc.ClientUnaryCall;
  Sync(argument: _parley_v1_SyncRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_MessagesResponse__Output>): grpc.ClientUnaryCall;
  Sync(argument: _parley_v1_SyncRequest, callback: grpc.requestCallback<_parley_v1_MessagesResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Everything after a seq, oldest first, in pages.
   */
  sync(argument: _parley_v1_SyncRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_MessagesResponse__Output>): grpc.ClientUnaryCall;
  sync(argument: _parley_v1_SyncRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_parley_v1_MessagesResponse__Output>): grpc.ClientUnaryCall;
  sync(argument: _parley_v1_SyncRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_parley_v1_MessagesResponse__Output>): grpc.ClientUnaryCall;
  sync(argument: _parley_v1_SyncRequest, callback: grpc.requestCallback<_parley_v1_MessagesResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface StorageHandlers extends grpc.UntypedServiceImplementation {
  /**
   * The bots (service identities "bot:<name>") allowed to post into a conversation, direct or
   * group, without being members: published in the conversation's stream like a membership
   * change, so a bot removed cannot post after its removal. At most 32 bots per conversation.
   */
  AddBots: grpc.handleUnaryCall<_parley_v1_BotsRequest__Output, _parley_v1_Conversation>;
  
  AddMembers: grpc.handleUnaryCall<_parley_v1_MembersRequest__Output, _parley_v1_Conversation>;
  
  /**
   * Conversation administration.
   */
  CreateDirect: grpc.handleUnaryCall<_parley_v1_CreateDirectRequest__Output, _parley_v1_Conversation>;
  
  CreateGroup: grpc.handleUnaryCall<_parley_v1_CreateGroupRequest__Output, _parley_v1_Conversation>;
  
  GetConversation: grpc.handleUnaryCall<_parley_v1_GetConversationRequest__Output, _parley_v1_Conversation>;
  
  /**
   * Messages of one conversation in a seq range, newest first or oldest first.
   */
  History: grpc.handleUnaryCall<_parley_v1_HistoryRequest__Output, _parley_v1_MessagesResponse>;
  
  /**
   * The conversations a user is a member of, with that user's positions (the client's
   * sync cursor across conversations), ordered by conversation id, in pages.
   */
  ListConversations: grpc.handleUnaryCall<_parley_v1_ListConversationsRequest__Output, _parley_v1_ListConversationsResponse>;
  
  ListMembers: grpc.handleUnaryCall<_parley_v1_ListMembersRequest__Output, _parley_v1_ListMembersResponse>;
  
  /**
   * Is user_id a member of conversation_id? For a conversation of at most 256 members the
   * answer also lists every member, so that one call fills a cache for all of them (the
   * router's membership cache). NOT_FOUND when the conversation does not exist.
   */
  Membership: grpc.handleUnaryCall<_parley_v1_MembershipRequest__Output, _parley_v1_MembershipResponse>;
  
  RemoveBots: grpc.handleUnaryCall<_parley_v1_BotsRequest__Output, _parley_v1_Conversation>;
  
  RemoveMembers: grpc.handleUnaryCall<_parley_v1_MembersRequest__Output, _parley_v1_Conversation>;
  
  /**
   * Everything after a seq, oldest first, in pages.
   */
  Sync: grpc.handleUnaryCall<_parley_v1_SyncRequest__Output, _parley_v1_MessagesResponse>;
  
}

export interface StorageDefinition extends grpc.ServiceDefinition {
  AddBots: MethodDefinition<_parley_v1_BotsRequest, _parley_v1_Conversation, _parley_v1_BotsRequest__Output, _parley_v1_Conversation__Output>
  AddMembers: MethodDefinition<_parley_v1_MembersRequest, _parley_v1_Conversation, _parley_v1_MembersRequest__Output, _parley_v1_Conversation__Output>
  CreateDirect: MethodDefinition<_parley_v1_CreateDirectRequest, _parley_v1_Conversation, _parley_v1_CreateDirectRequest__Output, _parley_v1_Conversation__Output>
  CreateGroup: MethodDefinition<_parley_v1_CreateGroupRequest, _parley_v1_Conversation, _parley_v1_CreateGroupRequest__Output, _parley_v1_Conversation__Output>
  GetConversation: MethodDefinition<_parley_v1_GetConversationRequest, _parley_v1_Conversation, _parley_v1_GetConversationRequest__Output, _parley_v1_Conversation__Output>
  History: MethodDefinition<_parley_v1_HistoryRequest, _parley_v1_MessagesResponse, _parley_v1_HistoryRequest__Output, _parley_v1_MessagesResponse__Output>
  ListConversations: MethodDefinition<_parley_v1_ListConversationsRequest, _parley_v1_ListConversationsResponse, _parley_v1_ListConversationsRequest__Output, _parley_v1_ListConversationsResponse__Output>
  ListMembers: MethodDefinition<_parley_v1_ListMembersRequest, _parley_v1_ListMembersResponse, _parley_v1_ListMembersRequest__Output, _parley_v1_ListMembersResponse__Output>
  Membership: MethodDefinition<_parley_v1_MembershipRequest, _parley_v1_MembershipResponse, _parley_v1_MembershipRequest__Output, _parley_v1_MembershipResponse__Output>
  RemoveBots: MethodDefinition<_parley_v1_BotsRequest, _parley_v1_Conversation, _parley_v1_BotsRequest__Output, _parley_v1_Conversation__Output>
  RemoveMembers: MethodDefinition<_parley_v1_MembersRequest, _parley_v1_Conversation, _parley_v1_MembersRequest__Output, _parley_v1_Conversation__Output>
  Sync: MethodDefinition<_parley_v1_SyncRequest, _parley_v1_MessagesResponse, _parley_v1_SyncRequest__Output, _parley_v1_MessagesResponse__Output>
}
