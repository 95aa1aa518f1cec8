/** A body whose first chunk has been read already. */
export interface PrimedBody<T> extends AsyncIterable<T> {
  /** Byte length of the chunk read ahead (0 for an empty body or chunks that are not bytes). */
  readonly primedBytes: number;
}

/**
 * Reads the first chunk of a body now and returns the whole body, that chunk included. A response
 * streamed from storage sends its status with its first bytes: reading one chunk before answering
 * turns an object that cannot be read (missing, unreachable) into an error response instead of a
 * 200 whose body is cut. Closing the returned body closes the source, also before it is read.
 */
export async function primed<T>(body: AsyncIterable<T>): Promise<PrimedBody<T>> {
  const iterator = body[Symbol.asyncIterator]();
  let first: IteratorResult<T> | undefined = await iterator.next();
  const primedBytes = !first.done && first.value instanceof Uint8Array ? first.value.byteLength : 0;
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
  return { primedBytes, [Symbol.asyncIterator]: () => primedIterator };
}
