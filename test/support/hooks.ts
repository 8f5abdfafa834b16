// Client hooks for fault and interleaving tests: SDK middleware on a real client talking to
// the real server (not a mock): it can stop, delay or alter requests, never answer them.
import type { S3Client } from '@aws-sdk/client-s3';
import { testS3Client } from './s3.js';

/** What a "crashed" process's requests get: the process is gone, nothing reaches the store. */
export class InjectedCrash extends Error {
  constructor(readonly request: number, readonly command: string) {
    super(`injected crash at request ${request} (${command})`);
    this.name = 'InjectedCrash';
  }
}

export interface RequestLog {
  readonly commands: string[];
}

/** Records the command of every request the client sends (retries not counted). */
export function recording(client: S3Client = testS3Client()): { client: S3Client; log: RequestLog } {
  const log: RequestLog = { commands: [] };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      log.commands.push(context.commandName ?? 'unknown');
      return next(args);
    },
    { step: 'initialize', name: 'recordRequests' },
  );
  return { client, log };
}

/**
 * A client whose process dies at its `k`-th request (1-based): that request and every later
 * one fail without reaching the store, as after a crash or kill at that point.
 */
export function crashingAt(k: number, client: S3Client = testS3Client()): S3Client {
  let n = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      n += 1;
      if (n >= k) throw new InjectedCrash(n, context.commandName ?? 'unknown');
      return next(args);
    },
    { step: 'initialize', name: 'injectCrash' },
  );
  return client;
}

/** Runs `interleave` (once) just before the client's `k`-th request is sent, then lets it go. */
export function pausingAt(k: number, interleave: () => Promise<void>, client: S3Client = testS3Client()): S3Client {
  let n = 0;
  client.middlewareStack.add(
    (next) => async (args) => {
      n += 1;
      if (n === k) await interleave();
      return next(args);
    },
    { step: 'initialize', name: 'interleave' },
  );
  return client;
}

/** A store that ignores conditional writes: the headers are dropped before signing. */
export function withoutConditionalWrites(client: S3Client = testS3Client()): S3Client {
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { headers?: Record<string, string> };
      if (request.headers) {
        for (const name of Object.keys(request.headers)) {
          if (/^if-(none-)?match$/i.test(name)) delete request.headers[name];
        }
      }
      return next(args);
    },
    { step: 'build', name: 'dropConditions' },
  );
  return client;
}
