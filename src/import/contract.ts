/**
 * How csv-parse reads a contract file, on both import paths (they must read it alike): RFC 4180,
 * a UTF-8 BOM dropped, empty lines skipped, a record with the wrong number of fields kept so that
 * it can be reported.
 */
export const CSV_READING = { bom: true, relax_column_count: true, skip_empty_lines: true } as const;

/** Column types of the dossier CSV contract (docs/dossier-csv.md). */
export type ColumnType =
  | { kind: 'text'; maxBytes?: number }
  | { kind: 'digits'; length: number }
  | { kind: 'date' }
  | { kind: 'month' }
  | { kind: 'quarter' }
  | { kind: 'integer'; min?: number }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'country' };

/** One column: its CSV header name, type, whether empty (NULL) is allowed, and its SQL type. */
export interface ColumnSpec {
  name: string;
  type: ColumnType;
  nullable: boolean;
  sqlType: string;
}

/** A reference from a column to the key of another file. */
export interface ReferenceSpec {
  column: string;
  table: string;
  targetColumn: string;
}

/** One file of the contract and the dossier table it fills. */
export interface TableSpec {
  file: string;
  table: string;
  columns: readonly ColumnSpec[];
  /** Columns that together are unique in the file. */
  key?: readonly string[];
  references: readonly ReferenceSpec[];
  required: boolean;
}

/**
 * The longest identifier (a key or a reference: affiliate_id, contribution_id…) the import takes,
 * in UTF-8 bytes. Every identifier is in a btree index of the dossier (its key, a reference's
 * index), whose entry holds at most 2,704 bytes: a text of up to 2,692 bytes (an 8-byte entry
 * header and a 4-byte length before it; COLLATE "C" stores nothing more). A longer one failed the
 * whole import without a line. 2,600 leaves room for the statistics flow's `contribution:` prefix
 * in the ledger's lineage and for a short second column should an index ever pair one.
 */
export const KEY_MAX_BYTES = 2600;

const text = (name: string, nullable = false): ColumnSpec => ({ name, type: { kind: 'text' }, nullable, sqlType: 'text' });
/** Text that is a key or a reference: indexed, so at most KEY_MAX_BYTES long. */
const id = (name: string, nullable = false): ColumnSpec => ({ name, type: { kind: 'text', maxBytes: KEY_MAX_BYTES }, nullable, sqlType: 'text' });
const date = (name: string, nullable = false): ColumnSpec => ({ name, type: { kind: 'date' }, nullable, sqlType: 'date' });
const cents = (name: string, nullable = false, min?: number): ColumnSpec => ({
  name,
  type: min === undefined ? { kind: 'integer' } : { kind: 'integer', min },
  nullable,
  sqlType: 'bigint',
});
const oneOf = (name: string, values: readonly string[], nullable = false): ColumnSpec => ({
  name,
  type: { kind: 'enum', values },
  nullable,
  sqlType: 'text',
});
const digits = (name: string, length: number, nullable = false): ColumnSpec => ({
  name,
  type: { kind: 'digits', length },
  nullable,
  sqlType: 'text',
});
const INSURER_CODES = ['100', '200', '300', '400', '500', '600', '900'] as const;
const affiliateRef: ReferenceSpec = { column: 'affiliate_id', table: 'affiliates', targetColumn: 'affiliate_id' };

/** The contract, in import order (referenced files first). */
export const CONTRACT: readonly TableSpec[] = [
  {
    file: 'affiliates.csv',
    table: 'affiliates',
    required: true,
    key: ['affiliate_id'],
    references: [],
    columns: [
      id('affiliate_id'),
      digits('inss', 11),
      text('last_name'),
      text('first_name'),
      date('birth_date'),
      oneOf('sex', ['M', 'F', 'X']),
      oneOf('language', ['fr', 'nl', 'de']),
      text('street'),
      text('postal_code'),
      text('city'),
      { name: 'country', type: { kind: 'country' }, nullable: false, sqlType: 'text' },
      text('iban', true),
    ],
  },
  {
    file: 'activity_periods.csv',
    table: 'activity_periods',
    required: false,
    references: [affiliateRef],
    columns: [
      id('affiliate_id'),
      oneOf('kind', ['activity', 'assimilation_sickness', 'continued_insurance']),
      oneOf('category', ['main', 'complementary', 'after_pension', 'helper_maxi', 'student'], true),
      date('start_date'),
      date('end_date', true),
      digits('company_number', 10, true),
    ],
  },
  {
    file: 'mutuality_affiliations.csv',
    table: 'mutuality_affiliations',
    required: false,
    references: [affiliateRef],
    columns: [id('affiliate_id'), oneOf('insurer_code', INSURER_CODES), date('valid_from'), date('valid_to', true)],
  },
  {
    file: 'contributions.csv',
    table: 'contributions',
    required: false,
    key: ['contribution_id'],
    references: [affiliateRef],
    columns: [
      id('contribution_id'),
      id('affiliate_id'),
      { name: 'quarter', type: { kind: 'quarter' }, nullable: false, sqlType: 'text' },
      oneOf('kind', ['provisional', 'regularisation', 'increase']),
      cents('reference_income_cents', true),
      cents('amount_cents'),
      date('due_date'),
    ],
  },
  {
    file: 'payments.csv',
    table: 'payments',
    required: false,
    key: ['payment_id'],
    references: [affiliateRef, { column: 'contribution_id', table: 'contributions', targetColumn: 'contribution_id' }],
    columns: [
      id('payment_id'),
      id('affiliate_id'),
      id('contribution_id', true),
      oneOf('kind', ['payment', 'refund']),
      cents('amount_cents', false, 1),
      date('value_date'),
      text('structured_ref', true),
    ],
  },
  {
    file: 'allowances.csv',
    table: 'allowances',
    required: false,
    key: ['allowance_id'],
    references: [affiliateRef],
    columns: [
      id('allowance_id'),
      id('affiliate_id'),
      oneOf('kind', ['bridging_right', 'maternity_vouchers', 'family_allowance']),
      { name: 'month', type: { kind: 'month' }, nullable: false, sqlType: 'text' },
      cents('amount_cents', true),
      { name: 'vouchers', type: { kind: 'integer', min: 0 }, nullable: true, sqlType: 'integer' },
      digits('child_inss', 11, true),
      date('paid_on', true),
    ],
  },
  {
    file: 'companies.csv',
    table: 'companies',
    required: false,
    key: ['company_number', 'year'],
    references: [],
    columns: [
      digits('company_number', 10),
      text('name'),
      { name: 'year', type: { kind: 'integer', min: 1900 }, nullable: false, sqlType: 'integer' },
      cents('balance_total_cents'),
      cents('amount_cents'),
      cents('paid_cents'),
      date('paid_on', true),
    ],
  },
  {
    // Optional, added with incapacity-attestations: the mutual insurers' requests.
    file: 'incapacity_requests.csv',
    table: 'incapacity_requests',
    required: false,
    key: ['request_id'],
    references: [affiliateRef],
    columns: [id('request_id'), id('affiliate_id'), oneOf('insurer_code', INSURER_CODES), date('requested_on'), date('incapacity_start')],
  },
];
