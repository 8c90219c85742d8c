import * as http from 'node:http';

/**
 * GET `http://address/pathname`: the status code, or undefined when nothing answered within
 * `timeoutMs` (refused, reset, timed out). Never throws: health probes run in loops. Probes
 * that repeat pass a keep-alive `agent`, so each is one request on an open connection, not a
 * TCP connection set up and torn down every time (the supervisor probes 13 processes a second).
 */
export function httpGetStatus(address: string, pathname: string, timeoutMs: number, agent: http.Agent | false = false): Promise<number | undefined> {
  return new Promise((resolve) => {
    const request = http.get(`http://${address}${pathname}`, { timeout: timeoutMs, agent }, (response) => {
      response.resume();
      response.once('end', () => resolve(response.statusCode));
      response.once('error', () => resolve(undefined));
    });
    request.once('timeout', () => request.destroy());
    request.once('error', () => resolve(undefined));
  });
}
