/**
 * What one pod's work gets from the pass, shared by the steps of pass/ (triage, merge, commit,
 * clean) and by `compactor inspect`: types only, so that the file that orchestrates (pass.ts)
 * is imported by nobody.
 */
import type { Bucket } from '@platform/log-reader/s3';
import type { Config } from '../config/config.js';
import type { ContainerLiveness } from '../kube/kube.js';
import type { Logger } from '../logger.js';
import type { Lease } from '../store/lease.js';

/** What one pod's work (merge or clean) gets from the pass. */
export interface PodContext {
  readonly store: Bucket;
  readonly config: Config;
  /**
   * The clock, read afresh for every decision and stamp: a pass over many pods (or one huge
   * pod) runs for minutes, and an instant read at its start would date its later commits
   * too early, making what they replaced due too soon.
   */
  readonly clock: () => Date;
  readonly logger: Logger;
  /** The pod's lease (none in a dry run): confirmed before every delete and commit. */
  readonly lease: Lease | undefined;
  /** The store refuses a DELETE whose If-Match does not hold (store-checks.ts); the fence is then removed. */
  readonly conditionalDeletes?: boolean;
  /** With `--kube`: decides when an unfinished line is merged as it is, instead of the quiet rule. */
  readonly liveness?: ContainerLiveness;
}

/** What deciding whether to merge needs of the pass: `compactor inspect` asks the same question. */
export type MergeDecision = Pick<PodContext, 'clock' | 'config' | 'liveness'>;
