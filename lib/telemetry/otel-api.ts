// The few shapes of `@opentelemetry/api` the module uses, declared here so that no declaration file the package
// ships names the optional peer (a consumer without it, type-checking with `skipLibCheck: false`, would fail).
// test/operations-telemetry.e2e.spec.ts checks that the real API fits them.

export type OtelAttributes = Record<string, string | number | boolean>;

export interface OtelSpan {
  setAttribute(key: string, value: string | number | boolean): unknown;
  setStatus(status: { code: number }): unknown;
  addEvent(name: string, attributes?: OtelAttributes): unknown;
  end(): void;
}

export interface OtelTracer {
  startActiveSpan<T>(name: string, options: { kind: number; attributes: OtelAttributes }, fn: (span: OtelSpan) => T): T;
}

export interface OtelObservableResult {
  observe(value: number, attributes?: OtelAttributes): void;
}

export interface OtelMeter {
  createCounter(
    name: string,
    options?: { description?: string; unit?: string },
  ): {
    add(value: number, attributes?: OtelAttributes): void;
  };
  createHistogram(
    name: string,
    options?: { description?: string; unit?: string },
  ): {
    record(value: number, attributes?: OtelAttributes): void;
  };
  createObservableCounter(
    name: string,
    options?: { description?: string; unit?: string },
  ): { addCallback(callback: (result: OtelObservableResult) => void): void };
}

export interface OtelApi {
  trace: { getTracer(name: string, version?: string): OtelTracer; getActiveSpan(): OtelSpan | undefined };
  metrics: { getMeter(name: string, version?: string): OtelMeter };
  SpanKind: { CLIENT: number; INTERNAL: number };
  SpanStatusCode: { ERROR: number };
}
