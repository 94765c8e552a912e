// Original file: ../../proto/parley/v1/storage.proto

export const ConversationKind = {
  CONVERSATION_KIND_UNSPECIFIED: 'CONVERSATION_KIND_UNSPECIFIED',
  CONVERSATION_KIND_DIRECT: 'CONVERSATION_KIND_DIRECT',
  CONVERSATION_KIND_GROUP: 'CONVERSATION_KIND_GROUP',
} as const;

export type ConversationKind =
  | 'CONVERSATION_KIND_UNSPECIFIED'
  | 0
  | 'CONVERSATION_KIND_DIRECT'
  | 1
  | 'CONVERSATION_KIND_GROUP'
  | 2

export type ConversationKind__Output = typeof ConversationKind[keyof typeof ConversationKind]
