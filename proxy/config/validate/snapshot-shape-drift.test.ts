// The committed generated validator (generated/snapshot-shape.js) is exactly
// what the zod schema produces now: change the schema, run the generator.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GENERATED_PATH, snapshotShapeSource } from '../../../scripts/gen-snapshot-validator.js';

describe('generated snapshot validator', () => {
  it('matches the zod schema (no drift)', () => {
    const committed = readFileSync(GENERATED_PATH, 'utf8');
    const now = snapshotShapeSource();
    if (committed !== now) {
      throw new Error(`${GENERATED_PATH} is stale: the zod schema (mesh-config-schema.ts) changed. Run \`npm run gen:validator\` and commit the result.`);
    }
    expect(committed).toContain('export const meshConfig');
  });
});
