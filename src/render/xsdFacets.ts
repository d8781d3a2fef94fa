import { readFileSync } from 'node:fs';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';

const XSD_NAMESPACE = 'http://www.w3.org/2001/XMLSchema';

/** How a type treats whitespace before its facets apply (XML Schema's whiteSpace facet). */
export type WhiteSpace = 'preserve' | 'replace' | 'collapse';

/**
 * The facets of a simple type, its derivation steps merged: what a value must satisfy. Lengths
 * count characters (code points); `patterns` holds one list per derivation step (a value must
 * match one pattern of every step); bounds are lexical values as the schema writes them.
 */
export interface SimpleTypeFacets {
  /** The built-in type it derives from (`string`, `long`, `date`…), or `list`/`union`, which are not read. */
  builtin: string;
  whiteSpace: WhiteSpace;
  length?: number;
  minLength?: number;
  maxLength?: number;
  patterns: string[][];
  enumeration?: string[];
  totalDigits?: number;
  fractionDigits?: number;
  minInclusive?: string;
  maxInclusive?: string;
  minExclusive?: string;
  maxExclusive?: string;
}

/** What a schema (with what it includes) declares: every element name and the facets of its simple type. */
export interface SchemaElements {
  /**
   * Element name → the distinct types it is declared with (usually one; Belcotax's country of
   * residence has one in each branch of a choice): the facets of a simple type, or null for a
   * complex type (or no type).
   */
  elements: Map<string, (SimpleTypeFacets | null)[]>;
}

type Node = Record<string, unknown>;
interface Doc {
  file: string;
  /** Prefix bound to the XML Schema namespace in this document ('' when it is the default one). */
  xs: string;
}
interface Named {
  node: Node;
  doc: Doc;
}

const parser = new XMLParser({ preserveOrder: true, ignoreAttributes: false, attributeNamePrefix: '', parseAttributeValue: false, parseTagValue: false });

const STRING_LIKE = new Set(['string', 'normalizedString', 'token', 'language', 'Name', 'NCName', 'NMTOKEN', 'ID', 'IDREF', 'ENTITY', 'anyURI']);
const BUILTINS = new Set([
  ...STRING_LIKE,
  'anyType',
  'anySimpleType',
  'boolean',
  'decimal',
  'float',
  'double',
  'duration',
  'dateTime',
  'time',
  'date',
  'gYearMonth',
  'gYear',
  'gMonthDay',
  'gDay',
  'gMonth',
  'hexBinary',
  'base64Binary',
  'QName',
  'NOTATION',
  'integer',
  'nonPositiveInteger',
  'negativeInteger',
  'long',
  'int',
  'short',
  'byte',
  'nonNegativeInteger',
  'unsignedLong',
  'unsignedInt',
  'unsignedShort',
  'unsignedByte',
  'positiveInteger',
  'NMTOKENS',
  'IDREFS',
  'ENTITIES',
]);

/**
 * Reads an XSD and every schema it includes or imports (a few kB each, at load), and returns the
 * facets of every element's simple type: xs:simpleType / xs:restriction chains down to a
 * built-in type, with the facets the engine checks (lengths, patterns, enumerations, digits,
 * bounds, whiteSpace). Throws when a file cannot be read or names a type it does not define.
 */
export function readSchemaElements(xsdPath: string): SchemaElements {
  const simpleTypes = new Map<string, Named>();
  const complexTypes = new Set<string>();
  const globalElements = new Map<string, Named>();
  const declarations: Named[] = [];
  const seen = new Set<string>();
  const load = (file: string): void => {
    const abs = path.resolve(file);
    if (seen.has(abs)) return;
    seen.add(abs);
    const tree = parser.parse(readFileSync(abs, 'utf8')) as Node[];
    const root = tree.find((n) => tagOf(n).endsWith('schema'));
    if (!root) throw new Error(`${abs} is not an XML Schema`);
    const doc: Doc = { file: abs, xs: prefixOf(root) };
    for (const child of childrenOf(root)) {
      const tag = localTag(child, doc);
      const name = attr(child, 'name');
      if (tag === 'include' || tag === 'import' || tag === 'redefine') {
        const location = attr(child, 'schemaLocation');
        if (location) load(path.join(path.dirname(abs), location));
      } else if (tag === 'simpleType' && name) simpleTypes.set(name, { node: child, doc });
      else if (tag === 'complexType' && name) complexTypes.add(name);
      else if (tag === 'element' && name) globalElements.set(name, { node: child, doc });
    }
    walk(root, doc, (n) => declarations.push({ node: n, doc }));
  };
  load(xsdPath);

  const resolving = new Set<string>();
  const named = (qname: string, doc: Doc): SimpleTypeFacets | null => {
    const [prefix, local] = splitQName(qname);
    if (prefix === doc.xs && (doc.xs !== '' || BUILTINS.has(local))) return builtinFacets(local);
    if (complexTypes.has(local)) return null;
    const def = simpleTypes.get(local);
    if (!def) throw new Error(`${doc.file}: type ${qname} is not defined`);
    if (resolving.has(local)) throw new Error(`${doc.file}: type ${qname} derives from itself`);
    resolving.add(local);
    try {
      return simpleTypeFacets(def.node, def.doc, named);
    } finally {
      resolving.delete(local);
    }
  };

  const elements = new Map<string, (SimpleTypeFacets | null)[]>();
  for (const { node, doc } of declarations) {
    const ref = attr(node, 'ref');
    const target = ref ? globalElements.get(splitQName(ref)[1]) : { node, doc };
    if (!target) throw new Error(`${doc.file}: element ${ref} is not defined`);
    const name = attr(target.node, 'name')!;
    const facets = elementFacets(target.node, target.doc, named);
    const known = elements.get(name) ?? [];
    if (!known.some((k) => JSON.stringify(k) === JSON.stringify(facets))) elements.set(name, [...known, facets]);
  }
  return { elements };
}

/** The facets of an element's simple type: its `type`, or its inline xs:simpleType; null when complex. */
function elementFacets(node: Node, doc: Doc, named: (q: string, d: Doc) => SimpleTypeFacets | null): SimpleTypeFacets | null {
  const type = attr(node, 'type');
  if (type) return named(type, doc);
  const inline = childrenOf(node).find((c) => localTag(c, doc) === 'simpleType');
  return inline ? simpleTypeFacets(inline, doc, named) : null;
}

function simpleTypeFacets(node: Node, doc: Doc, named: (q: string, d: Doc) => SimpleTypeFacets | null): SimpleTypeFacets {
  const step = childrenOf(node).find((c) => ['restriction', 'list', 'union'].includes(localTag(c, doc)));
  if (!step) throw new Error(`${doc.file}: a simple type without restriction, list or union`);
  const kind = localTag(step, doc);
  if (kind !== 'restriction') return { builtin: kind, whiteSpace: 'collapse', patterns: [] };
  const base = attr(step, 'base');
  const inline = childrenOf(step).find((c) => localTag(c, doc) === 'simpleType');
  const from = base ? named(base, doc) : inline ? simpleTypeFacets(inline, doc, named) : null;
  if (!from) throw new Error(`${doc.file}: a restriction of a complex type in a simple type`);
  const out: SimpleTypeFacets = { ...from, patterns: [...from.patterns] };
  const patterns: string[] = [];
  const values: string[] = [];
  for (const facet of childrenOf(step)) {
    const tag = localTag(facet, doc);
    const value = attr(facet, 'value');
    if (value === undefined) continue;
    if (tag === 'pattern') patterns.push(value);
    else if (tag === 'enumeration') values.push(value);
    else if (tag === 'whiteSpace') out.whiteSpace = value as WhiteSpace;
    else if (tag === 'length' || tag === 'minLength' || tag === 'maxLength' || tag === 'totalDigits' || tag === 'fractionDigits') out[tag] = Number(value);
    else if (tag === 'minInclusive' || tag === 'maxInclusive' || tag === 'minExclusive' || tag === 'maxExclusive') out[tag] = value;
  }
  if (patterns.length > 0) out.patterns.push(patterns);
  if (values.length > 0) out.enumeration = values;
  return out;
}

/** A built-in type as the root of a derivation; null for anyType (no simple content to check). */
function builtinFacets(local: string): SimpleTypeFacets | null {
  if (local === 'anyType') return null;
  const whiteSpace: WhiteSpace = local === 'string' ? 'preserve' : local === 'normalizedString' ? 'replace' : 'collapse';
  return { builtin: local, whiteSpace, patterns: [] };
}

/** True for the built-in types whose values are text (length facets count characters). */
export function isStringLike(builtin: string): boolean {
  return STRING_LIKE.has(builtin);
}

/** Calls `visit` for every xs:element declared in the tree (global or local). */
function walk(node: Node, doc: Doc, visit: (n: Node) => void): void {
  for (const child of childrenOf(node)) {
    if (localTag(child, doc) === 'element') visit(child);
    walk(child, doc, visit);
  }
}

function tagOf(node: Node): string {
  return Object.keys(node).find((k) => k !== ':@') ?? '';
}

function localTag(node: Node, doc: Doc): string {
  const tag = tagOf(node);
  return doc.xs === '' ? tag : tag.startsWith(`${doc.xs}:`) ? tag.slice(doc.xs.length + 1) : `{other}${tag}`;
}

function childrenOf(node: Node): Node[] {
  const value = node[tagOf(node)];
  return Array.isArray(value) ? (value as Node[]) : [];
}

function attr(node: Node, name: string): string | undefined {
  return (node[':@'] as Record<string, string> | undefined)?.[name];
}

function prefixOf(root: Node): string {
  const attrs = (root[':@'] as Record<string, string> | undefined) ?? {};
  for (const [k, v] of Object.entries(attrs)) if (v === XSD_NAMESPACE && k.startsWith('xmlns')) return k === 'xmlns' ? '' : k.slice('xmlns:'.length);
  return tagOf(root).includes(':') ? tagOf(root).split(':')[0]! : '';
}

function splitQName(qname: string): [string, string] {
  const i = qname.indexOf(':');
  return i === -1 ? ['', qname] : [qname.slice(0, i), qname.slice(i + 1)];
}
