/**
 * The timed PIN cache policy (PIN_INFO PinCacheTimed): neither simulated card reports it, so the real PIV
 * plugin runs with its PIN_INFO answer for the user PIN changed to "timed, 1 second"; everything else (PIN
 * checks, signing) is the plugin and the simulator as they are. After the time is up the key store drops the
 * verification itself and asks the prompt again, once.
 */
import { verify } from 'node:crypto';
import { plugin as pivPlugin } from '@minidriver/card-piv';
import { PivSimulator } from '@minidriver/card-piv/sim';
import { CardSession } from '@minidriver/core';
import { SimTransport } from '@minidriver/sim';
import {
  CardProperty,
  type Minidriver,
  type MinidriverPlugin,
  PinCachePolicyType,
  ROLE_USER,
  ScardError,
} from '@minidriver/spec';
import { expect, it } from 'vitest';
import { openToken } from '../src/index.js';
import { ADMIN_SECRET, USER_PIN } from './support.js';

/** The PIV plugin, reporting a timed cache of `seconds` for the user PIN. */
function timedPlugin(seconds: number): MinidriverPlugin {
  return {
    ...pivPlugin,
    acquireContext: async (context, flags) => {
      const minidriver = await pivPlugin.acquireContext(context, flags);
      return new Proxy(minidriver, {
        get(target, property) {
          const value = Reflect.get(target, property, target);
          if (property !== 'getProperty') return typeof value === 'function' ? value.bind(target) : value;
          return async (name: string, propertyFlags: number) => {
            const answer = await target.getProperty(name as never, propertyFlags);
            if (name !== CardProperty.CP_CARD_PIN_INFO || propertyFlags !== ROLE_USER) return answer;
            return { ...(answer as object), cachePolicy: { type: PinCachePolicyType.PinCacheTimed, info: seconds } };
          };
        },
      }) as Minidriver;
    },
  };
}

it('a timed PIN is dropped when its time is up and asked again once', async () => {
  const transport = new SimTransport(new PivSimulator({ seed: 'timed' }));
  const session = await CardSession.open(timedPlugin(1), transport);
  let asked = 0;
  const token = await openToken(session, {
    prompt: (request) => {
      if (request.role === 'admin') return ADMIN_SECRET['PIV'];
      asked++;
      return USER_PIN;
    },
  });
  expect((await token.pins()).find((pin) => pin.role === 'user')?.cachePolicy).toEqual({ type: 'timed', seconds: 1 });
  const key = await token.generateKey(0, 'p256');
  const data = new TextEncoder().encode('timed');
  await token.login('user', USER_PIN);
  await key.sign(data);
  await key.sign(data);
  expect(asked).toBe(0);
  await new Promise((resolve) => setTimeout(resolve, 1100));
  expect(verify('sha256', data, key.publicKey, await key.sign(data))).toBe(true);
  expect(asked).toBe(1);
  await key.sign(data);
  expect(asked).toBe(1);
  await session.close();

  // Without a prompt the expired PIN is simply no longer verified: the card's refusal is the answer.
  const bare = await CardSession.open(timedPlugin(1), transport);
  const unprompted = await openToken(bare);
  const [again] = await unprompted.keys();
  await unprompted.login('user', USER_PIN);
  await again?.sign(data);
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const error = await again?.sign(data).catch((caught: unknown) => caught);
  expect(ScardError.hasCode(error, 'SCARD_W_SECURITY_VIOLATION'), String(error)).toBe(true);
  await bare.close();
  await transport.close();
});
