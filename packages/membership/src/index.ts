export { MemberListCache, MembershipCache, type MemberListOptions, type MembershipAnswer, type MembershipCacheOptions, type MembershipLookup } from './cache';
export { subscribeMembershipBroadcast, type MembershipBroadcastOptions } from './broadcast';
