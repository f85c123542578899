import type { IncomingHttpHeaders } from 'node:http';
import type { EmulatorFault, EmulatorRoute } from './emulator.types.js';

type RequestHeaders = Record<string, string | string[] | undefined>;

const ROUTES: readonly EmulatorRoute[] = ['jwks', 'refresh', 'logout', 'user'];

/** What tests steer and observe per route: injected faults, call counts and the last request's headers. */
export class EmulatorTraffic {
  private readonly faults = new Map<EmulatorRoute, { fault: EmulatorFault; remaining?: number }>();
  private readonly counts: Record<EmulatorRoute, number> = { jwks: 0, refresh: 0, logout: 0, user: 0 };
  private readonly headers = new Map<EmulatorRoute, RequestHeaders>();

  /** `times` <= 0 clears the route's fault instead. */
  setFault(route: EmulatorRoute, fault: EmulatorFault): void {
    if (fault.times !== undefined && fault.times <= 0) {
      this.faults.delete(route);
      return;
    }
    this.faults.set(route, { fault: { ...fault }, remaining: fault.times });
  }

  /** The fault for one request on `route`, using up one of its `times`. */
  takeFault(route: EmulatorRoute): EmulatorFault | undefined {
    const entry = this.faults.get(route);
    if (!entry) return undefined;
    if (entry.remaining !== undefined && --entry.remaining <= 0) this.faults.delete(route);
    return entry.fault;
  }

  clearFaults(): void {
    this.faults.clear();
  }

  record(route: EmulatorRoute, headers: IncomingHttpHeaders): void {
    this.counts[route]++;
    this.headers.set(route, { ...headers });
  }

  calls(route: EmulatorRoute): number {
    return this.counts[route];
  }

  lastRequestHeaders(route: EmulatorRoute): RequestHeaders | undefined {
    const headers = this.headers.get(route);
    return headers && { ...headers };
  }

  resetCalls(): void {
    for (const route of ROUTES) this.counts[route] = 0;
    this.headers.clear();
  }
}
