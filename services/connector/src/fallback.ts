// Owns talking to a router of the previous release during a rolling upgrade (routers are
// upgraded first, but a connector may meet an old one for a while).
import { status } from '@grpc/grpc-js';
import { asParleyError } from '@parley/core';

/**
 * A batch method of the router, or, from a router of the previous release that does not
 * know it (a rolling upgrade, routers first), the one-item method once per item, answered
 * the way the batch method answers: per item, its response or its error.
 */
export async function batchOrOneByOne<Item, Answer, R>(
  batch: () => Promise<Answer>,
  items: readonly Item[],
  one: (item: Item) => Promise<R>,
): Promise<Answer | { results: { response?: R; errorCode: string; errorMessage: string; retryable: boolean }[] }> {
  try {
    return await batch();
  } catch (err) {
    if ((err as { cause?: { code?: unknown } }).cause?.code !== status.UNIMPLEMENTED) throw err;
    const results = await Promise.all(
      items.map((item) =>
        one(item).then(
          (response) => ({ response, errorCode: '', errorMessage: '', retryable: false }),
          (e: unknown) => {
            const error = asParleyError(e);
            return { errorCode: error.code, errorMessage: error.message, retryable: error.retryable };
          },
        ),
      ),
    );
    return { results };
  }
}

