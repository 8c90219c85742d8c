import * as http from 'node:http';

/**
 * GET `http://address/pathname`: the status code, or undefined when nothing answered within
 * `timeoutMs` (refused, reset, timed out). Never throws: health probes run in loops.
 */
export function httpGetStatus(address: string, pathname: string, timeoutMs: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const request = http.get(`http://${address}${pathname}`, { timeout: timeoutMs, agent: false }, (response) => {
      response.resume();
      response.once('end', () => resolve(response.statusCode));
      response.once('error', () => resolve(undefined));
    });
    request.once('timeout', () => request.destroy());
    request.once('error', () => resolve(undefined));
  });
}
