/** A value the engine may place into an extraction query: only typed scalars, never free text. */
export type SqlValue = string | number | boolean | null;

/**
 * Replaces `:name` placeholders by SQL literals. COPY (query) TO STDOUT takes no bind
 * parameters, so the values (period bounds, as-of day: typed by the engine) are quoted
 * here with PostgreSQL's literal rules. A placeholder without a value is an error.
 */
export function bindSql(sql: string, params: Readonly<Record<string, SqlValue>>): string {
  return sql.replace(/(?<!:):([a-zA-Z][a-zA-Z0-9_]*)/g, (_m, name: string) => {
    if (!(name in params)) throw new Error(`the extraction query uses :${name}, which the engine does not provide`);
    return literal(params[name]!);
  });
}

function literal(value: SqlValue): string {
  if (value === null) return 'NULL';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`);
    return String(value);
  }
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  return `'${value.replace(/'/g, "''")}'`;
}
