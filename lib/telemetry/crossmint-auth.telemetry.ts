import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { CROSSMINT_AUTH_OPTIONS, TELEMETRY_SCOPE } from '../crossmint-auth.constants.js';
import type { CrossmintAuthReason } from '../crossmint-auth.reasons.js';
import type { ResolvedCrossmintAuthOptions } from '../interfaces/crossmint-auth-options.interface.js';
import { loadOptionalPeer } from '../utils/optional-peer.js';
import type { OtelApi, OtelAttributes, OtelMeter, OtelSpan, OtelTracer } from './otel-api.js';

/** What instrumented code may write on its span. */
export interface TelemetrySpan {
  set(key: string, value: string | number | boolean): void;
  event(name: string, attributes?: OtelAttributes): void;
}

/** `success`, or why not. */
export type TelemetryOutcome = 'success' | CrossmintAuthReason | 'error';

/**
 * The API once a module with telemetry on has loaded it: a refresh store the app constructs itself (no injection)
 * adds its events to the active span through `spanEvent`.
 */
let loadedApi: OtelApi | undefined;

/** An event on the active span, when there is one and telemetry is loaded; otherwise nothing. */
export function spanEvent(name: string, attributes?: OtelAttributes): void {
  loadedApi?.trace.getActiveSpan()?.addEvent(name, attributes);
}

const NO_SPAN: TelemetrySpan = { set: () => undefined, event: () => undefined };

type Counter = ReturnType<OtelMeter['createCounter']>;

interface Instruments {
  refreshes: Counter;
  jwksFetches: Counter;
  failures: Counter;
  duration: ReturnType<OtelMeter['createHistogram']>;
}

/**
 * Spans and metrics through `@opentelemetry/api`, loaded once at boot when installed and `telemetry` is on;
 * otherwise every method is a no-op. The verified-token cache is counted in two plain integers that an
 * observable counter reads at collection time: a cache hit never calls into OpenTelemetry.
 */
@Injectable()
export class CrossmintAuthTelemetry implements OnModuleInit {
  cacheHits = 0;
  cacheMisses = 0;
  private api?: OtelApi;
  private tracer?: OtelTracer;
  private instruments?: Instruments;

  constructor(@Inject(CROSSMINT_AUTH_OPTIONS) private readonly options: ResolvedCrossmintAuthOptions) {}

  async onModuleInit(): Promise<void> {
    if (!this.options.telemetry || this.api) return;
    const api = await loadOptionalPeer<OtelApi>('@opentelemetry/api');
    if (api?.trace && api.metrics) this.start(api);
  }

  /** Runs `fn` in a span (a child of the active one); its outcome is `success` or the reason of what it threw. */
  async span<T>(
    name: string,
    kind: 'client' | 'internal',
    attributes: OtelAttributes,
    fn: (span: TelemetrySpan) => Promise<T>,
  ): Promise<T> {
    const { api, tracer } = this;
    if (!api || !tracer) return fn(NO_SPAN);
    const spanKind = kind === 'client' ? api.SpanKind.CLIENT : api.SpanKind.INTERNAL;
    return tracer.startActiveSpan(name, { kind: spanKind, attributes }, async (span) => {
      try {
        const result = await fn(handleOf(span));
        span.setAttribute('crossmint_auth.outcome', 'success');
        return result;
      } catch (error) {
        span.setAttribute('crossmint_auth.outcome', reasonOf(error));
        span.setStatus({ code: api.SpanStatusCode.ERROR });
        throw error;
      } finally {
        span.end();
      }
    });
  }

  /** One HTTP exchange with Crossmint: `status` is 0 when no answer came. */
  crossmintCall(call: string, seconds: number, status: number): void {
    this.instruments?.duration.record(seconds, { 'crossmint.call': call, 'http.response.status_code': status });
  }

  jwksFetch(outcome: TelemetryOutcome): void {
    this.instruments?.jwksFetches.add(1, { 'crossmint_auth.outcome': outcome });
  }

  refresh(role: string, outcome: TelemetryOutcome): void {
    this.instruments?.refreshes.add(1, { 'crossmint_auth.refresh.role': role, 'crossmint_auth.outcome': outcome });
  }

  authenticationFailure(reason: TelemetryOutcome, door: string): void {
    this.instruments?.failures.add(1, { 'crossmint_auth.reason': reason, 'crossmint_auth.door': door });
  }

  private start(api: OtelApi): void {
    this.api = loadedApi = api;
    this.tracer = api.trace.getTracer(TELEMETRY_SCOPE);
    const meter = api.metrics.getMeter(TELEMETRY_SCOPE);
    this.instruments = {
      refreshes: meter.createCounter('crossmint_auth.refreshes', { description: 'Refreshes by role and outcome' }),
      jwksFetches: meter.createCounter('crossmint_auth.jwks.fetches', { description: 'JWKS fetches by outcome' }),
      failures: meter.createCounter('crossmint_auth.authentication.failures', {
        description: 'Refused or failed authentications by reason',
      }),
      duration: meter.createHistogram('crossmint_auth.crossmint.duration', {
        description: 'Duration of HTTP calls to Crossmint',
        unit: 's',
      }),
    };
    meter
      .createObservableCounter('crossmint_auth.token_cache.lookups', {
        description: 'Lookups of the verified-token cache by result',
      })
      .addCallback((result) => {
        result.observe(this.cacheHits, { 'crossmint_auth.cache.result': 'hit' });
        result.observe(this.cacheMisses, { 'crossmint_auth.cache.result': 'miss' });
      });
  }
}

function handleOf(span: OtelSpan): TelemetrySpan {
  return {
    set: (key, value) => void span.setAttribute(key, value),
    event: (name, attributes) => void span.addEvent(name, attributes),
  };
}

/** The reason an error carries (the module's errors all do), or `error` for anything else. */
export function reasonOf(error: unknown): CrossmintAuthReason | 'error' {
  return (error as { reason?: CrossmintAuthReason } | undefined)?.reason ?? 'error';
}
