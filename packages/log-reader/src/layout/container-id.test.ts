import { sameContainer, stripScheme } from './container-id.js';

const ID = '0f3a'.repeat(16);

describe('stripScheme', () => {
  it.each([
    [`containerd://${ID}`, ID],
    [`docker://${ID}`, ID],
    [`cri-o://${ID}`, ID],
    [ID.toUpperCase(), ID],
    [undefined, ''],
  ])('%s → %s', (input, expected) => {
    expect(stripScheme(input)).toBe(expected);
  });
});

describe('sameContainer', () => {
  it('matches an id shortened on either side, in any case', () => {
    expect(sameContainer(ID, ID.slice(0, 12))).toBe(true);
    expect(sameContainer(ID.slice(0, 12).toUpperCase(), ID)).toBe(true);
  });
  it('never matches another id or an empty one', () => {
    expect(sameContainer(ID, '1b2c'.repeat(16))).toBe(false);
    expect(sameContainer('', ID)).toBe(false);
    expect(sameContainer(ID, '')).toBe(false);
  });
});
