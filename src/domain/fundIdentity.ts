/** A correspondence language of the fund or of an affiliate. */
export type Language = 'fr' | 'nl' | 'de';

/** The fund's name and address in a further language (Belcotax's optional French and German blocks). */
export interface FundNameBlock {
  /** At most 28 characters. */
  name: string;
  /** Street and number, at most 32 characters. */
  street: string;
  /** At most 27 characters. */
  city: string;
}

/**
 * The fund's identity as the files that name their sender state it (Belcotax: the sending's
 * header and the declaration). Read from the configuration once (`src/config/fundConfig.ts`);
 * the lengths are Belcotax's, checked there.
 */
export interface FundIdentity {
  /** At most 28 characters (Belcotax a1011_naamnl1). */
  name: string;
  /** KBO/BCE number, 10 digits whose check digits match. */
  companyNumber: string;
  /** Street and number, at most 32 characters. */
  street: string;
  /** Belgian postal code, 4 digits (the fund is in Belgium). */
  postalCode: string;
  /** At most 27 characters. */
  city: string;
  /** At most 12 characters. */
  phone: string;
  /** The person SPF Finances contacts about a sending, at most 34 characters. */
  contact: string;
  language: Language;
  /** At most 44 characters. */
  email: string;
  fr: FundNameBlock | null;
  de: FundNameBlock | null;
  /**
   * The configuration variables whose documented placeholder stands in for the fund's real
   * value (empty once the fund's identity is complete). Allowed in T and S, refused in R.
   */
  placeholders: readonly string[];
}

/** Why this identity may not sign a production (R) file: the placeholders it still holds, or null. */
export function placeholderProblem(fund: FundIdentity): string | null {
  if (fund.placeholders.length === 0) return null;
  return (
    `Production (R) needs the fund's real identity, and ${fund.placeholders.join(', ')} still hold the documented placeholder: ` +
    "set them to the fund's real values (placeholders are allowed in T and S only)."
  );
}
