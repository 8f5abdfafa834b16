import { Command } from 'commander';
import type { Config } from '../config/config.js';
import { addRunFlags, parseRunArgs } from './run-flags.js';

/** Every boolean env twin of `run`, with the Config field it sets. */
const BOOLEANS: readonly [string, keyof Config][] = [
  ['COMPACTOR_DRY_RUN', 'dryRun'],
  ['COMPACTOR_UNSAFE_WITHOUT_CONDITIONAL_WRITES', 'unsafeWithoutConditionalWrites'],
  ['COMPACTOR_SURVEY', 'survey'],
];

describe('the boolean environment twins of compactor run', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const name of [...BOOLEANS.map(([n]) => n), 'COMPACTOR_KUBE']) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });

  it('lists every boolean flag that has a twin (a new one must join this table)', () => {
    const booleans = addRunFlags(new Command('run')).options.filter((o) => o.isBoolean() && o.envVar !== undefined);
    expect(booleans.map((o) => o.envVar).sort()).toEqual(BOOLEANS.map(([name]) => name).sort());
  });

  describe.each(BOOLEANS)('%s', (name, field) => {
    it('is off unless given', async () => {
      delete process.env[name];
      expect((await parseRunArgs(['--bucket', 'b']))[field]).toBe(false);
    });

    it.each([
      ['true', true],
      ['TRUE', true],
      ['1', true],
      ['yes', true],
      ['Yes', true],
      ['false', false],
      ['False', false],
      ['0', false],
      ['no', false],
      ['NO', false],
    ])('=%j sets it to %p', async (value, expected) => {
      process.env[name] = value;
      expect((await parseRunArgs(['--bucket', 'b']))[field]).toBe(expected);
    });

    it.each(['', 'maybe', 'on', 'off', '2'])('=%j is refused, naming the variable and the value', async (value) => {
      process.env[name] = value;
      await expect(parseRunArgs(['--bucket', 'b'])).rejects.toThrow(
        `${name}: invalid value ${JSON.stringify(value)}: expected true/false, 1/0 or yes/no (any case)`,
      );
    });
  });

  describe('COMPACTOR_KUBE (a boolean, or a kubeconfig path)', () => {
    it.each([
      ['true', 'default'],
      ['YES', 'default'],
      ['1', 'default'],
      ['default', 'default'],
      ['false', undefined],
      ['No', undefined],
      ['0', undefined],
      ['/etc/kube/config', '/etc/kube/config'],
    ])('=%j gives kube %p', async (value, kube) => {
      process.env['COMPACTOR_KUBE'] = value;
      expect((await parseRunArgs(['--bucket', 'b'])).kube).toBe(kube);
    });

    it('refuses an empty value', async () => {
      process.env['COMPACTOR_KUBE'] = '';
      await expect(parseRunArgs(['--bucket', 'b'])).rejects.toThrow(/COMPACTOR_KUBE.*empty value/);
    });
  });

  it('--survey on the command line sets it whatever the environment says', async () => {
    process.env['COMPACTOR_SURVEY'] = 'false';
    expect((await parseRunArgs(['--bucket', 'b', '--survey'])).survey).toBe(true);
  });
});
