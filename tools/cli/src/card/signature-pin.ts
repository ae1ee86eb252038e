/**
 * @module The PIN a card wants verified right before every signature with a container: the container's
 * CCP_PIN_IDENTIFIER, when that PIN's PIN_INFO cache policy is PinCacheAlwaysPrompt (an OpenPGP card with
 * "PW1 valid for one signature" reports its signature PIN so). Read from the contract, not per card.
 */
import {
  CardProperty,
  type CardSession,
  ContainerProperty,
  PinCachePolicyType,
  type PinId,
  ScardError,
} from '@minidriver/core';

/** The PIN id to verify before each signature with container `index`, or undefined when a verified PIN lasts. */
export async function pinBeforeEachSignature(session: CardSession, index: number): Promise<PinId | undefined> {
  let pinId: PinId;
  try {
    pinId = await session.getContainerProperty(index, ContainerProperty.CCP_PIN_IDENTIFIER);
  } catch (error) {
    // A plugin without the property (CARD_DATA < 6 callers) has one user PIN that stays verified.
    if (
      ScardError.hasCode(error, 'SCARD_E_UNSUPPORTED_FEATURE') ||
      ScardError.hasCode(error, 'SCARD_E_INVALID_PARAMETER')
    )
      return undefined;
    throw error;
  }
  const info = await session.getProperty(CardProperty.CP_CARD_PIN_INFO, pinId);
  return info.cachePolicy.type === PinCachePolicyType.PinCacheAlwaysPrompt ? pinId : undefined;
}
