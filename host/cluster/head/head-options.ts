/** What a head is started with (`Head.start`). */
import type { Tls } from '../tls.js';
import type { DEFAULT_PLACEMENT } from '../../core/placement.js';
import type { TableStore } from './tables/table-store.js';

export interface HeadOptions {
  /** TCP port (0 picks a free one). */
  port: number;
  /** Interface to listen on (default all). */
  host?: string;
  /**
   * The cluster token. Absent: the token a killed head's tables kept (a head
   * started again takes its cluster back with it), else a new one (`head.token`).
   */
  token?: string;
  /** With a certificate: listen with TLS (`wss://`). */
  tls?: Tls;
  /** A node silent this long is dead (default 10 s). */
  nodeTimeoutMs?: number;
  /** DEFAULT strategy's knobs (spread threshold, top-k fraction and minimum). */
  placement?: Partial<typeof DEFAULT_PLACEMENT>;
  random?: () => number;
  /**
   * Where the cluster's tables outlive this head (head/tables/): a head
   * started with the tables a killed one left takes its cluster back
   * (head/recovery.ts). Absent: the tables live in memory only.
   */
  tables?: TableStore;
  /** Where the head says what it recovered (default: nowhere). */
  say?: (line: string) => void;
  /** Where it says what went wrong but did not stop it (default: `say`). */
  warn?: (line: string) => void;
}
