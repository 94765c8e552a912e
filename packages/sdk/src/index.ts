// @parley/sdk: the client side of docs/PROTOCOL.md for browsers and Node. README.md says
// how to use it and what the app must persist.
export { ParleyClient, type ParleyClientOptions, type ParleyEvents } from './client';
export { ParleyError, SDK_ERROR_CODES, RETRYABLE_CODES } from './errors';
export { ConversationStream } from './stream';
export { isBotSender } from './types';
export type { ConnectionState, ConvState, ParleyMessage, ParleyReceipt, ParleyRejection, ParleySignal, ParleyWelcome, SendResult, WebSocketConstructor, WebSocketLike } from './types';
