import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { AckFrame as _parley_v1_client_AckFrame, AckFrame__Output as _parley_v1_client_AckFrame__Output } from './parley/v1/client/AckFrame';
import type { AuthFrame as _parley_v1_client_AuthFrame, AuthFrame__Output as _parley_v1_client_AuthFrame__Output } from './parley/v1/client/AuthFrame';
import type { AuthedFrame as _parley_v1_client_AuthedFrame, AuthedFrame__Output as _parley_v1_client_AuthedFrame__Output } from './parley/v1/client/AuthedFrame';
import type { ConvListFrame as _parley_v1_client_ConvListFrame, ConvListFrame__Output as _parley_v1_client_ConvListFrame__Output } from './parley/v1/client/ConvListFrame';
import type { ConvState as _parley_v1_client_ConvState, ConvState__Output as _parley_v1_client_ConvState__Output } from './parley/v1/client/ConvState';
import type { ConvsFrame as _parley_v1_client_ConvsFrame, ConvsFrame__Output as _parley_v1_client_ConvsFrame__Output } from './parley/v1/client/ConvsFrame';
import type { ErrorFrame as _parley_v1_client_ErrorFrame, ErrorFrame__Output as _parley_v1_client_ErrorFrame__Output } from './parley/v1/client/ErrorFrame';
import type { HistoryFrame as _parley_v1_client_HistoryFrame, HistoryFrame__Output as _parley_v1_client_HistoryFrame__Output } from './parley/v1/client/HistoryFrame';
import type { MsgFrame as _parley_v1_client_MsgFrame, MsgFrame__Output as _parley_v1_client_MsgFrame__Output } from './parley/v1/client/MsgFrame';
import type { MsgsFrame as _parley_v1_client_MsgsFrame, MsgsFrame__Output as _parley_v1_client_MsgsFrame__Output } from './parley/v1/client/MsgsFrame';
import type { PingFrame as _parley_v1_client_PingFrame, PingFrame__Output as _parley_v1_client_PingFrame__Output } from './parley/v1/client/PingFrame';
import type { PongFrame as _parley_v1_client_PongFrame, PongFrame__Output as _parley_v1_client_PongFrame__Output } from './parley/v1/client/PongFrame';
import type { ReadFrame as _parley_v1_client_ReadFrame, ReadFrame__Output as _parley_v1_client_ReadFrame__Output } from './parley/v1/client/ReadFrame';
import type { ReceiptFrame as _parley_v1_client_ReceiptFrame, ReceiptFrame__Output as _parley_v1_client_ReceiptFrame__Output } from './parley/v1/client/ReceiptFrame';
import type { RecvFrame as _parley_v1_client_RecvFrame, RecvFrame__Output as _parley_v1_client_RecvFrame__Output } from './parley/v1/client/RecvFrame';
import type { RejectedFrame as _parley_v1_client_RejectedFrame, RejectedFrame__Output as _parley_v1_client_RejectedFrame__Output } from './parley/v1/client/RejectedFrame';
import type { SendFrame as _parley_v1_client_SendFrame, SendFrame__Output as _parley_v1_client_SendFrame__Output } from './parley/v1/client/SendFrame';
import type { SigFrame as _parley_v1_client_SigFrame, SigFrame__Output as _parley_v1_client_SigFrame__Output } from './parley/v1/client/SigFrame';
import type { SignalFrame as _parley_v1_client_SignalFrame, SignalFrame__Output as _parley_v1_client_SignalFrame__Output } from './parley/v1/client/SignalFrame';
import type { SyncFrame as _parley_v1_client_SyncFrame, SyncFrame__Output as _parley_v1_client_SyncFrame__Output } from './parley/v1/client/SyncFrame';
import type { WelcomeFrame as _parley_v1_client_WelcomeFrame, WelcomeFrame__Output as _parley_v1_client_WelcomeFrame__Output } from './parley/v1/client/WelcomeFrame';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  parley: {
    v1: {
      client: {
        AckFrame: MessageTypeDefinition<_parley_v1_client_AckFrame, _parley_v1_client_AckFrame__Output>
        AuthFrame: MessageTypeDefinition<_parley_v1_client_AuthFrame, _parley_v1_client_AuthFrame__Output>
        AuthedFrame: MessageTypeDefinition<_parley_v1_client_AuthedFrame, _parley_v1_client_AuthedFrame__Output>
        ConvListFrame: MessageTypeDefinition<_parley_v1_client_ConvListFrame, _parley_v1_client_ConvListFrame__Output>
        ConvState: MessageTypeDefinition<_parley_v1_client_ConvState, _parley_v1_client_ConvState__Output>
        ConvsFrame: MessageTypeDefinition<_parley_v1_client_ConvsFrame, _parley_v1_client_ConvsFrame__Output>
        ErrorFrame: MessageTypeDefinition<_parley_v1_client_ErrorFrame, _parley_v1_client_ErrorFrame__Output>
        HistoryFrame: MessageTypeDefinition<_parley_v1_client_HistoryFrame, _parley_v1_client_HistoryFrame__Output>
        MsgFrame: MessageTypeDefinition<_parley_v1_client_MsgFrame, _parley_v1_client_MsgFrame__Output>
        MsgsFrame: MessageTypeDefinition<_parley_v1_client_MsgsFrame, _parley_v1_client_MsgsFrame__Output>
        PingFrame: MessageTypeDefinition<_parley_v1_client_PingFrame, _parley_v1_client_PingFrame__Output>
        PongFrame: MessageTypeDefinition<_parley_v1_client_PongFrame, _parley_v1_client_PongFrame__Output>
        ReadFrame: MessageTypeDefinition<_parley_v1_client_ReadFrame, _parley_v1_client_ReadFrame__Output>
        ReceiptFrame: MessageTypeDefinition<_parley_v1_client_ReceiptFrame, _parley_v1_client_ReceiptFrame__Output>
        RecvFrame: MessageTypeDefinition<_parley_v1_client_RecvFrame, _parley_v1_client_RecvFrame__Output>
        RejectedFrame: MessageTypeDefinition<_parley_v1_client_RejectedFrame, _parley_v1_client_RejectedFrame__Output>
        SendFrame: MessageTypeDefinition<_parley_v1_client_SendFrame, _parley_v1_client_SendFrame__Output>
        SigFrame: MessageTypeDefinition<_parley_v1_client_SigFrame, _parley_v1_client_SigFrame__Output>
        SignalFrame: MessageTypeDefinition<_parley_v1_client_SignalFrame, _parley_v1_client_SignalFrame__Output>
        SyncFrame: MessageTypeDefinition<_parley_v1_client_SyncFrame, _parley_v1_client_SyncFrame__Output>
        WelcomeFrame: MessageTypeDefinition<_parley_v1_client_WelcomeFrame, _parley_v1_client_WelcomeFrame__Output>
      }
    }
  }
}

