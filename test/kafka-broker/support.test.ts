/**
 * The librdkafka suites' skip-or-fail switch: without the native client they are skipped with
 * the reason, unless WEIR_REQUIRE_LIBRDKAFKA is set (CI), where loading fails loudly instead.
 */
import { describe, expect, it } from 'vitest';
import { loadRdkafka } from './support.js';

describe('loadRdkafka', () => {
  it('skips (null module, with the reason) when the client is missing and not required', () => {
    const r = loadRdkafka('@confluentinc/no-such-client', {});
    expect(r.module).toBeNull();
    expect(r.reason).toContain('@confluentinc/no-such-client is not installed');
    expect(loadRdkafka('@confluentinc/no-such-client', { WEIR_REQUIRE_LIBRDKAFKA: '0' }).module).toBeNull();
  });

  it('throws when WEIR_REQUIRE_LIBRDKAFKA is set and the client is missing', () => {
    expect(() => loadRdkafka('@confluentinc/no-such-client', { WEIR_REQUIRE_LIBRDKAFKA: '1' })).toThrow(
      /WEIR_REQUIRE_LIBRDKAFKA is set/,
    );
  });

  it.runIf(process.env.WEIR_REQUIRE_LIBRDKAFKA)('loads the real client when it is required (CI)', () => {
    expect(loadRdkafka().module).not.toBeNull();
  });
});
