#!/usr/bin/env node
// The only file that touches the process: everything else takes its inputs as arguments.
import { main } from './cli.js';

// Node 20 is this release's runtime, with SDK versions pinned in the lock file; the SDK's
// notice that later releases need Node 22 is for us, not for every run's stderr.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
process.exitCode = await main(process.argv.slice(2));
