import { parseRunArgs } from './run-flags.js';

describe('compactor run --survey', () => {
  const saved = process.env.COMPACTOR_SURVEY;
  afterEach(() => {
    if (saved === undefined) delete process.env.COMPACTOR_SURVEY;
    else process.env.COMPACTOR_SURVEY = saved;
  });

  it('is off unless given, as a flag or as COMPACTOR_SURVEY', async () => {
    delete process.env.COMPACTOR_SURVEY;
    expect((await parseRunArgs(['--bucket', 'b'])).survey).toBe(false);
    expect((await parseRunArgs(['--bucket', 'b', '--survey'])).survey).toBe(true);
    process.env.COMPACTOR_SURVEY = 'true';
    expect((await parseRunArgs(['--bucket', 'b'])).survey).toBe(true);
  });
});
