/** Self-employed categories of the dossier. */
export const CATEGORIES = ['main', 'complementary', 'after_pension', 'helper_maxi', 'student'] as const;

/** Their 3-character codes in the XML flows. */
export const CATEGORY_CODE: Record<(typeof CATEGORIES)[number], string> = {
  main: 'MAI',
  complementary: 'COM',
  after_pension: 'PEN',
  helper_maxi: 'HLP',
  student: 'STU',
};
