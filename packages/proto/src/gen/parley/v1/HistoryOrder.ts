// Original file: ../../proto/parley/v1/storage.proto

export const HistoryOrder = {
  /**
   * newest first
   */
  HISTORY_ORDER_UNSPECIFIED: 'HISTORY_ORDER_UNSPECIFIED',
  HISTORY_ORDER_NEWEST_FIRST: 'HISTORY_ORDER_NEWEST_FIRST',
  HISTORY_ORDER_OLDEST_FIRST: 'HISTORY_ORDER_OLDEST_FIRST',
} as const;

export type HistoryOrder =
  /**
   * newest first
   */
  | 'HISTORY_ORDER_UNSPECIFIED'
  | 0
  | 'HISTORY_ORDER_NEWEST_FIRST'
  | 1
  | 'HISTORY_ORDER_OLDEST_FIRST'
  | 2

export type HistoryOrder__Output = typeof HistoryOrder[keyof typeof HistoryOrder]
