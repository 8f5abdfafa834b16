// Client hooks for fault and interleaving tests: SDK middleware on a real client talking to
// the real server (not a mock): it can stop, delay or alter requests, never answer them.
import type { S3Client } from '@aws-sdk/client-s3';
import { testS3Client } from './s3.js';

/** What a "crashed" process's requests get: the process is gone, nothing reaches the store. */
export class InjectedCrash extends Error {
  constructor(
    readonly request: number,
    readonly command: string,
  ) {
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

/**
 * A store that ignores `If-Match` on DELETE (it deletes whatever the header says): the header
 * is dropped from DeleteObject requests before signing; conditional writes still hold.
 */
export function ignoringConditionalDeletes(client: S3Client = testS3Client()): S3Client {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const request = args.request as { headers?: Record<string, string> };
      if (context.commandName === 'DeleteObjectCommand' && request.headers) {
        for (const name of Object.keys(request.headers)) if (/^if-match$/i.test(name)) delete request.headers[name];
      }
      return next(args);
    },
    { step: 'build', name: 'dropDeleteConditions' },
  );
  return client;
}

/** The command name and the input's `Key` (empty when it has none) of a request. */
function requestOf(context: { commandName?: string }, args: { input: unknown }): { command: string; key: string } {
  return { command: context.commandName ?? 'unknown', key: (args.input as { Key?: string }).Key ?? '' };
}

/**
 * A client whose process stalls at its `k`-th request (1-based), or at the first one after
 * it that `skip` (given the command and the key) does not pass over: `during` runs while it
 * stalls, and every other request the client sends meanwhile (a lease renewal's, another
 * pod's) waits for it too, as in a paused process. Then everything goes on. Outermost on the
 * client: a stalled request has not reached any other hook yet.
 */
export function stallingAt(
  k: number,
  during: (request: string) => Promise<void>,
  options: { skip?: (command: string, key: string) => boolean; client?: S3Client } = {},
): S3Client {
  const client = options.client ?? testS3Client();
  let n = 0;
  let stall: Promise<void> | undefined;
  let stalled = false;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      n += 1;
      const { command, key } = requestOf(context, args);
      if (!stalled && n >= k && !(options.skip?.(command, key) ?? false)) {
        stalled = true;
        stall = during(`${command} ${key}`.trim());
      }
      if (stall) await stall;
      return next(args);
    },
    { step: 'initialize', name: 'stall', priority: 'high' },
  );
  return client;
}

/** The clock moves by `ms` while the client's request number `at` (1-based) is out. */
export interface SlowRequest {
  readonly at: number;
  readonly ms: number;
}

/**
 * A client some of whose requests take a long time, on a test clock: the clock moves
 * (`advance`) after the request reached the store and before its answer comes back. What the
 * request wrote was written at the earlier time; whatever the client does next, later.
 */
export function slowRequests(
  requests: readonly SlowRequest[],
  advance: (ms: number) => void,
  client: S3Client = testS3Client(),
): S3Client {
  let n = 0;
  client.middlewareStack.add(
    (next) => async (args) => {
      n += 1;
      const mine = n;
      try {
        return await next(args);
      } finally {
        for (const r of requests) if (r.at === mine) advance(r.ms);
      }
    },
    { step: 'initialize', name: 'slowRequests' },
  );
  return client;
}

/**
 * Two clients (two processes) taking turns: the first sends `turns[0]` requests, then the
 * second `turns[1]`, then the first `turns[2]`, … (counted as their answers come back);
 * after the last turn, the one whose turn it is runs to its end, then the other. Call
 * `finished(i)` when client `i`'s work has ended (its turn then passes at once). A request
 * waits, before it is sent, until its client has the turn.
 */
export function takingTurns(
  turns: readonly number[],
  clients: readonly [S3Client, S3Client] = [testS3Client(), testS3Client()],
): {
  readonly clients: readonly [S3Client, S3Client];
  finished(i: 0 | 1): void;
} {
  let holder: 0 | 1 = 0;
  let budget = turns[0] ?? Number.POSITIVE_INFINITY;
  let nextTurn = 1;
  const done = [false, false];
  let waiting: (() => void)[] = [];
  const wake = (): void => {
    const woken = waiting;
    waiting = [];
    for (const w of woken) w();
  };
  const handOver = (): void => {
    const other: 0 | 1 = holder === 0 ? 1 : 0;
    const turn = turns[nextTurn] ?? Number.POSITIVE_INFINITY;
    nextTurn += 1;
    if (!done[other]) holder = other;
    budget = turn;
    wake();
  };
  clients.forEach((client, i) => {
    client.middlewareStack.add(
      (next) => async (args) => {
        while (holder !== i && !done[holder]) await new Promise<void>((resolve) => waiting.push(resolve));
        try {
          return await next(args);
        } finally {
          if (holder === i) {
            budget -= 1;
            if (budget <= 0) handOver();
          }
        }
      },
      { step: 'initialize', name: 'takeTurns', priority: 'high' },
    );
  });
  return {
    clients,
    finished: (i) => {
      done[i] = true;
      if (holder === i) {
        holder = i === 0 ? 1 : 0;
        budget = Number.POSITIVE_INFINITY;
      }
      wake();
    },
  };
}

/**
 * Watches a client's requests, innermost (after every other hook: when it is called, the
 * request goes out): `sending` is called with the command and input just before, and may
 * return a function that is called with the outcome.
 */
export function observing(
  sending: (command: string, input: Record<string, unknown>) => ((ok: boolean) => void) | void,
  client: S3Client = testS3Client(),
): S3Client {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const outcome = sending(context.commandName ?? 'unknown', args.input as Record<string, unknown>);
      let ok = false;
      try {
        const result = await next(args);
        ok = true;
        return result;
      } finally {
        if (outcome) outcome(ok);
      }
    },
    { step: 'initialize', name: 'observe', priority: 'low' },
  );
  return client;
}
