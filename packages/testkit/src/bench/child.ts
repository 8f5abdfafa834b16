/**
 * The process a bench task runs in (forked by process.ts `runTask`): receives `{name,
 * params}`, runs the task, sends back its result and this process's peak RSS, and exits.
 */
import { TASKS } from './tasks.js';

process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

process.once('message', (message: { name: string; params: object }) => {
  void (async () => {
    let answer: object;
    try {
      const task = TASKS[message.name];
      if (task === undefined) throw new Error(`no task ${message.name}`);
      const result = await task(message.params);
      answer = { ok: true, result, maxRssBytes: process.resourceUsage().maxRSS * 1024 };
    } catch (error) {
      answer = { ok: false, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
    }
    // Exit once the answer is out: the S3 clients' keep-alive sockets would hold the process.
    process.send?.(answer, () => process.exit(0));
  })();
});
