// Original file: ../../proto/parley/v1/storage.proto


export interface BotsRequest {
  'conversationId'?: (string);
  /**
   * 1..32 bot ids ("bot:<name>").
   */
  'botIds'?: (string)[];
}

export interface BotsRequest__Output {
  'conversationId': (string);
  /**
   * 1..32 bot ids ("bot:<name>").
   */
  'botIds': (string)[];
}
