import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { containerIdCandidates } from './own-container.ts';

const A = 'a'.repeat(12) + '0'.repeat(52);
const B = 'b'.repeat(64);

describe('containerIdCandidates', () => {
  it('finds ids in cgroup v1, cgroup v2 mountinfo and cpuset formats', () => {
    const cgroupV1 = `12:cpuset:/docker/${B}\n`;
    const mountinfo = `1234 1 0:1 /var/lib/docker/containers/${A}/hostname /etc/hostname rw - ext4 /dev/sda rw\n`;
    assert.deepEqual(containerIdCandidates([cgroupV1, mountinfo], 'nothost'), [B, A]);
  });
  it('prefers the id that starts with the hostname', () => {
    assert.deepEqual(containerIdCandidates([`${B} ${A}`], 'aaaaaaaaaaaa'), [A, B]);
  });
  it('ignores longer hex runs and finds nothing on a host', () => {
    assert.deepEqual(containerIdCandidates([`${A}ff`, '0::/init.scope'], 'h'), []);
  });
});
