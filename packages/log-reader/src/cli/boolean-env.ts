/**
 * Boolean environment twins, as both CLIs read them: `COMPACTOR_DRY_RUN=false` must mean false.
 * Commander sets a boolean option to true whenever its variable exists, whatever its value, so
 * {@link checkBooleanEnv} reads the value again with {@link parseBoolean} and refuses anything
 * that is not one of its words. The compactor imports both from `@platform/log-reader/cli`.
 */
import type { Command } from 'commander';

/** The words a boolean setting takes, as error messages and the docs list them. */
export const BOOLEAN_WORDS = 'true/false, 1/0 or yes/no (any case)';

const TRUE = new Set(['true', '1', 'yes']);
const FALSE = new Set(['false', '0', 'no']);

/** `true`/`false`, `1`/`0`, `yes`/`no` in any case (blanks around ignored); else, empty included: undefined. */
export function parseBoolean(text: string): boolean | undefined {
  const word = text.trim().toLowerCase();
  if (TRUE.has(word)) return true;
  if (FALSE.has(word)) return false;
  return undefined;
}

/** The one line that refuses `value` of the boolean variable `name`. */
export function invalidBooleanMessage(name: string, value: string): string {
  return `${name}: invalid value ${JSON.stringify(value)}: expected ${BOOLEAN_WORDS}`;
}

/**
 * Before `command`'s action runs, each boolean option whose value came from its environment
 * variable gets that variable's value as {@link parseBoolean} reads it; a value it refuses
 * throws `toError(message)` (each CLI's usage error: exit 2).
 */
export function checkBooleanEnv(command: Command, toError: (message: string) => Error): Command {
  return command.hook('preAction', (_program, actionCommand) => {
    for (const option of actionCommand.options) {
      const name = option.envVar;
      if (name === undefined || !option.isBoolean()) continue;
      const key = option.attributeName();
      if (actionCommand.getOptionValueSource(key) !== 'env') continue;
      const value = process.env[name] ?? '';
      const parsed = parseBoolean(value);
      if (parsed === undefined) throw toError(invalidBooleanMessage(name, value));
      actionCommand.setOptionValueWithSource(key, parsed, 'env');
    }
  });
}
