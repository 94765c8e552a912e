import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { AcceptedMessage as _parley_v1_AcceptedMessage, AcceptedMessage__Output as _parley_v1_AcceptedMessage__Output } from './parley/v1/AcceptedMessage';
import type { DeliveriesRecord as _parley_v1_DeliveriesRecord, DeliveriesRecord__Output as _parley_v1_DeliveriesRecord__Output } from './parley/v1/DeliveriesRecord';
import type { MembershipChange as _parley_v1_MembershipChange, MembershipChange__Output as _parley_v1_MembershipChange__Output } from './parley/v1/MembershipChange';
import type { MembershipRecord as _parley_v1_MembershipRecord, MembershipRecord__Output as _parley_v1_MembershipRecord__Output } from './parley/v1/MembershipRecord';
import type { MessagesRecord as _parley_v1_MessagesRecord, MessagesRecord__Output as _parley_v1_MessagesRecord__Output } from './parley/v1/MessagesRecord';
import type { Receipt as _parley_v1_Receipt, Receipt__Output as _parley_v1_Receipt__Output } from './parley/v1/Receipt';
import type { ReceiptsRecord as _parley_v1_ReceiptsRecord, ReceiptsRecord__Output as _parley_v1_ReceiptsRecord__Output } from './parley/v1/ReceiptsRecord';
import type { Rejection as _parley_v1_Rejection, Rejection__Output as _parley_v1_Rejection__Output } from './parley/v1/Rejection';
import type { Signal as _parley_v1_Signal, Signal__Output as _parley_v1_Signal__Output } from './parley/v1/Signal';
import type { SignalsRecord as _parley_v1_SignalsRecord, SignalsRecord__Output as _parley_v1_SignalsRecord__Output } from './parley/v1/SignalsRecord';
import type { StoredMessage as _parley_v1_StoredMessage, StoredMessage__Output as _parley_v1_StoredMessage__Output } from './parley/v1/StoredMessage';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  parley: {
    v1: {
      AcceptedMessage: MessageTypeDefinition<_parley_v1_AcceptedMessage, _parley_v1_AcceptedMessage__Output>
      DeliveriesRecord: MessageTypeDefinition<_parley_v1_DeliveriesRecord, _parley_v1_DeliveriesRecord__Output>
      MembershipChange: MessageTypeDefinition<_parley_v1_MembershipChange, _parley_v1_MembershipChange__Output>
      MembershipRecord: MessageTypeDefinition<_parley_v1_MembershipRecord, _parley_v1_MembershipRecord__Output>
      MessagesRecord: MessageTypeDefinition<_parley_v1_MessagesRecord, _parley_v1_MessagesRecord__Output>
      Receipt: MessageTypeDefinition<_parley_v1_Receipt, _parley_v1_Receipt__Output>
      ReceiptsRecord: MessageTypeDefinition<_parley_v1_ReceiptsRecord, _parley_v1_ReceiptsRecord__Output>
      Rejection: MessageTypeDefinition<_parley_v1_Rejection, _parley_v1_Rejection__Output>
      Signal: MessageTypeDefinition<_parley_v1_Signal, _parley_v1_Signal__Output>
      SignalsRecord: MessageTypeDefinition<_parley_v1_SignalsRecord, _parley_v1_SignalsRecord__Output>
      StoredMessage: MessageTypeDefinition<_parley_v1_StoredMessage, _parley_v1_StoredMessage__Output>
    }
  }
}

