/** What a TLS client sees of the gateway's certificate. Test code only. */
import { connect } from 'node:tls';

/** The common name of the certificate a new TLS connection to 127.0.0.1:`port` is served. */
export function servedCommonName(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      const name = socket.getPeerCertificate().subject.CN;
      socket.end();
      resolve(Array.isArray(name) ? name.join(',') : (name ?? ''));
    });
    socket.once('error', reject);
  });
}
