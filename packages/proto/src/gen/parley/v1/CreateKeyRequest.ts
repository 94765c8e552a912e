// Original file: ../../proto/parley/v1/keys.proto


export interface CreateKeyRequest {
  /**
   * 1..128 characters: what the key is for ("billing backend").
   */
  'name'?: (string);
  /**
   * A subset of the scopes in docs/API.md; at least one.
   */
  'scopes'?: (string)[];
  /**
   * A bot key: "bot:<name>" (bot: and [a-z0-9][a-z0-9_.-]{0,59}). Required with the scope
   * messages:send-as-bot, which is then the key's only scope; empty otherwise.
   */
  'botId'?: (string);
}

export interface CreateKeyRequest__Output {
  /**
   * 1..128 characters: what the key is for ("billing backend").
   */
  'name': (string);
  /**
   * A subset of the scopes in docs/API.md; at least one.
   */
  'scopes': (string)[];
  /**
   * A bot key: "bot:<name>" (bot: and [a-z0-9][a-z0-9_.-]{0,59}). Required with the scope
   * messages:send-as-bot, which is then the key's only scope; empty otherwise.
   */
  'botId': (string);
}
