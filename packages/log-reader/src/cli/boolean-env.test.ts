import { Command, Option } from 'commander';
import { checkBooleanEnv, parseBoolean } from './boolean-env.js';

describe('parseBoolean', () => {
  it.each([
    ['true', true],
    ['TRUE', true],
    ['True', true],
    ['1', true],
    ['yes', true],
    ['YES', true],
    [' yes ', true],
    ['false', false],
    ['False', false],
    ['0', false],
    ['no', false],
    ['No', false],
  ])('reads %j as %p', (text, value) => {
    expect(parseBoolean(text)).toBe(value);
  });

  it.each(['', ' ', 'on', 'off', 'y', 'n', 'maybe', '2', 'truee', 'false,'])('refuses %j', (text) => {
    expect(parseBoolean(text)).toBeUndefined();
  });
});

describe('checkBooleanEnv', () => {
  const NAME = 'BOOLEAN_ENV_TEST_FLAG';
  afterEach(() => {
    delete process.env[NAME];
  });

  async function parsed(argv: string[]): Promise<boolean> {
    let value: boolean | undefined;
    const program = new Command('p').exitOverride();
    const command = program.command('c').addOption(new Option('--flag').env(NAME).default(false));
    checkBooleanEnv(command, (message) => new RangeError(message)).action((flags: { flag: boolean }) => {
      value = flags.flag;
    });
    await program.parseAsync(['c', ...argv], { from: 'user' });
    return value as boolean;
  }

  it('gives the variable the value it says, and the flag on the command line wins over it', async () => {
    expect(await parsed([])).toBe(false);
    process.env[NAME] = 'false';
    expect(await parsed([])).toBe(false);
    expect(await parsed(['--flag'])).toBe(true);
    process.env[NAME] = 'Yes';
    expect(await parsed([])).toBe(true);
  });

  it('refuses any other value, empty included, with the error made of one line naming the variable and the value', async () => {
    process.env[NAME] = '';
    await expect(parsed([])).rejects.toThrow(
      new RangeError(`${NAME}: invalid value "": expected true/false, 1/0 or yes/no (any case)`),
    );
    process.env[NAME] = 'off';
    await expect(parsed([])).rejects.toThrow(`${NAME}: invalid value "off"`);
  });
});
