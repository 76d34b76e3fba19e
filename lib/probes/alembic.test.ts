import { describe, expect, it } from 'vitest';
import { heads, parseRevision, path } from './alembic';

const plain = `revision = "0002"\ndown_revision = "0001"\n\ndef upgrade():\n    op.execute("x")\n\n\ndef downgrade():\n    op.execute("y")\n`;
const typed = `revision: str = '0003'\ndown_revision: Union[str, None] = '0002'\n\ndef upgrade() -> None:\n    pass\n\ndef downgrade() -> None:\n    raise NotImplementedError("one way")\n`;
const merge = `revision = "m1"\ndown_revision = ("a", "b")\ndef downgrade():\n    pass\n`;
const root = `revision = '0001'\ndown_revision = None\ndef downgrade():\n    op.drop_table('t')\n`;

describe('alembic revisions', () => {
  it('parses plain and typed syntax, tuples for merges, and whether downgrade is real', () => {
    expect(parseRevision(plain, 'a.py')).toMatchObject({ revision: '0002', downRevisions: ['0001'], reversible: true });
    expect(parseRevision(typed, 'b.py')).toMatchObject({
      revision: '0003',
      downRevisions: ['0002'],
      reversible: false,
    });
    expect(parseRevision(merge, 'c.py')).toMatchObject({
      revision: 'm1',
      downRevisions: ['a', 'b'],
      reversible: false,
    });
    expect(parseRevision(root, 'd.py')).toMatchObject({ revision: '0001', downRevisions: [], reversible: true });
  });

  it('finds heads; several heads show up as several', () => {
    const r = [root, plain, typed].map((s, i) => parseRevision(s, `${i}.py`)!);
    expect(heads(r)).toEqual(['0003']);
    const branch = parseRevision(`revision = "0002b"\ndown_revision = "0001"\n`, 'x.py')!;
    expect(heads([...r, branch]).sort()).toEqual(['0002b', '0003']);
  });

  it('walks the path between a head and an ancestor', () => {
    const r = [root, plain, typed].map((s, i) => parseRevision(s, `${i}.py`)!);
    expect(path(r, '0003', '0001')?.map((x) => x.revision)).toEqual(['0003', '0002']);
    expect(path(r, '0003', 'nope')).toBeUndefined();
  });
});
