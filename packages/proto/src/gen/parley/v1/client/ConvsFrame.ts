// Original file: ../../proto/parley/v1/client.proto


/**
 * client -> server, type "convs": the caller's conversations with their positions
 * (the one sync cursor across conversations: sync each one whose last_seq is past yours).
 */
export interface ConvsFrame {
  'reqId'?: (string);
  /**
   * Page: conversations whose id sorts after this one. Empty for the first page.
   */
  'afterConversationId'?: (string);
  'limit'?: (number);
}

/**
 * client -> server, type "convs": the caller's conversations with their positions
 * (the one sync cursor across conversations: sync each one whose last_seq is past yours).
 */
export interface ConvsFrame__Output {
  'reqId': (string);
  /**
   * Page: conversations whose id sorts after this one. Empty for the first page.
   */
  'afterConversationId': (string);
  'limit': (number);
}
