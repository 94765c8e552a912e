import { KafkaJSError, KafkaJSNonRetriableError, KafkaJSProtocolError } from 'kafkajs';
import { membershipError } from './kafka';

// kafkajs rejoins its group only when eachBatch throws an error whose own `type` is one of
// these; a commit refused after retries arrives wrapped, so the bus must unwrap it.
describe('membershipError', () => {
  const protocol = (type: string) => new KafkaJSProtocolError({ message: type, type, code: 0, retriable: false } as unknown as Error);

  it('finds the membership error itself, or inside the wrapper kafkajs retries put around it', () => {
    for (const type of ['UNKNOWN_MEMBER_ID', 'REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'NOT_COORDINATOR_FOR_GROUP']) {
      const inner = protocol(type);
      expect(membershipError(inner)).toBe(inner);
      // What kafkajs's retrier throws: new KafkaJSNonRetriableError(e, { cause }) (the typings know one argument).
      const Wrapper = KafkaJSNonRetriableError as unknown as new (e: Error, options: { cause: Error }) => Error;
      const wrapped = new Wrapper(inner, { cause: inner });
      expect((wrapped as unknown as { type?: string }).type).toBeUndefined();
      expect(membershipError(wrapped)).toBe(inner);
    }
  });

  it('leaves every other error alone', () => {
    expect(membershipError(protocol('NOT_LEADER_FOR_PARTITION'))).toBeUndefined();
    expect(membershipError(new KafkaJSError('Connection error: connect ECONNREFUSED'))).toBeUndefined();
    expect(membershipError(new Error('UNKNOWN_MEMBER_ID'))).toBeUndefined();
    expect(membershipError(undefined)).toBeUndefined();
  });
});
