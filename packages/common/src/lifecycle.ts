/**
 * One lifecycle contract for every long-lived component: `start()` acquires resources (ports,
 * files, timers), `stop()` releases them in reverse order and is safe to call twice.
 */
export interface Startable {
  start(): Promise<void>;
  stop(): Promise<void>;
}
