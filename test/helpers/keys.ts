/**
 * The API keys test configs name: YAML carries the SHA-256 (`apiKeys: [{ sha256: CONSUMER_KEY_SHA256 }]`),
 * a test's request the key itself. `startGateway` registers both keys as secrets for the leak scan.
 */
export const ADMIN_KEY = 'admin-test-key-0123456789abcdef';
export const ADMIN_KEY_SHA256 = '231f02618ecf0a08b732bc17dfc03ae8cfcb6c8db1db704f51a2fde28290beaa';
export const CONSUMER_KEY = 'consumer-test-key-0123456789abcdef';
export const CONSUMER_KEY_SHA256 = '59de312dbf759b10204c7770adb47956b9fd7a2a0485bb13b2c36a80427d26f4';
