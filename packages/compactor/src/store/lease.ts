/**
 * One writer per pod, enforced by the store rather than by the CronJob alone.
 *
 * A lease is the object `leases/{pod}.json` = `{"holder", "expires_at"}`:
 *   - acquire: create it with `If-None-Match: *`; if it exists and has expired, take it
 *     over with `If-Match` on the ETag just read (of two takers, one wins);
 *   - hold: renew it (`If-Match`, new expiry) every third of its duration while working,
 *     and once more right before every commit or delete, so a compactor that stalled past
 *     its lease finds out before it writes, not after;
 *   - release: delete it with `If-Match` (a lease taken over is not ours to delete).
 * The metadata commit is conditional on the metadata's ETag as well, so even a writer that
 * lost its lease between the check and the commit cannot commit over a newer commit.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { isNotFound, isPreconditionFailure, type Bucket } from '@platform/log-reader/s3';
import { leaseKey } from '@platform/log-reader/layout';
import { LeaseHeldError, LeaseLostError } from '../errors.js';

export interface LeaseOptions {
  readonly store: Bucket;
  readonly pod: string;
  /** Who we are, for the other compactors' log lines: host, pid and a random suffix. */
  readonly holder: string;
  /** How long a lease lasts without renewal. */
  readonly durationMs: number;
  readonly clock: () => Date;
}

/** The stored lease, as JSON. */
export interface LeaseDocument {
  readonly holder: string;
  /** ISO 8601. */
  readonly expires_at: string;
}

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

  async release(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.renewing;
    if (this.lost) return;
    try {
      await this.options.store.client.send(
        new DeleteObjectCommand({
          Bucket: this.options.store.bucket,
          Key: leaseKey(this.options.pod),
          IfMatch: this.etag,
        }),
      );
    } catch {
      // Taken over, already gone, or the store failed: the lease then expires on its own,
      // which is safe; it only delays the next compactor by the lease duration.
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
): Promise<{ ok: true; etag: string } | { ok: false }> {
  const document: LeaseDocument = {
    holder: options.holder,
    expires_at: new Date(options.clock().getTime() + options.durationMs).toISOString(),
  };
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
      // A retry whose first attempt landed (its answer was lost) meets its own write.
      const current = await read(options);
      const ours = current?.document?.holder === document.holder && current.document.expires_at === document.expires_at;
      return ours ? { ok: true, etag: current.etag } : { ok: false };
    }
    if ('IfMatch' in condition && isNotFound(error)) return { ok: false };
    throw error;
  }
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
    if (typeof value?.holder === 'string' && typeof value.expires_at === 'string')
      return { holder: value.holder, expires_at: value.expires_at };
  } catch {
    // A lease nobody can read is treated as expired: taking it over is still conditional.
  }
  return undefined;
}
