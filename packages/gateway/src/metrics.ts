/**
 * The gateway's Prometheus metrics, registered on a Registry the composition root owns (never
 * the global default). The data-path counters (degraded reads, reconstructions, quorum
 * failures) are defined here so that the backend implementation increments the same series.
 */
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';

export interface GatewayMetrics {
  readonly registry: Registry;
  readonly requestsTotal: Counter<'operation' | 'status'>;
  readonly requestDurationSeconds: Histogram<'operation'>;
  readonly requestBodyBytesTotal: Counter<'operation'>;
  readonly responseBodyBytesTotal: Counter<'operation'>;
  readonly requestsInFlight: Gauge;
  /** GETs that had to read parity because a data shard was missing, slow or corrupt. */
  readonly degradedReadsTotal: Counter;
  /** Blocks reconstructed from parity (reads and repairs). */
  readonly reconstructionsTotal: Counter;
  /** Read windows whose hedge delay passed with shard reads unanswered (read around them). */
  readonly readHedgesTotal: Counter;
  /** Reads or writes that could not reach their quorum of storage nodes. */
  readonly quorumFailuresTotal: Counter<'kind'>;
  /** New stripes placed by this gateway, by spread: `even`, or `degraded` (a node doubled up). */
  readonly stripesPlacedTotal: Counter<'spread'>;
  /** Storage nodes this gateway keeps new stripes away from after recent write failures. */
  readonly writeAvoidedNodes: Gauge;
  /** Bodies kept whole whose stripe missed its quorum, written again to a stripe placed around the failed nodes. */
  readonly writeRetriesTotal: Counter<'outcome'>;
  /** Shard data reserved by GETs now (read windows fetched or being sent), within readBufferBytesMax. */
  readonly readBufferBytes: Gauge;
  /** Buffers reserved by writes now, within writeBufferBytesMax. */
  readonly writeBufferBytes: Gauge;
}

export function createGatewayMetrics(registry: Registry): GatewayMetrics {
  return {
    registry,
    requestsTotal: new Counter({
      name: 'gateway_requests_total',
      help: 'S3 requests answered, by operation and HTTP status.',
      labelNames: ['operation', 'status'],
      registers: [registry],
    }),
    requestDurationSeconds: new Histogram({
      name: 'gateway_request_duration_seconds',
      help: 'Time from request arrival to the end of the response, by operation.',
      labelNames: ['operation'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    requestBodyBytesTotal: new Counter({
      name: 'gateway_request_body_bytes_total',
      help: 'Request body bytes received from clients (as sent, before aws-chunked decoding).',
      labelNames: ['operation'],
      registers: [registry],
    }),
    responseBodyBytesTotal: new Counter({
      name: 'gateway_response_body_bytes_total',
      help: 'Response body bytes sent to clients.',
      labelNames: ['operation'],
      registers: [registry],
    }),
    requestsInFlight: new Gauge({ name: 'gateway_requests_in_flight', help: 'S3 requests being served now.', registers: [registry] }),
    degradedReadsTotal: new Counter({
      name: 'gateway_degraded_reads_total',
      help: 'GET requests that read parity shards because a data shard was missing, slow or corrupt.',
      registers: [registry],
    }),
    reconstructionsTotal: new Counter({ name: 'gateway_reconstructions_total', help: 'Erasure-coded blocks reconstructed from parity.', registers: [registry] }),
    readHedgesTotal: new Counter({
      name: 'gateway_read_hedges_total',
      help: 'GET read windows that waited the hedge delay (--read-hedge-after-ms) for a shard read and read other shards instead; the node then counts as slow for 3 s and reads skip it.',
      registers: [registry],
    }),
    quorumFailuresTotal: new Counter({
      name: 'gateway_quorum_failures_total',
      help: 'Reads or writes that could not reach their storage-node quorum, by kind (read, write).',
      labelNames: ['kind'],
      registers: [registry],
    }),
    stripesPlacedTotal: new Counter({
      name: 'gateway_stripes_placed_total',
      help: 'New stripes placed by this gateway, by spread: even, or degraded (some node holds two shards; the healer respreads it).',
      labelNames: ['spread'],
      registers: [registry],
    }),
    writeAvoidedNodes: new Gauge({
      name: 'gateway_write_avoided_nodes',
      help: 'Storage nodes new stripes avoid because writes to them just failed or fell behind (at the last placement).',
      registers: [registry],
    }),
    writeRetriesTotal: new Counter({
      name: 'gateway_write_retries_total',
      help: 'Writes of a body (kept whole, or a copy of up to 16 MiB kept while streaming) whose stripe missed its quorum, tried again on a stripe placed around the failed nodes, by outcome (stored, failed).',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    readBufferBytes: new Gauge({
      name: 'gateway_read_buffer_bytes',
      help: 'Shard data reserved by GETs now (read windows being fetched or sent); GETs wait when it reaches the read buffer budget (--read-buffer-bytes-max).',
      registers: [registry],
    }),
    writeBufferBytes: new Gauge({
      name: 'gateway_write_buffer_bytes',
      help: 'Buffers reserved by striped writes now (PUT, UploadPart, copies); writes wait when it reaches the write buffer budget (--write-buffer-bytes-max), and get 503 SlowDown after 60 s.',
      registers: [registry],
    }),
  };
}
