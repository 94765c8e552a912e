// Owns reading parley.membership, the broadcast of membership changes: each instance reads
// every partition under a consumer group of its own, from the beginning of the topic's short
// retention (so nothing published while it was starting is missed), commits nothing (so
// the group leaves nothing behind), and hands each change to its caches.
import { membershipRecords, type MessageBus, type Subscription, type ValidMembershipChange } from '@parley/bus';
import type { Logger } from '@parley/core';

export interface MembershipBroadcastOptions {
  bus: MessageBus;
  topic: string;
  /** Unique per process, e.g. `${prefix}membership.router.${instanceId}`. */
  groupId: string;
  log: Logger;
  onChange: (change: ValidMembershipChange) => void;
}

export function subscribeMembershipBroadcast(options: MembershipBroadcastOptions): Promise<Subscription> {
  return options.bus.subscribe({
    groupId: options.groupId,
    topic: options.topic,
    fromBeginning: true,
    commitOffsets: false,
    concurrency: 1,
    handler: async (batch) => {
      for (const record of batch.records) {
        try {
          options.onChange(membershipRecords.decode(record.value).change);
        } catch (err) {
          // Nothing to park: an unreadable invalidation is logged, and the caches' maximum age covers it.
          options.log.warn({ err, partition: record.partition, offset: record.offset }, 'unreadable membership record skipped');
        }
      }
    },
  });
}
