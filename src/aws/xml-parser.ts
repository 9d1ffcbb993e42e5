// The AWS SDK's XML parser (@aws-sdk/xml-builder's parseXML, 3.972.43, Apache-2.0), giving the
// same output, but reading each tag name, attribute and text run as one slice of the document.
// The SDK's own reads them a character at a time (`text += x[i++]`): a string object per
// character of every value, about 75 KB per role of a GetAccountAuthorizationDetails page, and most
// of the operator's CPU in a drift sweep (docs/benchmarks.md). The operator's bundle puts this in
// its place (scripts/bundle/options.ts); a unit test holds its output to the SDK's.
//
// A slice of 13 characters or more keeps the whole document in memory while it lives: what is
// kept from a response beyond the call (a sweep's role names, say) is copied out with
// strings.ts flatString.

/** What an element reads as: its text, or an object of its children, attributes and #text. */
export type XmlValue = string | XmlObject;
export interface XmlObject {
  [name: string]: XmlValue | XmlValue[];
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const ENTITY = /&(?:#x([0-9a-fA-F]{1,6})|#(\d{1,7})|([a-zA-Z][a-zA-Z0-9]{0,30}));/g;
const WHITESPACE = ' \t\r\n';
const TAG_NAME_END = ' \t\r\n>/';
const ATTRIBUTE_NAME_END = '= \t\r\n>/?';

export function parseXML(xml: string): XmlObject {
  return new Parser(xml).parse();
}

/** A key named __proto__ as an own property, as the SDK's parser sets it. */
function writeKey(obj: XmlObject): void {
  Object.defineProperty(obj, '__proto__', { value: undefined, writable: true, enumerable: true, configurable: true });
}

function decodeEntities(s: string): string {
  return s.replace(ENTITY, (_, hex: string | undefined, dec: string | undefined, named: string | undefined) => {
    if (hex) return String.fromCharCode(parseInt(hex, 16));
    if (dec) return String.fromCharCode(parseInt(dec, 10));
    return ENTITIES[named ?? ''] ?? '';
  });
}

interface Element {
  tag: string;
  value: XmlValue;
}

/** Whitespace with a line break between elements is layout, not text. */
const isLayout = (text: string) => text.trim() === '' && text.includes('\n');

/** An element's value from its content, as the SDK's parser builds it. */
function elementValue(texts: string[], children: Element[], attrs: XmlObject | undefined): XmlValue {
  if (!attrs && texts.length === 0 && children.length === 0) return '';
  if (!attrs && children.length === 0) {
    const text = texts.length === 1 ? (texts[0] ?? '') : texts.join('');
    return isLayout(text) ? '' : text;
  }
  const obj: XmlObject = {};
  for (const text of texts) {
    if (isLayout(text)) continue;
    const before = obj['#text'];
    obj['#text'] = typeof before === 'string' ? before + text : text;
  }
  for (const child of children) {
    if (child.tag === '__proto__') writeKey(obj);
    // `in`, as the SDK's: a name the prototype has (or an own __proto__) makes a list too.
    if (child.tag in obj) {
      const existing = obj[child.tag];
      if (Array.isArray(existing)) existing.push(child.value);
      else obj[child.tag] = [existing as XmlValue, child.value];
    } else {
      obj[child.tag] = child.value;
    }
  }
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (k === '__proto__') writeKey(obj);
    obj[k] = v;
  }
  return obj;
}

class Parser {
  private readonly x: string;
  private readonly z: number;
  private i = 0;

  constructor(xml: string) {
    this.x = xml.replace(/\r\n?/g, '\n');
    this.z = this.x.length;
  }

  parse(): XmlObject {
    while (this.i < this.z) {
      this.trim();
      if (this.i >= this.z) break;
      if (this.isNext('<?')) {
        this.readTo('?>');
        this.trim();
      } else if (this.isNext('<!--')) {
        this.readTo('-->');
        this.trim();
      } else if (this.isNext('<!DOCTYPE', false)) {
        this.skipDoctype();
        this.trim();
      } else if (this.x[this.i] === '<') {
        const root = this.parseTag();
        return { [root.tag]: root.value };
      } else {
        throw new Error('@aws-sdk XML parse error: unexpected content.');
      }
    }
    throw new Error('@aws-sdk XML parse error: no root element.');
  }

  private isNext(s: string, caseSensitive = true): boolean {
    if (caseSensitive) return this.x.startsWith(s, this.i);
    // The SDK's lowers the whole document (a copy of it, for each look for a DOCTYPE); the same
    // answer but where lowering changes a character's length before `i` (İ), which it misreads.
    return this.x.slice(this.i, this.i + s.length).toLowerCase() === s.toLowerCase();
  }

  private readTo(stop: string): string {
    const at = this.x.indexOf(stop, this.i);
    if (at === -1) throw new Error(`@aws-sdk XML parse error: expected "${stop}" not found.`);
    const result = this.x.slice(this.i, at);
    this.i = at + stop.length;
    return result;
  }

  private trim(): void {
    while (this.i < this.z && WHITESPACE.includes(this.x.charAt(this.i))) ++this.i;
  }

  /** The characters from here to the first of `stops` (or the end), as one slice. */
  private readUntilAny(stops: string): string {
    const start = this.i;
    while (this.i < this.z && !stops.includes(this.x.charAt(this.i))) ++this.i;
    return this.x.slice(start, this.i);
  }

  /** The characters from here to the first `stop` (or the end), as one slice. */
  private readUntil(stop: string): string {
    const at = this.x.indexOf(stop, this.i);
    const end = at === -1 ? this.z : at;
    const result = this.x.slice(this.i, end);
    this.i = end;
    return result;
  }

  private readAttrValue(): string {
    const quote = this.x.charAt(this.i);
    ++this.i;
    const value = this.readUntil(quote);
    ++this.i;
    return decodeEntities(value);
  }

  private parseTag(): Element {
    ++this.i;
    const tag = this.readUntilAny(TAG_NAME_END);
    const attrs = this.readAttributes();
    if (this.i >= this.z) throw new Error('@aws-sdk XML parse error: unexpected end of input.');
    if (this.x[this.i] === '/') {
      ++this.i;
      if (this.i >= this.z || this.x[this.i] !== '>') {
        throw new Error('@aws-sdk XML parse error: expected > at the end of self-closing tag.');
      }
      ++this.i;
      return { tag, value: attrs ?? '' };
    }
    if (this.x[this.i] !== '>') throw new Error('@aws-sdk XML parse error: expected > at the end of opening tag.');
    ++this.i;
    const { texts, children } = this.readContent();
    if (!this.isNext('</')) throw new Error(`@aws-sdk XML parse error: missing closing tag </${tag}>.`);
    this.i += 2;
    const closeTag = this.readTo('>').trim();
    if (closeTag !== tag) throw new Error(`@aws-sdk XML parse error: mismatched tags <${tag}> and </${closeTag}>.`);
    return { tag, value: elementValue(texts, children, attrs) };
  }

  /** The attributes of an opening tag, or undefined when it has none. */
  private readAttributes(): XmlObject | undefined {
    let attrs: XmlObject | undefined;
    while (this.i < this.z) {
      this.trim();
      const c = this.x[this.i];
      if (c !== undefined && '>/'.includes(c)) break;
      const name = this.readUntilAny(ATTRIBUTE_NAME_END);
      this.trim();
      if (this.x[this.i] !== '=') break;
      ++this.i;
      this.trim();
      attrs ??= {};
      if (name === '__proto__') writeKey(attrs);
      attrs[name] = this.readAttrValue();
    }
    return attrs;
  }

  /** An element's text runs (CDATA included) and child elements, up to its closing tag. */
  private readContent(): { texts: string[]; children: Element[] } {
    const texts: string[] = [];
    const children: Element[] = [];
    while (this.i < this.z) {
      if (this.isNext('</')) break;
      if (this.x[this.i] !== '<') texts.push(decodeEntities(this.readUntil('<')));
      else if (this.isNext('<!--')) this.readTo('-->');
      else if (this.isNext('<![CDATA[')) {
        this.i += 9;
        texts.push(this.readTo(']]>'));
      } else if (this.isNext('<?')) this.readTo('?>');
      else children.push(this.parseTag());
    }
    return { texts, children };
  }

  private skipDoctype(): void {
    this.i += 9;
    let depth = 0;
    while (this.i < this.z) {
      const c = this.x[this.i];
      if (c === '[') ++depth;
      else if (c === ']') --depth;
      else if (c === '>' && depth === 0) {
        ++this.i;
        return;
      }
      ++this.i;
    }
    throw new Error('@aws-sdk XML parse error: unclosed DOCTYPE.');
  }
}
