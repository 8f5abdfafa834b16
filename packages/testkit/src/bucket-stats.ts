#!/usr/bin/env node
/** `bucket-stats --bucket B`: objects and bytes per part of the layout, for the demo. */
import { parseArgs } from 'node:util';
import { createS3Client } from '@platform/log-reader';
import { MERGED_PREFIX, METADATA_PREFIX, CLEANUP_PREFIX, RAW_PREFIX } from '@platform/log-reader/layout';
import { listObjects } from '@platform/log-reader/s3';

const PARTS = [
  ['raw (Fluent Bit)', RAW_PREFIX],
  ['merged', MERGED_PREFIX],
  ['metadata', METADATA_PREFIX],
  ['cleanup queue', CLEANUP_PREFIX],
] as const;

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { bucket: { type: 'string' }, endpoint: { type: 'string' } } });
  if (!values.bucket) {
    process.stderr.write('bucket-stats: --bucket is required\n');
    return 2;
  }
  const client = createS3Client({ endpoint: values.endpoint });
  try {
    let objects = 0;
    let bytes = 0;
    const rows: string[] = [];
    for (const [name, prefix] of PARTS) {
      let n = 0;
      let size = 0;
      for await (const o of listObjects({ client, bucket: values.bucket }, prefix)) {
        n += 1;
        size += o.size;
      }
      objects += n;
      bytes += size;
      rows.push(`  ${name.padEnd(18)} ${String(n).padStart(6)} objects ${String(size).padStart(12)} bytes`);
    }
    process.stdout.write(`bucket ${values.bucket}: ${objects} objects, ${bytes} bytes\n${rows.join('\n')}\n`);
    return 0;
  } finally {
    client.destroy();
  }
}

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
if (process.argv[1]?.endsWith('bucket-stats.js')) process.exitCode = await main(process.argv.slice(2));
