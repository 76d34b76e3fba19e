import { describe, expect, it } from 'vitest';
import { parseCsv } from './postgres';

describe("psql's --csv output", () => {
  it('reads rows by column name, as SHOW POOLS prints them', () => {
    const text = 'database,user,cl_waiting,sv_active\ncatalog,buywhere,0,3\npgbouncer,pgbouncer,0,0\n';
    expect(parseCsv(text)).toEqual([
      { database: 'catalog', user: 'buywhere', cl_waiting: '0', sv_active: '3' },
      { database: 'pgbouncer', user: 'pgbouncer', cl_waiting: '0', sv_active: '0' },
    ]);
  });

  it('keeps commas, doubled quotes and newlines inside quoted fields, and empty fields as empty', () => {
    expect(parseCsv('a,b,c\r\n"x,y","say ""hi""","two\nlines"\r\n,,\r\n')).toEqual([
      { a: 'x,y', b: 'say "hi"', c: 'two\nlines' },
      { a: '', b: '', c: '' },
    ]);
  });

  it('a header alone is no rows', () => expect(parseCsv('database,user\n')).toEqual([]));

  it.each([
    ['', /no header/],
    ['a,b\n"open,1\n', /unterminated/],
    ['a,b\n1,2,3\n', /another number of fields/],
  ])('refuses %j', (text, why) => expect(() => parseCsv(text)).toThrow(why));
});
