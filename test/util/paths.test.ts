import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { isInside } from '../../lib/util/paths.ts';

test('isInside: the folder itself and what is below it, not its parent, a sibling or a name that only starts the same', () => {
  const root = path.resolve('/srv/project');
  assert.equal(isInside(root, root), true);
  assert.equal(isInside(path.join(root, 'a', 'b'), root), true);
  assert.equal(isInside(path.join(root, '..foo'), root), true, '"..foo" is a folder name, not a step up');
  assert.equal(isInside(path.dirname(root), root), false);
  assert.equal(isInside(path.resolve('/srv/project-other'), root), false);
  assert.equal(isInside(path.join(root, '..', 'other'), root), false);
});
