/**
 * Goal: the in-memory test backend meets the S3Backend contract, so end-to-end protocol tests
 * built on it mean what they say. Method: the shared compliance suite (support/backend-compliance.ts),
 * which the erasure-coded backend will also run.
 */
import { systemClock } from '@tessera/common';
import { describeS3BackendCompliance } from './support/backend-compliance';
import { InMemoryS3Backend } from './support/in-memory-backend';

describeS3BackendCompliance('in-memory', async () => ({ backend: new InMemoryS3Backend(systemClock), cleanup: async () => undefined }));
