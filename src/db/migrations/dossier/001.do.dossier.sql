-- The dossier data of the CSV contract (shared/dossier-csv.md). Pipelines only read this schema.
CREATE TABLE dossier.affiliates (
  affiliate_id text PRIMARY KEY,
  inss         text NOT NULL CHECK (inss ~ '^[0-9]{11}$'),
  last_name    text NOT NULL,
  first_name   text NOT NULL,
  birth_date   date NOT NULL,
  sex          text NOT NULL CHECK (sex IN ('M', 'F', 'X')),
  language     text NOT NULL CHECK (language IN ('fr', 'nl', 'de')),
  street       text NOT NULL,
  postal_code  text NOT NULL,
  city         text NOT NULL,
  country      text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
  iban         text
);

CREATE TABLE dossier.activity_periods (
  affiliate_id   text NOT NULL REFERENCES dossier.affiliates,
  kind           text NOT NULL CHECK (kind IN ('activity', 'assimilation_sickness', 'continued_insurance')),
  category       text CHECK (category IN ('main', 'complementary', 'after_pension', 'helper_maxi', 'student')),
  start_date     date NOT NULL,
  end_date       date,
  company_number text CHECK (company_number ~ '^[0-9]{10}$')
);
CREATE INDEX activity_periods_affiliate ON dossier.activity_periods (affiliate_id);

CREATE TABLE dossier.mutuality_affiliations (
  affiliate_id text NOT NULL REFERENCES dossier.affiliates,
  insurer_code text NOT NULL CHECK (insurer_code IN ('100', '200', '300', '400', '500', '600', '900')),
  valid_from   date NOT NULL,
  valid_to     date
);
CREATE INDEX mutuality_affiliations_affiliate ON dossier.mutuality_affiliations (affiliate_id);

CREATE TABLE dossier.contributions (
  contribution_id        text PRIMARY KEY,
  affiliate_id           text NOT NULL REFERENCES dossier.affiliates,
  quarter                text NOT NULL CHECK (quarter ~ '^[0-9]{4}-Q[1-4]$'),
  kind                   text NOT NULL CHECK (kind IN ('provisional', 'regularisation', 'increase')),
  reference_income_cents bigint,
  amount_cents           bigint NOT NULL,
  due_date               date NOT NULL
);
CREATE INDEX contributions_affiliate ON dossier.contributions (affiliate_id);
CREATE INDEX contributions_quarter ON dossier.contributions (quarter);

CREATE TABLE dossier.payments (
  payment_id      text PRIMARY KEY,
  affiliate_id    text NOT NULL REFERENCES dossier.affiliates,
  contribution_id text REFERENCES dossier.contributions,
  kind            text NOT NULL CHECK (kind IN ('payment', 'refund')),
  amount_cents    bigint NOT NULL CHECK (amount_cents > 0),
  value_date      date NOT NULL,
  structured_ref  text
);
CREATE INDEX payments_affiliate ON dossier.payments (affiliate_id);
CREATE INDEX payments_contribution ON dossier.payments (contribution_id);

CREATE TABLE dossier.allowances (
  allowance_id text PRIMARY KEY,
  affiliate_id text NOT NULL REFERENCES dossier.affiliates,
  kind         text NOT NULL CHECK (kind IN ('bridging_right', 'maternity_vouchers', 'family_allowance')),
  month        text NOT NULL CHECK (month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
  amount_cents bigint,
  vouchers     integer,
  child_inss   text CHECK (child_inss ~ '^[0-9]{11}$'),
  paid_on      date
);
CREATE INDEX allowances_affiliate ON dossier.allowances (affiliate_id);
CREATE INDEX allowances_month ON dossier.allowances (month);

CREATE TABLE dossier.companies (
  company_number      text NOT NULL CHECK (company_number ~ '^[0-9]{10}$'),
  name                text NOT NULL,
  year                integer NOT NULL,
  balance_total_cents bigint NOT NULL,
  amount_cents        bigint NOT NULL,
  paid_cents          bigint NOT NULL,
  paid_on             date,
  PRIMARY KEY (company_number, year)
);
