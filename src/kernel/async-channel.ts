/**
 * A bounded single-consumer queue that turns pushes from several producers into one async iterable,
 * with backpressure: `push` resolves only when there is room, so a slow consumer slows the producers.
 */
export class AsyncChannel<T> implements AsyncIterable<T> {
  readonly #items: T[] = [];
  readonly #capacity: number;
  #closed = false;
  #error: unknown;
  #failed = false;
  #readers: Array<() => void> = [];
  #writers: Array<() => void> = [];

  constructor(capacity = 64) {
    this.#capacity = Math.max(1, capacity);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Adds an item; resolves when the queue has room again. Items pushed after close() are dropped. */
  async push(item: T): Promise<void> {
    if (this.#closed) return;
    this.#items.push(item);
    this.#wake(this.#readers);
    while (this.#items.length > this.#capacity && !this.#closed) {
      await new Promise<void>((resolve) => this.#writers.push(resolve));
    }
  }

  /** Ends the stream after the queued items. */
  close(): void {
    this.#closed = true;
    this.#wake(this.#readers);
    this.#wake(this.#writers);
  }

  /** Ends the stream with an error, thrown to the consumer after the queued items. */
  fail(err: unknown): void {
    if (this.#closed) return;
    this.#failed = true;
    this.#error = err;
    this.close();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    try {
      for (;;) {
        const item = this.#items.shift();
        if (item !== undefined) {
          this.#wake(this.#writers);
          yield item;
          continue;
        }
        if (this.#closed) {
          if (this.#failed) throw this.#error;
          return;
        }
        await new Promise<void>((resolve) => this.#readers.push(resolve));
      }
    } finally {
      // The consumer stopped early: release producers waiting for room.
      this.#closed = true;
      this.#items.length = 0;
      this.#wake(this.#writers);
    }
  }

  #wake(list: Array<() => void>): void {
    for (const w of list.splice(0)) w();
  }
}
