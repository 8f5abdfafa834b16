// The pure parts of a pod's lease: who holds it, until when, and what a stored lease says.
import { hostname } from 'node:os';
import { isLeaseLive, newHolderId, parseLease } from './lease.js';

describe('isLeaseLive', () => {
  const lease = { holder: 'host/1/abcd', expires_at: '2026-11-25T10:05:00.000Z' };
  const at = (iso: string): number => Date.parse(iso);

  it('binds until its expiry, and no longer', () => {
    expect(isLeaseLive(lease, at('2026-11-25T10:04:59.999Z'))).toBe(true);
    expect(isLeaseLive(lease, at('2026-11-25T10:05:00.000Z'))).toBe(false);
    expect(isLeaseLive(lease, at('2026-11-25T11:00:00.000Z'))).toBe(false);
  });

  it('binds when its expiry is not a time (never taken over on a guess)', () => {
    expect(isLeaseLive({ ...lease, expires_at: 'soon' }, at('2030-01-01T00:00:00Z'))).toBe(true);
  });
});

describe('parseLease', () => {
  it('reads the holder and the expiry of a stored lease, and nothing else', () => {
    const text = JSON.stringify({ holder: 'host/1/abcd', expires_at: '2026-11-25T10:05:00.000Z', note: 'x' });
    expect(parseLease(text)).toEqual({ holder: 'host/1/abcd', expires_at: '2026-11-25T10:05:00.000Z' });
  });

  it('reads when a released lease was released', () => {
    const released = {
      holder: 'host/1/abcd',
      expires_at: '1970-01-01T00:00:00.000Z',
      released_at: '2026-11-25T10:05:00.000Z',
    };
    expect(parseLease(JSON.stringify(released))).toEqual(released);
    expect(isLeaseLive(released, Date.parse('2026-11-25T10:04:00.000Z'))).toBe(false);
  });

  it.each([
    ['not JSON', '{"holder":'],
    ['null', 'null'],
    ['without a holder', '{"expires_at":"2026-11-25T10:05:00.000Z"}'],
    ['with an expiry that is not a string', '{"holder":"h","expires_at":1764065100000}'],
    ['empty', ''],
  ])('takes a body that is %s for unreadable (a lease the next compactor takes over)', (_, text) => {
    expect(parseLease(text)).toBeUndefined();
  });
});

describe('newHolderId', () => {
  it('names the host and the process, and differs for every lease holder', () => {
    const id = newHolderId();
    expect(id.startsWith(`${hostname()}/${process.pid}/`)).toBe(true);
    expect(newHolderId()).not.toBe(id);
  });
});
