import { describe, expect, it } from 'vitest';
import { taskImageId } from './swarm-orchestrator';

const digest = `sha256:${'a'.repeat(64)}`;

describe('taskImageId: the image a Swarm task runs, never read from a movable tag', () => {
  it("is the container's image id when the container could be inspected", () => {
    expect(taskImageId('sha256:running', `buywhere-api:sha-abc@${digest}`)).toBe('sha256:running');
  });
  it('is the reference the task spec pins by digest when the container could not be inspected', () => {
    expect(taskImageId(undefined, `127.0.0.1:15000/buywhere-api:sha-abc@${digest}`)).toBe(
      `127.0.0.1:15000/buywhere-api:sha-abc@${digest}`,
    );
  });
  it('is unknown for a spec that names a tag only: the tag may point at another build by now', () => {
    expect(taskImageId(undefined, 'buywhere-api:sha-abc')).toBe('unknown');
    expect(taskImageId(undefined, `buywhere-api:sha-abc@sha256:short`)).toBe('unknown');
    expect(taskImageId(undefined, undefined)).toBe('unknown');
  });
});
