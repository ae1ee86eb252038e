import { connect } from 'node:net';
import { spawn } from 'node:child_process';
const sock = connect({ port: 35963, host: '127.0.0.1' });
let pending = Buffer.alloc(0); let counter = 0;
const send = (p) => { const h = Buffer.alloc(2); h.writeUInt16BE(p.length); sock.write(Buffer.concat([h, Buffer.from(p)])); };
sock.on('data', (c) => { pending = Buffer.concat([pending, c]); while (pending.length >= 2) { const l = pending.readUInt16BE(0); if (pending.length < 2 + l) break; const p = pending.subarray(2, 2 + l); pending = pending.subarray(2 + l);
  if (l === 1) { if (p[0] === 4) send([0x3b, 0x04, 0x4d, 0x49, 0x4e, 0x49]); }
  else if (p[1] === 0xca) { const r = Buffer.alloc(6); r.writeUInt32BE(counter); r[4] = 0x90; send(r); }
  else if (p[1] === 0xda) { counter = p.readUInt32BE(5); send([0x90, 0]); } else send([0x6d, 0]); } });
await new Promise(r => setTimeout(r, 1500));
const run = (...a) => { const c = spawn(process.execPath, ['test/fixtures/transaction-client.mjs', 'Virtual PCD 00 00', ...a], { stdio: ['pipe', 'pipe', 'inherit'] }); c.stdout.on('data', d => console.log(a[0], Date.now() % 100000, d.toString().trim())); c.on('exit', (code) => console.log(a[0], 'exit', code)); return c; };
const h = run('hold');
await new Promise(r => setTimeout(r, 1500));
const c = run('contend');
await new Promise(r => setTimeout(r, 1500));
h.stdin.write('release\n');
await new Promise(r => setTimeout(r, 3000));
console.log('counter', counter);
const a = run('rmw', '50'); const b = run('rmw', '50');
await new Promise(r => setTimeout(r, 8000));
console.log('counter', counter);
process.exit(0);
