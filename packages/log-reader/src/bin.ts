#!/usr/bin/env node
// The only file that touches the process: everything else takes its inputs as arguments.
import { readFileSync } from 'node:fs';
import { main } from './cli/main.js';

// A reader that closed the pipe (`log-reader cat POD | head -1`) ends nothing, not even a
// write still pending after main() returned: the exit code stays main()'s.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
}

// package.json sits one level above dist/ and bundle/, in the checkout and an installed package alike.
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};
// SIGINT (Ctrl-C) and SIGTERM during a read stop it cleanly: exit 130 or 143, no message.
process.exitCode = await main(
  process.argv.slice(2),
  { stdout: process.stdout, stderr: process.stderr },
  { version, signals: process },
);
