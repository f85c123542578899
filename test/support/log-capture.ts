import type { LoggerService } from '@nestjs/common';

export interface LogEntry {
  level: 'log' | 'error' | 'warn' | 'debug' | 'verbose' | 'fatal';
  text: string;
}

/**
 * A Nest logger that keeps every line, Error stacks included, for asserting what the app logged.
 * Install with `app.useLogger(capture)` (it replaces Nest's static logger for the test file).
 */
export class LogCapture implements LoggerService {
  readonly entries: LogEntry[] = [];

  log(...args: unknown[]): void {
    this.add('log', args);
  }
  error(...args: unknown[]): void {
    this.add('error', args);
  }
  warn(...args: unknown[]): void {
    this.add('warn', args);
  }
  debug(...args: unknown[]): void {
    this.add('debug', args);
  }
  verbose(...args: unknown[]): void {
    this.add('verbose', args);
  }
  fatal(...args: unknown[]): void {
    this.add('fatal', args);
  }

  /** Entries at `error` or `fatal`: Nest's ExceptionsHandler writes one for every 500. */
  errors(): LogEntry[] {
    return this.entries.filter((entry) => entry.level === 'error' || entry.level === 'fatal');
  }

  /** The `error`/`fatal` entries, then a clean slate: for an `afterEach` that fails a test which logged one. */
  drainErrors(): LogEntry[] {
    const errors = this.errors();
    this.clear();
    return errors;
  }

  text(): string {
    return this.entries.map((entry) => `[${entry.level}] ${entry.text}`).join('\n');
  }

  clear(): void {
    this.entries.length = 0;
  }

  private add(level: LogEntry['level'], args: unknown[]): void {
    this.entries.push({ level, text: args.map(stringify).join(' ') });
  }
}

function stringify(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}\n${value.stack ?? ''}`;
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
