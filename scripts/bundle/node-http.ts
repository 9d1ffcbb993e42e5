// node:http for the operator's bundle, loaded through require(). Importing it as an ES module
// makes Node build the module's namespace from every export, and three of them (WebSocket,
// CloseEvent, MessageEvent) are getters that load Node's internal copy of undici: 745 KB of source
// and its module graph, in the heap of a process that never opens a WebSocket.
import { createRequire } from 'node:module';

const http = createRequire(import.meta.url)('node:http') as typeof import('node:http');

export default http;
export const {
  Agent,
  ClientRequest,
  IncomingMessage,
  METHODS,
  OutgoingMessage,
  STATUS_CODES,
  Server,
  ServerResponse,
  createServer,
  get,
  request,
} = http;
