#!/usr/bin/env node
// The only file that touches the process: everything else takes its inputs as arguments.
import { main } from './cli.js';

process.exitCode = await main(process.argv.slice(2));
