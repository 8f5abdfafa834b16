/** JSON log lines on stderr (winston), one child logger per pod. Never given credentials. */
import winston from 'winston';

export type Logger = winston.Logger;

/** `stream`: where the lines go (the CLI passes its `io.stderr`); default the process's stderr. */
export function createLogger(options: { level?: string; stream?: NodeJS.WritableStream } = {}): Logger {
  const transport = options.stream
    ? new winston.transports.Stream({ stream: options.stream })
    : new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] });
  return winston.createLogger({
    level: options.level ?? 'info',
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [transport],
  });
}

/** A logger that drops everything (tests that do not look at logs). */
export function silentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
}

/** Ends the logger and waits until every line has reached its stream. */
export function closeLogger(logger: Logger): Promise<void> {
  return new Promise((done) => {
    logger.once('finish', () => done());
    logger.end();
  });
}
