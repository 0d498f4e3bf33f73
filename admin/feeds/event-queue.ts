/**
 * A subscription's events as an async iterator, with a bounded buffer: a client that reads
 * slower than events arrive loses the oldest ones (counted) instead of growing the process's
 * memory without limit. Ending the iteration (the client went away) unsubscribes at once, and a
 * revoked token ends it within `recheckMs`.
 */
export interface EventQueue<T> extends AsyncIterableIterator<T> {
  /** Events dropped because the buffer was full. */
  readonly dropped: number;
}

export interface QueueOptions {
  /** Buffered events at most; default 1000. */
  readonly max?: number;
  /** Checked every `recheckMs`: false (the token was revoked) ends the stream. */
  readonly stillAllowed?: () => Promise<boolean>;
  readonly recheckMs?: number;
}

export function eventQueue<T>(subscribe: (push: (event: T) => void) => () => void, options: QueueOptions = {}): EventQueue<T> {
  const max = options.max ?? 1000;
  const buffer: T[] = [];
  let waiting: ((result: IteratorResult<T>) => void) | undefined;
  let done = false;
  let dropped = 0;
  const unsubscribe = subscribe((event) => {
    if (done) return;
    if (waiting !== undefined) {
      const resolve = waiting;
      waiting = undefined;
      resolve({ value: event, done: false });
      return;
    }
    if (buffer.length >= max) {
      buffer.shift();
      dropped++;
    }
    buffer.push(event);
  });
  // A subscription outlives the request that authorised it: look at the token again now and then.
  const recheck =
    options.stillAllowed === undefined
      ? undefined
      : setInterval(() => {
          void options.stillAllowed!().then(
            (ok) => (ok ? undefined : finish()),
            () => undefined,
          );
        }, options.recheckMs ?? 5000);
  recheck?.unref();
  const finish = (): Promise<IteratorResult<T>> => {
    if (!done) {
      done = true;
      clearInterval(recheck);
      unsubscribe();
      buffer.length = 0;
      waiting?.({ value: undefined, done: true });
      waiting = undefined;
    }
    return Promise.resolve({ value: undefined, done: true });
  };
  return {
    get dropped() {
      return dropped;
    },
    next(): Promise<IteratorResult<T>> {
      if (buffer.length > 0) return Promise.resolve({ value: buffer.shift()!, done: false });
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => (waiting = resolve));
    },
    return: finish,
    throw: finish,
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
