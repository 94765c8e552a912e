// Original file: ../../proto/parley/v1/keys.proto

import type { Long } from '@grpc/proto-loader';

export interface ApiKey {
  'keyId'?: (string);
  'name'?: (string);
  'scopes'?: (string)[];
  'createdAt'?: (number | string | Long);
  /**
   * 0 while the key is valid.
   */
  'revokedAt'?: (number | string | Long);
  /**
   * Who created it (the creating key's id, or "bootstrap").
   */
  'createdBy'?: (string);
  /**
   * The bot this key acts as ("bot:<name>"), or empty: a key that sends as no bot.
   */
  'botId'?: (string);
}

export interface ApiKey__Output {
  'keyId': (string);
  'name': (string);
  'scopes': (string)[];
  'createdAt': (number);
  /**
   * 0 while the key is valid.
   */
  'revokedAt': (number);
  /**
   * Who created it (the creating key's id, or "bootstrap").
   */
  'createdBy': (string);
  /**
   * The bot this key acts as ("bot:<name>"), or empty: a key that sends as no bot.
   */
  'botId': (string);
}
