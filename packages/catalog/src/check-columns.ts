import { q } from './catalog';
import type { LiveColumn, LiveTable } from './introspect';
import { charCapacity, enumValues, KIND_TEXT, KINDS, type ColumnNeed } from './needs';
import type { CatalogReport } from './report';

// A mapped column of the app's table against what Tally needs of it: a match, a problem only the app
// team can fix, or an additive ADD COLUMN `tally adopt apply` may run.

/**
 * ADD COLUMN/ADD INDEX with LOCK=NONE: the server does it instantly or online, or refuses at once
 * (naming why) instead of locking the app's table for the length of a copy.
 */
export const online = (sql: string) => `${sql}, LOCK=NONE`;

export function checkColumn(report: CatalogReport, table: LiveTable, need: ColumnNeed, qualified: string): void {
  const live = table.columns.get(need.column);
  const at = `${table.name}.${need.column}`;
  if (!live && need.add) {
    report.ddl.push({
      part: need.part,
      table: table.name,
      objectKind: 'column',
      objectName: need.column,
      sql: online(`ALTER TABLE ${qualified} ADD COLUMN ${q(need.column)} ${need.add}`),
      why: `${need.path} is written by Tally`,
    });
    return;
  }
  const issue = live
    ? columnIssue(table, need, live, qualified)
    : {
        rule: 'missing_column',
        message: 'does not exist',
        fix: `map ${need.path} to the app's column${need.optional ? ', or to null' : ''}`,
      };
  if (issue)
    report.problems.push({
      part: need.part,
      table: table.name,
      column: need.column,
      rule: issue.rule,
      message: `${at} (${need.path}) ${issue.message}`,
      fix: issue.fix,
    });
  else report.matches.push(`${at} (${need.path}, ${live!.columnType})`);
}

/** The first way an existing column falls short of what Tally needs of it, or null. */
function columnIssue(
  table: LiveTable,
  need: ColumnNeed,
  live: LiveColumn,
  qualified: string,
): { rule: string; message: string; fix: string } | null {
  const col = q(need.column);
  if (!KINDS[need.kind].includes(live.dataType)) {
    return {
      rule: 'type',
      message: `is ${live.columnType}, Tally needs ${KIND_TEXT[need.kind]}`,
      fix: `map ${need.path} to a column of ${KIND_TEXT[need.kind]}`,
    };
  }
  if (need.notNull && live.nullable) {
    return {
      rule: 'nullable',
      message: 'allows NULL: Tally adds to it, and NULL + 1 stays NULL',
      fix: `in the app: UPDATE ${qualified} SET ${col} = 0 WHERE ${col} IS NULL, then ALTER TABLE ${qualified} MODIFY ${col} ${live.columnType} NOT NULL DEFAULT 0 (Tally never rewrites an app column)`,
    };
  }
  if (need.signed && live.columnType.includes('unsigned')) {
    return {
      rule: 'signed',
      message: `is ${live.columnType}: Tally adds negative deltas (unlikes), and a sum below 0 fails the whole flush on every retry`,
      fix: `in the app: ALTER TABLE ${qualified} MODIFY ${col} ${live.columnType.replace(/\s*unsigned/, '')} NOT NULL DEFAULT 0, or map ${need.path} to a new column (Tally adds it)`,
    };
  }
  const capacity = charCapacity(live.columnType, live.dataType);
  if (need.minChars !== undefined && capacity < need.minChars) {
    return {
      rule: 'length',
      message: `holds ${capacity} characters, Tally writes up to ${need.minChars}`,
      fix: `widen it in the app to VARCHAR(${need.minChars}), or map ${need.path} to null`,
    };
  }
  const allowed = enumValues(live.columnType);
  const absent = need.values && allowed ? need.values.filter((v) => !allowed.some((a) => a.toLowerCase() === v.toLowerCase())) : [];
  if (absent.length > 0) {
    return {
      rule: 'values',
      message: `is ${live.columnType} and cannot hold ${absent.map((v) => `'${v}'`).join(', ')}: no row would ever match`,
      fix: `set ${need.valuesPath ?? need.path} to the values the app stores, or add them to the ENUM in the app`,
    };
  }
  if (need.unique && !table.indexes.some((i) => i.unique && i.columns.length === 1 && i.columns[0] === need.column)) {
    return {
      rule: 'unique_key',
      message: 'is not a primary or unique key by itself: Tally addresses one row by it',
      fix: `map ${need.path} to the app's primary key`,
    };
  }
  return null;
}
