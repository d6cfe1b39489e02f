import { httpEdgesSuite } from './suites/http-edges.js';

httpEdgesSuite('node-http', 'node:http');
httpEdgesSuite('fastify', 'Fastify');
httpEdgesSuite('express', 'Express 5');
httpEdgesSuite('express', 'Express 5 behind express.json()', { hostJsonParser: true });
