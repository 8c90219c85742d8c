import { systemClock, silentLogger } from '@tessera/common';
import type { Clock, Logger } from '@tessera/common';
import { MetadataClient } from '@tessera/rpc';
import { Registry } from 'prom-client';
import { AdminServer } from './admin-server';
import { Healer } from './healer';
import type { HealerOptions } from './healer-options';
import { createHealerMetrics } from './metrics';

export interface RunningHealer {
  readonly healer: Healer;
  readonly registry: Registry;
  /** host:port of the admin/metrics HTTP server, if one was asked for. */
  readonly adminAddress: string | undefined;
  stop(): Promise<void>;
}

/**
 * Starts a healer in-process: metadata client, metrics registry, the three loops and (with
 * `adminListen`) the HTTP endpoint. `autoStart: false` leaves the loops off, so a test can
 * drive rounds itself (`healer.healOnce()`, `scrubOnce()`, `collectOrphansOnce()`).
 */
export async function startHealer(
  options: HealerOptions & { readonly adminListen?: string; readonly autoStart?: boolean },
  components: { readonly clock?: Clock; readonly logger?: Logger; readonly registry?: Registry } = {},
): Promise<RunningHealer> {
  const registry = components.registry ?? new Registry();
  const metadata = new MetadataClient({ addresses: options.metadataAddresses });
  const healer = new Healer(options, {
    metadata, clock: components.clock ?? systemClock, logger: components.logger ?? silentLogger, metrics: createHealerMetrics(registry),
  });
  const admin = new AdminServer(healer, registry);
  const adminAddress = options.adminListen === undefined ? undefined : await admin.listen(options.adminListen);
  if (options.autoStart !== false) await healer.start();
  return {
    healer, registry, adminAddress,
    stop: async () => {
      await admin.close();
      await healer.stop();
      metadata.close();
    },
  };
}
