// Original file: ../../proto/parley/v1/storage.proto


export interface CreateGroupRequest {
  'memberIds'?: (string)[];
  /**
   * Optional; generated when empty. Must match [A-Za-z0-9_.:-]{1,128}.
   */
  'conversationId'?: (string);
  /**
   * Optional: bots allowed to post from the start (as AddBots).
   */
  'botIds'?: (string)[];
}

export interface CreateGroupRequest__Output {
  'memberIds': (string)[];
  /**
   * Optional; generated when empty. Must match [A-Za-z0-9_.:-]{1,128}.
   */
  'conversationId': (string);
  /**
   * Optional: bots allowed to post from the start (as AddBots).
   */
  'botIds': (string)[];
}
