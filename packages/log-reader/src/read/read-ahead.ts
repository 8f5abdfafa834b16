/**
 * A source drained as fast as it gives items, whatever the caller's pace: the caller takes
 * them in order from a queue. A raw listing has to be read within a cleanup interval of the
 * metadata read before it (from then on a raw file the metadata does not cover may be deleted,
 * and would be neither listed nor met as missing: its records would be skipped), while a slow
 * reader may take hours over the merged files before it. The queue holds at most the whole
 * listing, as a listing read before the first file did. Its own failures are told apart from
 * the caller's.
 */
export class ReadAhead<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private ended = false;
  private failure: { error: unknown } | undefined;
  private closed = false;
  private wake: (() => void) | undefined;

  constructor(private readonly source: AsyncGenerator<T>) {
    void this.drain();
  }

  /** Settles once the first item is there (or the source ended); throws the source's failure if it came first. */
  async ready(): Promise<void> {
    while (this.items.length === 0 && !this.ended) await this.changed();
    if (this.items.length === 0 && this.failure !== undefined) throw this.failure.error;
  }

  /** Whether `error` is this source's failure. */
  failed(error: unknown): boolean {
    return this.failure !== undefined && this.failure.error === error;
  }

  /** Stops the source (after the item being produced, if any). */
  close(): void {
    this.closed = true;
    this.source.return(undefined).catch(() => undefined);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) {
      while (this.items.length === 0 && !this.ended) await this.changed();
      if (this.items.length > 0) {
        yield this.items.shift() as T;
        continue;
      }
      if (this.failure !== undefined) throw this.failure.error;
      return;
    }
  }

  private async drain(): Promise<void> {
    try {
      while (!this.closed) {
        const item = await this.source.next();
        if (item.done || this.closed) break;
        this.items.push(item.value);
        this.signal();
      }
    } catch (error) {
      this.failure = { error };
    }
    this.ended = true;
    this.signal();
  }

  private changed(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
