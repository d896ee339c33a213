import fc from 'fast-check';
import { newRequestId, requestIdFor } from '../../../src/adapters/request-id';
import { findRequestId, isRequestId, parseRequestId, REQUEST_ID, REQUEST_ID_ALPHABET, requestIdFromBytes } from '../../../src/domain/request-id';

describe('daily-use: one module owns the request-id format', () => {
  test('every id Timebox makes, random or from a Slack interaction, is "R-" and 10 Crockford base32 characters, and the same interaction always gives the same id', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 10, maxLength: 32 }), (bytes) => isRequestId(requestIdFromBytes(bytes))),
      { numRuns: 500 },
    );
    for (let i = 0; i < 50; i++) expect(newRequestId()).toMatch(REQUEST_ID);
    expect(requestIdFor('trigger-1')).toBe(requestIdFor('trigger-1'));
    expect(requestIdFor('trigger-1')).not.toBe(requestIdFor('trigger-2'));
    expect(REQUEST_ID_ALPHABET).toHaveLength(32);
    expect(REQUEST_ID_ALPHABET).not.toMatch(/[ILOU]/);
  });

  test('an id typed in any case, with spaces around it, reads as the id; anything else (too short, I/L/O/U, no "R-") is not an id', () => {
    expect(parseRequestId(' r-0123456789 ')).toBe('R-0123456789');
    expect(parseRequestId('R-abcdefghjk')).toBe('R-ABCDEFGHJK');
    for (const typed of [undefined, '', 'R-012345678', 'R-01234567890', 'R-OOOOOOOOOO', 'R-IIIIIIIIII', 'R-LUUUUUUUUU', '0123456789', 'X-0123456789', 'R-01234 6789']) {
      expect(parseRequestId(typed)).toBeUndefined();
    }
  });

  test('the id in a reply or message Timebox wrote is found; one glued into a longer word is not', () => {
    expect(findRequestId(':inbox_tray: Request `R-31WN28WFDZ`: *ReadOnly* on *staging*')).toBe('R-31WN28WFDZ');
    expect(findRequestId('{"value":"R-ED468DFAT1"}')).toBe('R-ED468DFAT1');
    expect(findRequestId('nothing here')).toBeUndefined();
    expect(findRequestId(undefined)).toBeUndefined();
    expect(findRequestId('XR-0123456789 R-0123456789A')).toBeUndefined();
  });
});
