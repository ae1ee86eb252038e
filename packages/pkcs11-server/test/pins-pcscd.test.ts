/**
 * C_InitPIN and the SO's C_SetPIN through pkcs11-tool, p11-kit-client.so and our server, cards served into
 * pcscd through vpcd: on PIV the SO logs in with the PUK, which sets (and unblocks) the user PIN and is
 * changed by C_SetPIN; on OpenPGP the SO is the Admin PIN (PW3), which resets PW1; on GIDS the admin key
 * unblocks the PIN; elsewhere the right CK_RV.
 */
import { GidsSimulator } from '@minidriver/card-gids/sim';
import { OpenPgpSimulator } from '@minidriver/card-openpgp/sim';
import { PivSimulator } from '@minidriver/card-piv/sim';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CKF_SESSION, CKR, CKU } from '../src/pkcs11/constants.js';
import { OPENPGP_ADMIN_PIN, PIV_MANAGEMENT_KEY, type ServedCard, serveCard, USER_PIN } from './card-support.js';
import { describeWithClient, pkcs11Tool } from './client-support.js';
import { bytesArgument, RpcTestClient } from './rpc-client.js';

const PIV_PUK = '12345678';
/** The GIDS simulator's default admin key (3DES), as hex. */
const GIDS_ADMIN_KEY = PIV_MANAGEMENT_KEY;

describeWithClient(['pcscd', 'pkcs11-tool'], 'C_InitPIN and C_SetPIN as SO: PIV (pcscd + vpcd)', () => {
  let served: ServedCard;
  const tool = (...args: string[]) => pkcs11Tool(served.socketPath, ...args);
  const asSo = (soPin: string) => ['--login', '--login-type', 'so', '--so-pin', soPin];

  beforeAll(async () => {
    served = await serveCard(new PivSimulator({ seed: 'pkcs11-server pins' }));
  }, 400_000); // the vpcd port lock may be held by another suite for a while

  afterAll(async () => {
    await served?.close();
  });

  it('C_InitPIN needs the SO (CKR_USER_NOT_LOGGED_IN as user) and the PUK (the management key cannot set the PIN)', async () => {
    // pkcs11-tool --init-pin always logs in as SO: the user's C_InitPIN is sent by our RPC client.
    const client = await RpcTestClient.open(served.socketPath);
    try {
      const flags = CKF_SESSION.SERIAL_SESSION | CKF_SESSION.RW_SESSION;
      const session = (await client.call('C_OpenSession', (w) => w.uint64(1).uint64(flags))).reader.uint64();
      const login = await client.call('C_Login', (w) =>
        bytesArgument(w.uint64(session).uint64(CKU.USER), Buffer.from(USER_PIN)),
      );
      expect(login.rv).toBe(0);
      const init = await client.call('C_InitPIN', (w) => bytesArgument(w.uint64(session), Buffer.from('11112222')));
      expect(init.rv).toBe(CKR.USER_NOT_LOGGED_IN);
    } finally {
      client.close();
    }
    const asAdmin = await tool(...asSo(PIV_MANAGEMENT_KEY), '--init-pin', '--new-pin', '11112222');
    expect(asAdmin.output).toContain('CKR_FUNCTION_NOT_SUPPORTED');
    expect((await tool('--login', '--pin', USER_PIN, '-O')).code).toBe(0);
  });

  it('a blocked PIN is set again by the SO with the PUK (a wrong PUK is CKR_PIN_INCORRECT)', async () => {
    for (const wrong of ['000000', '000001', '000002']) await tool('--login', '--pin', wrong, '-O');
    expect((await tool('-L')).output).toMatch(/token flags\s+:.*user PIN locked/);
    expect((await tool('--login', '--pin', USER_PIN, '-O')).output).toContain('CKR_PIN_LOCKED');
    const wrongPuk = await tool(...asSo('87654321'), '--init-pin', '--new-pin', '24682468');
    expect(wrongPuk.output).toContain('CKR_PIN_INCORRECT');
    const reset = await tool(...asSo(PIV_PUK), '--init-pin', '--new-pin', '24682468');
    expect(reset.code, reset.output).toBe(0);
    expect((await tool('-L')).output).not.toMatch(/user PIN locked/);
    expect((await tool('--login', '--pin', '24682468', '-O')).code).toBe(0);
    expect((await tool('--login', '--pin', USER_PIN, '-O')).output).toContain('CKR_PIN_INCORRECT');
    const back = await tool(...asSo(PIV_PUK), '--init-pin', '--new-pin', USER_PIN);
    expect(back.code, back.output).toBe(0);
    expect((await tool('--login', '--pin', USER_PIN, '-O')).code).toBe(0);
  });

  it('C_SetPIN as the SO changes the PUK; the new PUK sets the PIN, the old one no longer does', async () => {
    const changed = await tool(...asSo(PIV_PUK), '--change-pin', '--new-pin', '13572468');
    expect(changed.code, changed.output).toBe(0);
    expect((await tool(...asSo(PIV_PUK), '--init-pin', '--new-pin', USER_PIN)).output).toContain('CKR_PIN_INCORRECT');
    const reset = await tool(...asSo('13572468'), '--init-pin', '--new-pin', USER_PIN);
    expect(reset.code, reset.output).toBe(0);
    expect((await tool('--login', '--pin', USER_PIN, '-O')).code).toBe(0);
    // The management key is a key, not a PIN: C_SetPIN cannot change it.
    const admin = await tool(...asSo(PIV_MANAGEMENT_KEY), '--change-pin', '--new-pin', PIV_MANAGEMENT_KEY);
    expect(admin.output).toContain('CKR_FUNCTION_NOT_SUPPORTED');
  });

  it('C_InitToken (re-initializing the card) is CKR_FUNCTION_NOT_SUPPORTED, and the card is left as it was', async () => {
    const result = await tool('--init-token', '--label', 'wiped', '--so-pin', PIV_PUK);
    expect(result.output).toContain('CKR_FUNCTION_NOT_SUPPORTED');
    expect((await tool('-L')).output).toMatch(/token label\s+: YubiKey 5/);
  });
});

describeWithClient(['pcscd', 'pkcs11-tool'], 'C_InitPIN and C_SetPIN as SO: OpenPGP (pcscd + vpcd)', () => {
  let served: ServedCard;
  const tool = (...args: string[]) => pkcs11Tool(served.socketPath, ...args);
  const asSo = (soPin: string) => ['--login', '--login-type', 'so', '--so-pin', soPin];

  beforeAll(async () => {
    served = await serveCard(new OpenPgpSimulator());
  }, 400_000); // the vpcd port lock may be held by another suite for a while

  afterAll(async () => {
    await served?.close();
  });

  it('the SO (Admin PIN, PW3) sets a new user PIN (PW1) with C_InitPIN; a wrong Admin PIN fails at C_Login', async () => {
    expect((await tool(...asSo('00000000'), '--init-pin', '--new-pin', '654321')).output).toContain(
      'CKR_PIN_INCORRECT',
    );
    const reset = await tool(...asSo(OPENPGP_ADMIN_PIN), '--init-pin', '--new-pin', '654321');
    expect(reset.code, reset.output).toBe(0);
    expect((await tool('--login', '--pin', '654321', '-O')).code).toBe(0);
    expect((await tool('--login', '--pin', USER_PIN, '-O')).output).toContain('CKR_PIN_INCORRECT');
    expect((await tool(...asSo(OPENPGP_ADMIN_PIN), '--init-pin', '--new-pin', USER_PIN)).code).toBe(0);
    expect((await tool('--login', '--pin', USER_PIN, '-O')).code).toBe(0);
  });

  it('C_SetPIN as the SO changes the Admin PIN', async () => {
    const changed = await tool(...asSo(OPENPGP_ADMIN_PIN), '--change-pin', '--new-pin', '87654321');
    expect(changed.code, changed.output).toBe(0);
    const old = await tool(...asSo(OPENPGP_ADMIN_PIN), '--init-pin', '--new-pin', USER_PIN);
    expect(old.output).toContain('C_Login failed: rv = CKR_PIN_INCORRECT');
    expect((await tool(...asSo('87654321'), '--init-pin', '--new-pin', USER_PIN)).code).toBe(0);
    const back = await tool(...asSo('87654321'), '--change-pin', '--new-pin', OPENPGP_ADMIN_PIN);
    expect(back.code, back.output).toBe(0);
    expect((await tool(...asSo(OPENPGP_ADMIN_PIN), '--init-pin', '--new-pin', USER_PIN)).code).toBe(0);
    expect((await tool('--login', '--pin', USER_PIN, '-O')).code).toBe(0);
  });
});

describeWithClient(['pcscd', 'pkcs11-tool'], 'C_InitPIN as SO: GIDS (pcscd + vpcd)', () => {
  let served: ServedCard;
  const tool = (...args: string[]) => pkcs11Tool(served.socketPath, ...args);
  const asSo = (soPin: string) => ['--login', '--login-type', 'so', '--so-pin', soPin];

  beforeAll(async () => {
    served = await serveCard(new GidsSimulator({ pin: USER_PIN }));
  }, 400_000); // the vpcd port lock may be held by another suite for a while

  afterAll(async () => {
    await served?.close();
  });

  it('the SO (the admin key, answering a fresh challenge) unblocks the user PIN with a new one', async () => {
    for (const wrong of ['000000', '000001', '000002']) await tool('--login', '--pin', wrong, '-O');
    expect((await tool('--login', '--pin', USER_PIN, '-O')).output).toContain('CKR_PIN_LOCKED');
    expect((await tool('-L')).output).toMatch(/token flags\s+:.*user PIN locked/);
    const reset = await tool(...asSo(GIDS_ADMIN_KEY), '--init-pin', '--new-pin', '24682468');
    expect(reset.code, reset.output).toBe(0);
    expect((await tool('--login', '--pin', '24682468', '-O')).code).toBe(0);
    expect((await tool(...asSo(GIDS_ADMIN_KEY), '--init-pin', '--new-pin', USER_PIN)).code).toBe(0);
    expect((await tool('--login', '--pin', USER_PIN, '-O')).code).toBe(0);
  });

  it('a wrong admin key fails at C_Login; the admin key is not changed with C_SetPIN', async () => {
    const wrongKey = '0102030405060708010203040506070801020304050607ff';
    expect((await tool(...asSo(wrongKey), '--init-pin', '--new-pin', USER_PIN)).output).toContain('C_Login failed');
    const change = await tool(...asSo(GIDS_ADMIN_KEY), '--change-pin', '--new-pin', wrongKey);
    expect(change.output).toContain('CKR_FUNCTION_NOT_SUPPORTED');
    expect((await tool(...asSo(GIDS_ADMIN_KEY), '--init-pin', '--new-pin', USER_PIN)).code).toBe(0);
  });
});
