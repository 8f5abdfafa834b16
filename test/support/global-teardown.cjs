// Jest globalTeardown: stop the S3 server global-setup.cjs started (if any) and put back
// the environment variables it set, so a watch-mode rerun starts a fresh server.
'use strict';

module.exports = async function globalTeardown() {
  const state = globalThis.__S3_TEST_STATE__;
  if (!state) return;
  globalThis.__S3_TEST_STATE__ = undefined;
  try {
    if (state.server) await state.server.stop();
  } finally {
    for (const [k, v] of Object.entries(state.savedEnv)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
};
