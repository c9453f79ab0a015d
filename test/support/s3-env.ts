/**
 * The standard AWS environment that points a child process (a fixture, the CLI) at a test S3
 * server: endpoint, static credentials and region, with anything that could override them
 * (AWS_ENDPOINT_URL_S3, a profile, a session token) unset, and the AWS SDK's Node-version
 * warning silenced so children's stderr stays empty. For `runFixture(..., { env })`.
 */
import type { S3Connection } from '@weir/storage-s3/testing';

export function s3ChildEnv(connection: S3Connection): Record<string, string | undefined> {
  return {
    AWS_ENDPOINT_URL: connection.endpoint,
    AWS_ACCESS_KEY_ID: connection.accessKeyId,
    AWS_SECRET_ACCESS_KEY: connection.secretAccessKey,
    AWS_REGION: connection.region,
    AWS_ENDPOINT_URL_S3: undefined,
    AWS_DEFAULT_REGION: undefined,
    AWS_PROFILE: undefined,
    AWS_SESSION_TOKEN: undefined,
    AWS_MAX_ATTEMPTS: undefined,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}
