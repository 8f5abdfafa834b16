// Jest globalSetup: give the integration tests in test/ a real S3 server.
//
// - S3_TEST_ENDPOINT set: use that server as is (credentials and region from the usual
//   AWS_* variables, test defaults for the missing ones); nothing is started.
// - Otherwise start the server named by S3_TEST_SERVER (moto | versitygw | localstack;
//   default moto)
//   with scripts/s3-server.mjs, but only when a selected test file lives under test/:
//   `jest ./packages/` and other unit-only runs start nothing. S3_TEST_SERVER=none never
//   starts one.
//
// Tests read S3_TEST_ENDPOINT, S3_TEST_SERVER, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
// and AWS_REGION (test workers inherit this process's environment). global-teardown.cjs
// stops the server and restores those variables.
'use strict';

const { spawnSync } = require('node:child_process');
const { existsSync, readdirSync, statSync } = require('node:fs');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

const REPO_ROOT = path.resolve(__dirname, '../..');
const TEST_DIR = path.join(REPO_ROOT, 'test');
const EXPORTED = ['S3_TEST_ENDPOINT', 'S3_TEST_SERVER', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION'];
const DEFAULTS = {
  AWS_ACCESS_KEY_ID: 'AKIA_TEST_ACCESS',
  AWS_SECRET_ACCESS_KEY: 'test-secret',
  AWS_REGION: 'us-east-1',
};

module.exports = async function globalSetup(globalConfig, projectConfig) {
  const state = { savedEnv: Object.fromEntries(EXPORTED.map((k) => [k, process.env[k]])), server: null };
  globalThis.__S3_TEST_STATE__ = state;
  // The AWS SDK warns once per process that its 2027 releases need Node 22; on Node 20
  // that would print in every test file. Set it to "false" to see the warning.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  if (selectsIntegrationTests(globalConfig, projectConfig)) refreshCliBundles();

  if (process.env.S3_TEST_ENDPOINT) {
    for (const [k, v] of Object.entries(DEFAULTS)) process.env[k] ||= v;
    process.env.S3_TEST_SERVER ||= 'external';
    return;
  }

  const kind = process.env.S3_TEST_SERVER || 'moto';
  if (kind === 'none' || !selectsIntegrationTests(globalConfig, projectConfig)) return;

  const { startS3Server } = await import(pathToFileURL(path.join(REPO_ROOT, 'scripts/s3-server.mjs')).href);
  const started = Date.now();
  const server = await startS3Server(kind, {
    // Kept after the run (.tmp/ is gitignored) so a failed test can be read against it.
    logFile: path.join(REPO_ROOT, '.tmp', `jest-s3-${kind}.log`),
  });
  state.server = server;
  Object.assign(process.env, {
    S3_TEST_ENDPOINT: server.endpoint,
    S3_TEST_SERVER: server.kind,
    AWS_ACCESS_KEY_ID: server.accessKeyId,
    AWS_SECRET_ACCESS_KEY: server.secretAccessKey,
    AWS_REGION: server.region,
  });
  if (!globalConfig.silent) {
    process.stderr.write(
      `\n${kind} S3 server at ${server.endpoint} (started in ${Date.now() - started} ms, log ${server.logFile})\n`,
    );
  }
};

/**
 * The CLI tests spawn the bin shims, which run each CLI's bundle (scripts/bundle-clis.mjs):
 * after a bare `npx tsc -b` it would be older than dist/, and the tests would run stale code.
 * Bundles again when any compiled file is newer; without dist/ the shims say what to run.
 */
function refreshCliBundles() {
  const packages = ['compactor', 'log-reader'].map((p) => path.join(REPO_ROOT, 'packages', p));
  if (!packages.every((p) => existsSync(path.join(p, 'dist/bin.js')))) return;
  const built = (p) => {
    const bundle = path.join(p, 'bundle/bin.js');
    return existsSync(bundle) && statSync(bundle).mtimeMs >= newestMtime(path.join(p, 'dist'));
  };
  if (packages.every(built)) return;
  const result = spawnSync(process.execPath, [path.join(REPO_ROOT, 'scripts/bundle-clis.mjs')], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`scripts/bundle-clis.mjs failed:\n${result.stdout}${result.stderr}`);
}

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    const mtime = entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs;
    if (mtime > newest) newest = mtime;
  }
  return newest;
}

/**
 * Could this run include a test file under test/? Mirrors Jest's own path filtering
 * (testPathPatterns, testPathIgnorePatterns) over the files in test/ that look like
 * tests; when in doubt (changed-files modes, an unexpected config shape) says yes.
 */
function selectsIntegrationTests(globalConfig, projectConfig) {
  if (
    globalConfig.onlyChanged ||
    globalConfig.changedSince ||
    globalConfig.findRelatedTests ||
    globalConfig.lastCommit ||
    globalConfig.watch ||
    globalConfig.watchAll
  ) {
    return true;
  }
  const files = testFilesUnder(TEST_DIR);
  if (files.length === 0) return false;

  const rootDir = projectConfig?.rootDir ?? globalConfig.rootDir ?? REPO_ROOT;
  const patterns = globalConfig.testPathPatterns;
  let matchesPatterns;
  if (patterns && typeof patterns.toExecutor === 'function') {
    const executor = patterns.toExecutor({ rootDir });
    matchesPatterns = (f) => executor.isMatch(f);
  } else if (patterns && Array.isArray(patterns.patterns) && patterns.patterns.length > 0) {
    return true; // unknown shape: do not guess
  } else {
    matchesPatterns = () => true;
  }
  const ignore = (projectConfig?.testPathIgnorePatterns ?? []).map((p) => new RegExp(p));
  return files.some((f) => matchesPatterns(f) && !ignore.some((re) => re.test(f)));
}

function testFilesUnder(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') out.push(...testFilesUnder(full));
    } else if (/\.test\.[cm]?[jt]s$/.test(entry.name)) {
      out.push(full);
    }
  }
  return out;
}
