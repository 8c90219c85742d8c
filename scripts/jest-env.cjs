// Environment for every jest worker. testcontainers must never try to pull its reaper or an
// alpine helper image (no registry is reachable from CI), and must aim at loopback only.
process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
process.env.TESTCONTAINERS_HOST_OVERRIDE ??= '127.0.0.1';
