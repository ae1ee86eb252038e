import { appendFileSync, writeFileSync } from 'node:fs';
import { serveVpcd } from '@minidriver/sim';
import { OpenPgpSimulator } from './openpgp-simulator.js';
import { acquireVpcdPortLock } from './vpcd-port-lock.js';

const release = await acquireVpcdPortLock(35964);
const card = new OpenPgpSimulator({ pw1: '12345678', pw3: '12345678' });
writeFileSync('/tmp/opgp-apdu.log', '');
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const server = serveVpcd(card, {
  port: 35964,
  onApdu: (command, response) =>
    appendFileSync('/tmp/opgp-apdu.log', `> ${hex(command).slice(0, 160)}\n< ${hex(response).slice(0, 80)} [${response.length}] ${hex(response.slice(-2))}\n`),
});
await server.connected;
console.log('connected');
const stop = async () => {
  await server.close();
  release();
  process.exit(0);
};
process.on('SIGTERM', stop);
setTimeout(stop, 900_000);
