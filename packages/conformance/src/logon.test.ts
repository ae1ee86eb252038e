import { CardSession } from '@minidriver/core';
import { SimTransport } from '@minidriver/sim';
import { FileAccessCondition, KeySpec } from '@minidriver/spec';
import { expect, it } from 'vitest';
import { baseCspLogon } from './logon.js';
import { createContainer } from './provision.js';
import {
  REFERENCE_ADMIN_KEY,
  REFERENCE_PIN,
  ReferenceCard,
  referencePlugin,
  tripleDesResponse,
} from './testing/reference-card.js';

it('a logon reads cardcf, cmapfile, the mscp listing, every certificate file and every valid container', async () => {
  const card = new ReferenceCard();
  const setup = await CardSession.open(referencePlugin, new SimTransport(card));
  await setup.authenticateChallenge(tripleDesResponse(REFERENCE_ADMIN_KEY, await setup.getChallenge()));
  await setup.authenticatePin('user', REFERENCE_PIN);
  // Through the suite's enrollment, which writes the cmapfile record when the card does not.
  await createContainer(setup, { index: 0, keySpec: KeySpec.AT_KEYEXCHANGE, keySize: 1024, generate: true });
  await setup.createFile('mscp', 'kxc00', 0, FileAccessCondition.EveryoneReadUserWriteAc);
  await setup.writeFile('mscp', 'kxc00', Uint8Array.of(1, 2, 3));
  await setup.close();

  const session = await CardSession.open(referencePlugin, new SimTransport(card));
  const calls: string[] = [];
  const watched = new Proxy(session, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(`${String(property)}(${args.map((argument) => JSON.stringify(argument)).join(', ')})`);
        return value.apply(target, args);
      };
    },
  });
  expect(await baseCspLogon(watched)).toBe(1);
  expect(calls).toEqual([
    'readFile(null, "cardcf")',
    'readFile("mscp", "cmapfile")',
    'enumFiles("mscp")',
    'readFile("mscp", "kxc00")',
    'getContainerInfo(0)',
  ]);
  await session.close();
});
