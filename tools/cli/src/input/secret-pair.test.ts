import { describe, expect, it } from 'vitest';
import { UsageError } from '../parse/usage-error.js';
import { type CredentialSource, createCredentialSource, readSecretPair } from './credentials.js';

describe('readSecretPair (issue #11 item 7)', () => {
  it('wipes the first secret when the second cannot be read', async () => {
    const source = createCredentialSource({ pinStdin: false, pinEnv: 'OLD', newPinEnv: 'MISSING' }, { OLD: '123456' });
    const handed: Uint8Array[] = [];
    const watched: CredentialSource = {
      adminKey: () => source.adminKey(),
      secret: async (label, envOption) => {
        const value = await source.secret(label, envOption);
        handed.push(value);
        return value;
      },
    };
    await expect(
      readSecretPair(watched, ['Current PIN', 'pin-env'], ['New PIN', 'new-pin-env']),
    ).rejects.toBeInstanceOf(UsageError);
    expect(handed).toHaveLength(1);
    expect(Array.from(handed[0] as Uint8Array)).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('returns both secrets when both are there', async () => {
    const source = createCredentialSource(
      { pinStdin: false, pinEnv: 'OLD', newPinEnv: 'NEW' },
      { OLD: '1234', NEW: '5678' },
    );
    const [current, next] = await readSecretPair(source, ['Current PIN', 'pin-env'], ['New PIN', 'new-pin-env']);
    expect(new TextDecoder().decode(current)).toBe('1234');
    expect(new TextDecoder().decode(next)).toBe('5678');
  });
});
