import { status } from '@grpc/grpc-js';
import { ParleyError } from '@parley/core';
import { batchOrOneByOne } from './fallback';

const unimplemented = () => new ParleyError('INTERNAL', 'unknown method', { cause: { code: status.UNIMPLEMENTED } });

describe('batchOrOneByOne', () => {
  it('uses the batch method when the router has it', async () => {
    const one = jest.fn();
    expect(await batchOrOneByOne(async () => ({ results: ['batched'] }), [1, 2], one)).toEqual({ results: ['batched'] });
    expect(one).not.toHaveBeenCalled();
  });

  it('falls back to one call per item on UNIMPLEMENTED, answering each with its response or its error', async () => {
    const answer = await batchOrOneByOne(
      async () => {
        throw unimplemented();
      },
      [1, 2, 3],
      async (n) => {
        if (n === 2) throw new ParleyError('PERMISSION_DENIED', 'not a member of this conversation');
        return n * 10;
      },
    );
    expect(answer).toEqual({
      results: [
        { response: 10, errorCode: '', errorMessage: '', retryable: false },
        { errorCode: 'PERMISSION_DENIED', errorMessage: 'not a member of this conversation', retryable: false },
        { response: 30, errorCode: '', errorMessage: '', retryable: false },
      ],
    });
  });

  it('passes any other error on (the caller keeps or refuses the items as for a failed call)', async () => {
    const one = jest.fn();
    await expect(
      batchOrOneByOne(
        async () => {
          throw new ParleyError('UNAVAILABLE', 'router down');
        },
        [1],
        one,
      ),
    ).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(one).not.toHaveBeenCalled();
  });
});
