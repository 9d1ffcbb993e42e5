// @aws-sdk/xml-builder in the operator's bundle: the SDK's XmlNode and XmlText, and the parseXML
// of src/aws/xml-parser.ts in place of its own (the same output, read a slice per value instead
// of a character at a time).
export { XmlNode, XmlText } from '@aws-sdk/xml-builder';
export { parseXML } from '../../src/aws/xml-parser.ts';
