// Types of demo-cluster-topology.mjs, for the browser test that starts the same topology.
import type { CrossmintAuthEmulator } from 'nestjs-crossmint-auth/testing';

export declare const APP_HOST: string;
export declare const SIBLING_HOST: string;

export declare function buildSample(): void;
export declare function startCluster(options?: {
  jwtTtlSec?: number;
  cookiePrefix?: string;
  log?: (source: string, line: string) => void;
}): Promise<DemoCluster>;

export interface DemoCluster {
  readonly url: string;
  readonly siblingUrl: string;
  readonly dir: string;
  readonly certFile: string;
  readonly chromiumArgs: string[];
  readonly emulator: CrossmintAuthEmulator;
  readonly instances: { id: string; port: number }[];
  readonly redis: { port: number };
  killInstance(index: number): Promise<void>;
  restartRedis(whileDown?: () => Promise<void>): Promise<void>;
  stop(): Promise<void>;
  killNow(): void;
}
