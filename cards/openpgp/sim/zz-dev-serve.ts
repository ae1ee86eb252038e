import { appendFileSync, writeFileSync } from 'node:fs';
import { serveVpcd } from '@minidriver/sim';
import { OpenPgpSimulator } from './openpgp-simulator.js';

const card = new OpenPgpSimulator();
writeFileSync('/tmp/opgp-apdu.log', '');
const server = serveVpcd(card, {
  port: 35964,
  onApdu: (c, r) =>
    appendFileSync(
      '/tmp/opgp-apdu.log',
      `> ${Buffer.from(c).toString('hex')}\n< ${Buffer.from(r).toString('hex').slice(0, 120)}${r.length > 60 ? `...${Buffer.from(r.slice(-2)).toString('hex')}` : ''}\n`,
    ),
});
await server.connected;
console.log('connected');
setTimeout(() => server.close(), 600_000);
