/**
 * One writer per pod, enforced by the store rather than by the CronJob alone.
 *
 * A lease is the object `leases/{pod}.json` = `{"holder", "expires_at"}`:
 *   - acquire: create it with `If-None-Match: *`; if it exists and has expired, take it
 *     over with `If-Match` on the ETag just read (of two takers, one wins);
 *   - hold: renew it (`If-Match`, new expiry) every third of its duration while working,
 *     and once more right before every commit or delete, so a compactor that stalled past
 *     its lease finds out before it writes, not after;
 *   - release: where the store enforces `If-Match` on DELETE (store-checks.ts, learnt once a
 *     pass), delete it with `If-Match`; elsewhere (LocalStack answers 501) rewrite it as
 *     released with `If-Match` — expired since 1970, holder kept, `released_at` — which the
 *     next `acquire` takes over at once. Either way a lease taken over is not ours to release,
 *     and a HEAD then a DELETE would not be atomic. A release that fails is logged (warn).
 * The metadata commit is conditional on the metadata's ETag as well, so even a writer that
 * lost its lease between the check and the commit cannot commit over a newer commit.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { isNotFound, isPreconditionFailure, type Bucket } from '@platform/log-reader/s3';
import { leaseKey } from '@platform/log-reader/layout';
import { LeaseHeldError, LeaseLostError } from '../errors.js';
import type { Logger } from '../logger.js';

export interface LeaseOptions {
  readonly store: Bucket;
  readonly pod: string;
  /** Who we are, for the other compactors' log lines: host, pid and a random suffix. */
  readonly holder: string;
  /** How long a lease lasts without renewal. */
  readonly durationMs: number;
  readonly clock: () => Date;
  /**
   * The store refuses a DELETE whose If-Match does not hold (store-checks.ts): a release then
   * deletes the lease; otherwise it rewrites it as released. Default: false.
   */
  readonly conditionalDeletes?: boolean;
  /** Where a release that fails is reported (warn). Default: none. */
  readonly logger?: Logger;
}

/** The stored lease, as JSON. */
export interface LeaseDocument {
  readonly holder: string;
  /** ISO 8601. */
  readonly expires_at: string;
  /** ISO 8601: when its holder released it (then `expires_at` is {@link RELEASED_EXPIRY}). */
  readonly released_at?: string;
}

/** The expiry of a released lease: long past on every clock, however skewed. */
export const RELEASED_EXPIRY = new Date(0).toISOString();

/** A lease as read from the store: its ETag, and its document (`undefined` when unreadable). */
export interface StoredLease {
  readonly etag: string;
  readonly document: LeaseDocument | undefined;
}

export function newHolderId(): string {
  return `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
}

export class Lease {
  private timer: NodeJS.Timeout | undefined;
  private lost = false;
  private renewing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly options: LeaseOptions,
    private etag: string,
  ) {}

  /** Takes the pod's lease or throws {@link LeaseHeldError}; renews it in the background until released. */
  static async acquire(options: LeaseOptions): Promise<Lease> {
    // A released lease is expired: created fails, the read finds it expired, and it is taken over.
    const created = await put(options, { IfNoneMatch: '*' });
    if (created.ok) return new Lease(options, created.etag).startRenewing();
    const current = await read(options);
    if (current === undefined) {
      // Released between our create and our read: one more try.
      const again = await put(options, { IfNoneMatch: '*' });
      if (again.ok) return new Lease(options, again.etag).startRenewing();
      throw new LeaseHeldError(options.pod, 'another compactor', 'unknown');
    }
    if (current.document !== undefined && isLeaseLive(current.document, options.clock().getTime())) {
      throw new LeaseHeldError(options.pod, current.document.holder, current.document.expires_at);
    }
    // Expired (its holder crashed or stalled) or unreadable: take it over, if nobody else does first.
    const taken = await put(options, { IfMatch: current.etag });
    if (taken.ok) return new Lease(options, taken.etag).startRenewing();
    throw new LeaseHeldError(options.pod, 'another compactor', 'unknown');
  }

  /** Renews the lease now; throws {@link LeaseLostError} when it is no longer ours. Call before every write. */
  async confirm(): Promise<void> {
    // In line with the background renewals: two renewals in flight would both be conditional
    // on the same ETag, and the one that loses would take the lease for lost.
    const renewal = this.renewing.then(() => (this.lost ? undefined : this.renew()));
    this.renewing = renewal.catch(() => undefined);
    await renewal;
    if (this.lost) throw new LeaseLostError(this.options.pod);
  }

  /**
   * Ends the lease at once for the next compactor: deleted, or rewritten as released, only if it
   * is still ours (`If-Match`). One that was taken over is left to its new holder. One the store
   * failed to release binds until its expiry (safe, but the next pass within it finds the pod
   * busy): logged as a warning naming the pod, and answered `false`.
   * @returns false when the store failed the release (the lease object is still there).
   */
  async release(): Promise<boolean> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.renewing;
    if (this.lost) return true;
    const { pod, logger } = this.options;
    try {
      if (this.options.conditionalDeletes) await this.deleteLease();
      else await this.markReleased();
      return true;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      logger?.warn(`pod ${pod}: lease ${leaseKey(pod)} not released (${reason}); it binds until it expires`, {
        pod,
      });
      return false;
    }
  }

  /** Rewrites the lease as released, if it is still ours (put: a lease taken over is left as it is). */
  private async markReleased(): Promise<void> {
    const now = this.options.clock().toISOString();
    const released: LeaseDocument = { holder: this.options.holder, expires_at: RELEASED_EXPIRY, released_at: now };
    await put(this.options, { IfMatch: this.etag }, released);
  }

  /**
   * Deletes the lease if it is still ours (`If-Match`). Refused, it may still be ours under an
   * ETag we never saw (a renewal that landed but whose answer was lost): then it is deleted on
   * that ETag; one taken over, or gone, is left alone.
   */
  private async deleteLease(): Promise<void> {
    const { store, pod } = this.options;
    const remove = (etag: string): Promise<unknown> =>
      store.client.send(new DeleteObjectCommand({ Bucket: store.bucket, Key: leaseKey(pod), IfMatch: etag }));
    try {
      await remove(this.etag);
    } catch (error) {
      if (isNotFound(error)) return;
      if (!isPreconditionFailure(error)) throw error;
      const current = await read(this.options);
      if (current === undefined || !stillOurs(current.document, this.options.holder)) return;
      await remove(current.etag);
    }
  }

  private startRenewing(): this {
    this.timer = setInterval(
      () => {
        this.renewing = this.renewing.then(() => (this.lost ? undefined : this.renew())).catch(() => undefined);
      },
      Math.max(1, Math.floor(this.options.durationMs / 3)),
    );
    this.timer.unref();
    return this;
  }

  private async renew(): Promise<void> {
    const renewed = await put(this.options, { IfMatch: this.etag });
    if (renewed.ok) this.etag = renewed.etag;
    else this.lost = true;
  }
}

async function put(
  options: LeaseOptions,
  condition: { IfNoneMatch: '*' } | { IfMatch: string },
  document: LeaseDocument = {
    holder: options.holder,
    expires_at: new Date(options.clock().getTime() + options.durationMs).toISOString(),
  },
  again = false,
): Promise<{ ok: true; etag: string } | { ok: false }> {
  try {
    const response = await options.store.client.send(
      new PutObjectCommand({
        Bucket: options.store.bucket,
        Key: leaseKey(options.pod),
        Body: JSON.stringify(document),
        ContentType: 'application/json',
        ...condition,
      }),
    );
    return { ok: true, etag: response.ETag ?? '' };
  } catch (error) {
    if (isPreconditionFailure(error)) {
      const current = await read(options);
      const stored = current?.document;
      if (current === undefined || stored?.holder !== document.holder) return { ok: false };
      // A retry whose first attempt landed (its answer was lost) meets its own write.
      if (stored.expires_at === document.expires_at && stored.released_at === document.released_at)
        return { ok: true, etag: current.etag };
      // Still ours, under an ETag we never saw: an earlier renewal landed but its answer was lost
      // (holder ids are unique to a pass, and a pass holds a pod's lease once at a time). Written
      // again on that ETag, once; a lease we released, or one taken over since, is not.
      if ('IfMatch' in condition && !again && stillOurs(stored, options.holder))
        return put(options, { IfMatch: current.etag }, document, true);
      return { ok: false };
    }
    if ('IfMatch' in condition && isNotFound(error)) return { ok: false };
    throw error;
  }
}

/** A stored lease that `holder` holds and has not released. */
function stillOurs(document: LeaseDocument | undefined, holder: string): boolean {
  return document?.holder === holder && document.released_at === undefined;
}

/** True while a lease binds: until its expiry (one that is not a time binds, as `acquire` has always read it). */
export function isLeaseLive(document: LeaseDocument, nowMs: number): boolean {
  return !(Date.parse(document.expires_at) <= nowMs);
}

function read(options: LeaseOptions): Promise<StoredLease | undefined> {
  return readLease(options.store, options.pod);
}

/**
 * The pod's lease as stored (`document` undefined when unreadable); `undefined` when there is
 * none. A GET, nothing else.
 */
export async function readLease(store: Bucket, pod: string): Promise<StoredLease | undefined> {
  try {
    const response = await store.client.send(new GetObjectCommand({ Bucket: store.bucket, Key: leaseKey(pod) }));
    const text = (await response.Body?.transformToString('utf-8')) ?? '';
    return { etag: response.ETag ?? '', document: parseLease(text) };
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** The stored lease's JSON; `undefined` when it is not a lease document (it is then taken for expired). */
export function parseLease(text: string): LeaseDocument | undefined {
  try {
    const value = JSON.parse(text) as Partial<LeaseDocument> | null;
    if (typeof value?.holder === 'string' && typeof value.expires_at === 'string') {
      const { holder, expires_at, released_at } = value;
      return typeof released_at === 'string' ? { holder, expires_at, released_at } : { holder, expires_at };
    }
  } catch {
    // A lease nobody can read is treated as expired: taking it over is still conditional.
  }
  return undefined;
}
