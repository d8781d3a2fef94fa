import { z } from 'zod';
import { isBlank } from '../domain/blankText.js';
import { parseCompanyNumber } from '../domain/companyNumber.js';
import { type FundIdentity, type FundNameBlock, type Language, placeholderProblem } from '../domain/fundIdentity.js';
import { ConfigError } from '../errors/errors.js';

/**
 * One identity variable: its documented placeholder (used in T and S when the variable is not
 * set) and whether that placeholder can never be the fund's real value (refused in R even when
 * set explicitly). Every variable must be set in R.
 */
interface Placeholder {
  value: string;
  fake: boolean;
}

/** The placeholders, documented in docs/belcotax.md; the lengths are Belcotax's (its brochure and XSD). */
export const FUND_PLACEHOLDERS = {
  MAILLON_FUND_NAME: { value: 'Caisse nationale auxiliaire', fake: false },
  MAILLON_FUND_COMPANY_NUMBER: { value: '0000000097', fake: true },
  MAILLON_FUND_STREET: { value: 'Rue Exemple 1', fake: true },
  MAILLON_FUND_POSTAL_CODE: { value: '1000', fake: false },
  MAILLON_FUND_CITY: { value: 'Bruxelles', fake: false },
  MAILLON_FUND_PHONE: { value: '+3220000000', fake: true },
  MAILLON_FUND_CONTACT: { value: 'Service Belcotax', fake: true },
  MAILLON_FUND_LANGUAGE: { value: 'fr', fake: false },
  MAILLON_FUND_EMAIL: { value: 'belcotax@example.invalid', fake: true },
} as const satisfies Record<string, Placeholder>;

type Required = keyof typeof FUND_PLACEHOLDERS;

/**
 * A value of spaces only is neither unset nor a placeholder: it would be written as the fund's name
 * or contact in a signed file, so it is refused like a bad value (an empty one is read as not set,
 * src/config/config.ts). Checked first: a blank value is not also said to be too long.
 */
const notBlank = (what: string) =>
  z.string().superRefine((v, ctx) => {
    if (isBlank(v)) {
      ctx.addIssue({ code: 'custom', message: `is blank (only spaces or other whitespace), and ${what} needs the fund's real value: set it, or leave the variable unset`, continue: false });
    }
  });

const text = (max: number, what: string) => notBlank(what).max(max, `at most ${max} characters (${what})`);

/** The identity variables, all optional in the environment; merged into the configuration's schema. */
export const fundEnvShape = {
  MAILLON_FUND_NAME: text(28, 'Belcotax a1011_naamnl1').optional(),
  // Parsed here, once: a 9-digit number gets its leading 0, and the 10-digit form is what the files write.
  MAILLON_FUND_COMPANY_NUMBER: z
    .string()
    .transform((v, ctx) => {
      try {
        return parseCompanyNumber(v);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    })
    .optional(),
  MAILLON_FUND_STREET: text(32, 'street and number, Belcotax v0015_adres').optional(),
  MAILLON_FUND_POSTAL_CODE: z
    .string()
    .regex(/^[1-9]\d{3}$/, 'must be a Belgian postal code of 4 digits')
    .optional(),
  MAILLON_FUND_CITY: text(27, 'Belcotax v0017_gemeente').optional(),
  MAILLON_FUND_PHONE: notBlank('Belcotax v0018_telefoonnummer')
    .regex(/^[0-9+ ./()-]{1,12}$/, 'must be a phone number of at most 12 characters (digits, +, spaces, . / ( ) -)')
    .optional(),
  MAILLON_FUND_CONTACT: text(34, 'Belcotax v0021_contactpersoon').optional(),
  MAILLON_FUND_LANGUAGE: z.enum(['nl', 'fr', 'de'], 'must be nl, fr or de').optional(),
  MAILLON_FUND_EMAIL: text(44, 'Belcotax v0023_emailadres')
    .regex(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, 'must be an e-mail address')
    .optional(),
  MAILLON_FUND_NAME_FR: text(28, 'Belcotax a1027_naamfr1').optional(),
  MAILLON_FUND_STREET_FR: text(32, 'Belcotax a1029_adresfr').optional(),
  MAILLON_FUND_CITY_FR: text(27, 'Belcotax a1030_gemeentefr').optional(),
  MAILLON_FUND_NAME_DE: text(28, 'Belcotax a1032_naamde1').optional(),
  MAILLON_FUND_STREET_DE: text(32, 'Belcotax a1034_adresde').optional(),
  MAILLON_FUND_CITY_DE: text(27, 'Belcotax a1035_gemeentede').optional(),
};

/** The identity variables as parsed (each undefined when not set). */
export type FundEnv = { [K in keyof typeof fundEnvShape]?: string | undefined };

/**
 * A further-language block: all three variables or none; the missing ones are named in `problems`
 * (a variable in `refused`, already named as invalid, is not said to be missing too).
 */
function block(env: FundEnv, suffix: 'FR' | 'DE', problems: string[], refused: ReadonlySet<string>): FundNameBlock | null {
  const names = [`MAILLON_FUND_NAME_${suffix}`, `MAILLON_FUND_STREET_${suffix}`, `MAILLON_FUND_CITY_${suffix}`] as const;
  const [name, street, city] = names.map((n) => env[n]);
  if (name === undefined && street === undefined && city === undefined) return null;
  if (name === undefined || street === undefined || city === undefined) {
    const missing = names.filter((n) => env[n] === undefined && !refused.has(n));
    if (missing.length > 0) {
      problems.push(`${missing.join(', ')}: not set, while the ${suffix === 'FR' ? 'French' : 'German'} block is (set all three of ${names.join(', ')} or none)`);
    }
    return null;
  }
  return { name, street, city };
}

/**
 * The fund's identity from the parsed variables: the placeholder of each one not set (T and S),
 * and a sentence for each fault, naming every variable at fault: an incomplete French or German
 * block, and in production (R) a variable not set or set to a placeholder that cannot be real.
 * `refused` are the variables the configuration already refuses as invalid (given here as not
 * set): they are not named again.
 */
export function checkFundIdentity(env: FundEnv, environment: 'R' | 'T' | 'S', refused: ReadonlySet<string> = new Set()): { fund: FundIdentity; problems: string[] } {
  const problems: string[] = [];
  const placeholders: string[] = [];
  const value = (name: Required): string => {
    const set = env[name];
    const p: Placeholder = FUND_PLACEHOLDERS[name];
    if (set === undefined || (p.fake && set === p.value)) placeholders.push(name);
    return set ?? p.value;
  };
  const fund: FundIdentity = {
    name: value('MAILLON_FUND_NAME'),
    companyNumber: value('MAILLON_FUND_COMPANY_NUMBER'),
    street: value('MAILLON_FUND_STREET'),
    postalCode: value('MAILLON_FUND_POSTAL_CODE'),
    city: value('MAILLON_FUND_CITY'),
    phone: value('MAILLON_FUND_PHONE'),
    contact: value('MAILLON_FUND_CONTACT'),
    language: value('MAILLON_FUND_LANGUAGE') as Language,
    email: value('MAILLON_FUND_EMAIL'),
    fr: block(env, 'FR', problems, refused),
    de: block(env, 'DE', problems, refused),
    placeholders,
  };
  const sentences = problems.length > 0 ? [`The fund's identity is incomplete: ${problems.join('; ')}. Fix these environment variables and start again.`] : [];
  const production = environment === 'R' ? placeholderProblem({ ...fund, placeholders: placeholders.filter((n) => !refused.has(n)) }) : null;
  if (production) sentences.push(`${production} MAILLON_ENV is R.`);
  return { fund, problems: sentences };
}

/** The fund's identity from the parsed variables, or a ConfigError naming every variable at fault (checkFundIdentity). */
export function fundIdentityFrom(env: FundEnv, environment: 'R' | 'T' | 'S'): FundIdentity {
  const { fund, problems } = checkFundIdentity(env, environment);
  if (problems.length > 0) throw new ConfigError(problems.join(' '));
  return fund;
}

/** The identity with every documented placeholder (what T and S use when nothing is set). */
export function placeholderFund(): FundIdentity {
  return fundIdentityFrom({}, 'T');
}
