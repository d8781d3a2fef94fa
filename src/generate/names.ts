/** First names per correspondence language, with accents. */
export const FIRST_NAMES = {
  fr: ['Amélie', 'Benoît', 'Céline', 'Élodie', 'François', 'Gaëlle', 'Hélène', 'Jérôme', 'Loïc', 'Noël', 'Thérèse', 'Zoë'],
  nl: ['Anneleen', 'Bart', 'Daan', 'Eline', 'Jef', 'Joëlle', 'Lotte', 'Maarten', 'Noor', 'Pieter', 'Sofie', 'Wout'],
  de: ['Jürgen', 'Günther', 'Anna', 'Lukas', 'Jörg', 'Käthe', 'Sören', 'Lena'],
} as const;

/** Last names, some with `&`, `<`, quotes and apostrophes, as real dossiers have them. */
export const LAST_NAMES = [
  'Dubois',
  'Lambert',
  'Dupont',
  'Peeters',
  'Janssens',
  'Maes',
  'Van den Broeck',
  'De Smet',
  "D'Hondt",
  "O'Neill",
  'Mertens',
  'Willems',
  'Goossens',
  'Wouters',
  'Lefèvre',
  'Lemaître',
  'Müller',
  'Schröder',
  'Çelik',
  'Nguyễn',
  'Dumont & Fils',
  'Lenoir <Jr>',
  'Van "Het" Hof',
  'Claes-Vandenberghe',
  'Śliwa',
  'Dœuf',
] as const;

/** Street names. */
export const STREETS = ['Rue de la Loi', 'Kerkstraat', 'Avenue Louise', 'Stationsstraat', 'Rue du Marché', 'Hauptstraße', 'Grand-Place', 'Dorpsstraat'] as const;

/** Some Belgian localities with their postal codes, covering every region. */
export const LOCALITIES = [
  { postalCode: '1000', city: 'Bruxelles', region: 'brussels' },
  { postalCode: '1050', city: 'Ixelles', region: 'brussels' },
  { postalCode: '1200', city: 'Woluwe-Saint-Lambert', region: 'brussels' },
  { postalCode: '1300', city: 'Wavre', region: 'wallonia' },
  { postalCode: '4000', city: 'Liège', region: 'wallonia' },
  { postalCode: '4700', city: 'Eupen', region: 'wallonia-de' },
  { postalCode: '5000', city: 'Namur', region: 'wallonia' },
  { postalCode: '6000', city: 'Charleroi', region: 'wallonia' },
  { postalCode: '7000', city: 'Mons', region: 'wallonia' },
  { postalCode: '1500', city: 'Halle', region: 'flanders' },
  { postalCode: '2000', city: 'Antwerpen', region: 'flanders' },
  { postalCode: '3000', city: 'Leuven', region: 'flanders' },
  { postalCode: '8000', city: 'Brugge', region: 'flanders' },
  { postalCode: '9000', city: 'Gent', region: 'flanders' },
] as const;

/** Localities abroad (affiliates living outside Belgium). */
export const ABROAD = [
  { postalCode: '75001', city: 'Paris', country: 'FR' },
  { postalCode: '1012 AB', city: 'Amsterdam', country: 'NL' },
  { postalCode: '52062', city: 'Aachen', country: 'DE' },
  { postalCode: 'L-1111', city: 'Luxembourg', country: 'LU' },
  { postalCode: '10001', city: 'New York', country: 'US' },
  // Jersey: no Belgian NIS code in maillon's table, so its bridging-right fiche is quarantined.
  { postalCode: 'JE2 3AB', city: 'St Helier', country: 'JE' },
] as const;

/** Company name stems. */
export const COMPANY_NAMES = ['Boulangerie', 'Bakkerij', 'Consult', 'Atelier', 'Brasserie', 'Tech & Co', 'Bouw <BV>'] as const;
