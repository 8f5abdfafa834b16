/**
 * The place in a followed read where the current container's live log takes over: an empty
 * batch marked as such. `records()` passes nothing for it; `createReadStream()` writes the
 * separator there when lines came before it and come after it.
 */
import type { FollowedRecord } from '../read/types.js';

const HAND_OFF = Symbol('hand-off');

export function handOffMark(): FollowedRecord[] {
  return Object.assign([] as FollowedRecord[], { [HAND_OFF]: true });
}

export function isHandOff(batch: readonly unknown[]): boolean {
  return (batch as { [HAND_OFF]?: boolean })[HAND_OFF] === true;
}
