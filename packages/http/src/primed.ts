/**
 * Reads the first chunk of a body now and returns the whole body, that chunk included. A response
 * streamed from storage sends its status with its first bytes: reading one chunk before answering
 * turns an object that cannot be read (missing, unreachable) into an error response instead of a
 * 200 whose body is cut. Closing the returned body closes the source, also before it is read.
 */
export async function primed<T>(body: AsyncIterable<T>): Promise<AsyncIterable<T>> {
  const iterator = body[Symbol.asyncIterator]();
  let first: IteratorResult<T> | undefined = await iterator.next();
  const primedIterator: AsyncIterator<T> = {
    next: () => {
      if (first) {
        const result = first;
        first = undefined;
        return Promise.resolve(result);
      }
      return iterator.next();
    },
    return: async (value?: unknown) => {
      first = undefined;
      await iterator.return?.(value);
      return { done: true, value: undefined as T };
    },
  };
  return { [Symbol.asyncIterator]: () => primedIterator };
}
